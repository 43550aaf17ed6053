"""Reading a posted form in a dependency, so the handler can be a plain (thread-pool) def."""

from fastapi import Request


async def posted_form(request: Request) -> dict[str, str]:
    """The form fields of the request body (file uploads left out)."""
    return {key: value for key, value in (await request.form()).items() if isinstance(value, str)}

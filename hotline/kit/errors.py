"""Errors the services raise; the web and API layers turn them into responses."""

from typing import Any


class HotlineError(Exception):
    """An error with a message key from the UI catalogue and its parameters."""

    status_code = 400

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class NotFound(HotlineError):
    """The thing asked for does not exist (or the user may not know it does)."""

    status_code = 404


class PermissionDenied(HotlineError):
    """The user is known but may not do this."""

    status_code = 403


class NotAuthenticated(HotlineError):
    """No valid session or token."""

    status_code = 401


class Conflict(HotlineError):
    """The request lost a race: someone else changed the thing first."""

    status_code = 409


class InvalidInput(HotlineError):
    """The request is well-formed but its content is wrong."""

    status_code = 422


class Gone(HotlineError):
    """The thing existed but was removed for good (e.g. by the retention period)."""

    status_code = 410


class InvalidFields(InvalidInput):
    """Several fields of one form are wrong; the first one's message is the error's own."""

    def __init__(self, errors: dict[str, InvalidInput]) -> None:
        first = next(iter(errors.values()))
        super().__init__(first.key, **first.params)
        self.errors = errors

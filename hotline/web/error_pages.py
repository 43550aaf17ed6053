"""How errors reach the user: JSON under /api/, a DKFDS page for browsers, plain text for htmx."""

import logging

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.auth.models import Role, User
from hotline.i18n import t
from hotline.kit.errors import HotlineError, InvalidInput, NotAuthenticated
from hotline.kit.security import SECURITY_HEADERS

log = logging.getLogger(__name__)
# Statuses with a heading and a text of their own; any other gets the general ones.
OWN_TEXTS = {403, 404, 500}
# Error keys that say no more than the status's own text does.
GENERAL_KEYS = {"error.not_found", "error.permission_denied"}


def is_api(request: Request) -> bool:
    """True for the JSON API, whose error answers are JSON whoever asks."""
    path = request.url.path
    return path == "/api" or path.startswith("/api/")


def wants_html(request: Request) -> bool:
    """True for a browser asking for a page outside the API."""
    return not is_api(request) and "text/html" in request.headers.get("accept", "")


def _load_user(request: Request) -> User | None:
    from hotline.auth.deps import signed_in_user

    try:
        with request.app.state.sessionmaker() as session:
            return signed_in_user(request, session)
    except SQLAlchemyError:  # the page about an error must not fail on the database
        log.warning("error page without the user: the database did not answer", exc_info=True)
        return None


async def error_page(
    request: Request,
    status_code: int,
    *,
    key: str | None = None,
    message: str | None = None,
    with_user: bool = True,
) -> Response:
    """The DKFDS error page: a heading, what happened, and the way back to the user's start page."""
    from hotline.web.auth_views import HOME_BY_ROLE
    from hotline.web.templating import render

    user = await run_in_threadpool(_load_user, request) if with_user else None
    kind = status_code if status_code in OWN_TEXTS else "other"
    text = message if message and key not in GENERAL_KEYS else t(f"error_page.text_{kind}")
    return render(
        request,
        "error.html",
        status_code=status_code,
        user=user,
        title=t("error_page.title_csrf" if key == "error.csrf" else f"error_page.title_{kind}"),
        text=text,
        status=status_code,
        home=HOME_BY_ROLE[Role(user.role)] if user else "/",
    )


def add_error_handlers(app: FastAPI) -> None:
    """Register the handlers; JSON answers under /api/ are FastAPI's and the services' own."""

    @app.exception_handler(HotlineError)
    async def hotline_error(request: Request, exc: HotlineError) -> Response:
        message = t(exc.key, **exc.params)
        if request.headers.get("HX-Request"):
            # htmx swaps nothing on an error; hotline.js shows this text, and follows HX-Redirect.
            headers = {"HX-Redirect": "/login"} if isinstance(exc, NotAuthenticated) else {}
            return PlainTextResponse(message, status_code=exc.status_code, headers=headers)
        if isinstance(exc, NotAuthenticated) and wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if wants_html(request):
            return await error_page(request, exc.status_code, key=exc.key, message=message)
        return JSONResponse({"error": exc.key, "detail": message}, status_code=exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI's and Starlette's own: no such route (404), wrong method (405), ...
        if is_api(request):
            return await http_exception_handler(request, exc)
        if request.headers.get("HX-Request"):
            return PlainTextResponse(t("error.generic"), exc.status_code, headers=exc.headers)
        if wants_html(request):
            page = await error_page(request, exc.status_code)
            page.headers.update(exc.headers or {})
            return page
        return await http_exception_handler(request, exc)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception) -> Response:
        # A number or text the database cannot hold (an id beyond its integer range): bad input.
        log.info("input out of the database's range: %s %s", request.method, request.url.path)
        return await hotline_error(request, InvalidInput("error.out_of_range"))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(
            {
                "error": "invalid_input",
                "detail": t("error.invalid_input", detail=detail),
                "errors": errors,
            },
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette calls this outermost, then re-raises, so the server still logs the traceback.
        # The security headers are added here: their middleware is inside this one.
        if request.headers.get("HX-Request") and not is_api(request):
            return PlainTextResponse(t("error.generic"), 500, headers=SECURITY_HEADERS)
        if not wants_html(request):
            return PlainTextResponse("Internal Server Error", 500, headers=SECURITY_HEADERS)
        try:
            # Without the user: the database may be what failed.
            page = await error_page(request, 500, with_user=False)
        except Exception:  # the page itself failed: say it plainly
            log.exception("the error page could not be rendered")
            return PlainTextResponse(t("error.generic"), 500, headers=SECURITY_HEADERS)
        page.headers.update(SECURITY_HEADERS)
        return page

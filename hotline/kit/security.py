"""Security headers, the request-size limit and the cookie session, as small ASGI middlewares."""

from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: everything comes from /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; frame-src 'self'; frame-ancestors 'self'; "
    "base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Pages and API answers carry personal data (caller numbers, notes, replies): no browser or proxy
# may keep a copy. A route may say more (exports: "private, no-store"); static files may be cached.
NOT_STORED = "no-store"
# Only on HTTPS responses (a browser ignores it on plain HTTP): a year, this host only (the
# municipality's other hosts are not ours to pin).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response; over HTTPS, HSTS and Secure cookies.

    Every response outside the cacheable path prefixes gets "Cache-Control: no-store" unless it
    sets its own. HTTPS is the request's scheme: TLS in uvicorn itself, or X-Forwarded-Proto
    from a proxy that uvicorn trusts (FORWARDED_ALLOW_IPS). So a cookie is Secure whenever the
    browser got it over HTTPS, even if HOTLINE_SECURE_COOKIES was not set behind a TLS proxy on
    the same host.
    """

    def __init__(self, app: ASGIApp, cacheable: tuple[str, ...] = ()) -> None:
        self.app = app
        self.cacheable = cacheable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        stored = scope["path"].startswith(self.cacheable)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not stored:
                    headers.setdefault("Cache-Control", NOT_STORED)
                if scope.get("scheme") == "https":
                    headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
                    message["headers"] = [_secure_cookie(item) for item in message["headers"]]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secure_cookie(header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    name, value = header
    if name.lower() == b"set-cookie" and b"; secure" not in value.lower():
        return name, value + b"; secure"
    return header


class BodySizeLimitMiddleware:
    """Answer 413 to a request whose body is larger than the limit, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _too_large(scope, receive, send)


class BodyTooLarge(Exception):
    """Raised inside the app when a streamed body passes the limit."""


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    from hotline.i18n import t

    response = JSONResponse(
        {"error": "body_too_large", "detail": t("error.body_too_large")}, status_code=413
    )
    await response(scope, receive, send)


class SessionUnlessBearerMiddleware(SessionMiddleware):
    """Starlette's signed-cookie session, except for a request that authenticates with a token.

    A bearer-token request (an integration, the API) never uses the cookie session: it gets an
    empty one that is not saved, and skips the cookie's signature check and re-signing.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _bearer(scope):
            scope["session"] = {}
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _bearer(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value[:7].lower() == b"bearer "
    return False

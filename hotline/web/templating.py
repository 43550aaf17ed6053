"""The Jinja2 environment shared by every HTML view."""

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from hotline.auth.deps import csrf_token
from hotline.i18n import t
from hotline.kit.dates import danish_date, danish_datetime
from hotline.kit.numbers import (
    amount,
    danish_number,
    decimal,
    fee_kr,
    kr,
    pct,
    rate_kr,
    seconds,
    signed,
)
from hotline.web.navigation import header_menu

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# The templates ship with the package and change only with a new release (and a restart):
# checking each file's time at every render cost a system call per template on every page.
templates.env.auto_reload = False
templates.env.globals.update(t=t, csrf_token=csrf_token, header_menu=header_menu)
# Every number and date a page shows goes through these: "1.105,34 kr.", "7. december 2026".
templates.env.filters.update(
    danish_date=danish_date,
    danish_datetime=danish_datetime,
    number=danish_number,
    decimal=decimal,
    amount=amount,
    kr=kr,
    fee_kr=fee_kr,
    rate_kr=rate_kr,
    pct=pct,
    seconds=seconds,
    signed=signed,
)


def render(request: Request, name: str, status_code: int = 200, **context):
    """Render a template (a page or an htmx fragment) with the request in its context."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)

"""The system admins' page of the right-of-access export: a number in, a zip of PDF and JSON out."""

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import InvalidInput
from hotline.privacy.access import MAX_NUMBER_LENGTH, access_export
from hotline.privacy.api import access_readers
from hotline.privacy.summary import access_zip
from hotline.reports.bill import hotline_letterhead
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, prefix="/admin/privacy", include_in_schema=False)


@router.get("/access")
def access_page(request: Request, user: User = Depends(access_readers)):
    """The form: which number, and what the export holds."""
    return _render(request, user)


@router.post("/access")
def access_file(
    request: Request,
    number: str = Form("", max_length=MAX_NUMBER_LENGTH),
    session: Session = request_session,
    user: User = Depends(access_readers),
):
    """The export and its Danish summary as one zip (a POST: the number stays out of URLs)."""
    settings = request.app.state.settings
    try:
        export = access_export(session=session, user=user, number=number, settings=settings)
    except InvalidInput as exc:
        return _render(request, user, error=t(exc.key, **exc.params), number=number)
    name, content = access_zip(export, hotline_letterhead(settings.letterheads_dir))
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _render(request: Request, user: User, *, error: str | None = None, number: str = ""):
    settings = request.app.state.settings
    return render(
        request,
        "privacy/access.html",
        status_code=422 if error else 200,
        user=user,
        nav="users",
        error=error,
        number=number,
        max_number=MAX_NUMBER_LENGTH,
        call_days=settings.call_retention_days,
        reply_days=settings.archive_retention_days,
    )

"""JSON API of the reports domain: the call-cost report as CSV and XLSX."""

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session, utcnow
from hotline.kit.errors import InvalidInput
from hotline.reports import export_pool
from hotline.reports.cost_files import cost_report_file
from hotline.reports.export import DIALECTS, EXCEL_DA
from hotline.reports.filters import ReportFilters, report_filters
from hotline.reports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["reports"])
report_readers = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)


@router.get("/reports/cost.csv")
def cost_csv(
    request: Request,
    user: User = Depends(report_readers),
    filters: ReportFilters = Depends(report_filters),
    dialect: str = Query(EXCEL_DA),
    session: Session = request_session,
):
    """The call-cost report as CSV: ?from=…&to=…[&municipality=…][&region=…][&dialect=rfc4180]."""
    if dialect not in DIALECTS:
        raise InvalidInput("exports.bad_dialect", dialect=dialect[:20])
    content, filename = _cost_file(request, session, filters, "csv", dialect)
    return download_response(content, "text/csv; charset=utf-8", filename)


@router.get("/reports/cost.xlsx")
def cost_xlsx(
    request: Request,
    user: User = Depends(report_readers),
    filters: ReportFilters = Depends(report_filters),
    session: Session = request_session,
):
    """The call-cost report as an Excel workbook, with the same filters as the CSV."""
    content, filename = _cost_file(request, session, filters, "xlsx", EXCEL_DA)
    return download_response(content, XLSX_MEDIA_TYPE, filename)


def _cost_file(
    request: Request, session: Session, filters: ReportFilters, kind: str, dialect: str
) -> tuple[bytes, str]:
    if export_pool.active():  # a year of roll-up cells is much Python: out of this process's GIL
        database_url = request.app.state.settings.resolved_database_url
        return export_pool.cost_report_file(database_url, filters, kind, dialect, utcnow())
    return cost_report_file(
        session=session, filters=filters, kind=kind, dialect=dialect, generated_at=utcnow()
    )


def download_response(content: bytes, media_type: str, filename: str) -> Response:
    """An attachment no cache keeps (the figures change as calls are corrected)."""
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )

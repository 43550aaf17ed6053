"""JSON API of the reports domain: the call-cost report as CSV and XLSX."""

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session, utcnow
from hotline.kit.errors import InvalidInput
from hotline.reports.export import DIALECTS, EXCEL_DA, cost_report_csv, cost_report_filename
from hotline.reports.filters import ReportFilters, filtered_report, report_filters
from hotline.reports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from hotline.reports.xlsx import cost_report_xlsx

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["reports"])
report_readers = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)


@router.get("/reports/cost.csv")
def cost_csv(
    user: User = Depends(report_readers),
    filters: ReportFilters = Depends(report_filters),
    dialect: str = Query(EXCEL_DA),
    session: Session = request_session,
):
    """The call-cost report as CSV: ?from=…&to=…[&municipality=…][&region=…][&dialect=rfc4180]."""
    if dialect not in DIALECTS:
        raise InvalidInput("exports.bad_dialect", dialect=dialect[:20])
    report = filtered_report(session=session, filters=filters)
    return download_response(
        cost_report_csv(report, dialect),
        "text/csv; charset=utf-8",
        cost_report_filename(report, "csv", dialect),
    )


@router.get("/reports/cost.xlsx")
def cost_xlsx(
    user: User = Depends(report_readers),
    filters: ReportFilters = Depends(report_filters),
    session: Session = request_session,
):
    """The call-cost report as an Excel workbook, with the same filters as the CSV."""
    report = filtered_report(session=session, filters=filters)
    return download_response(
        cost_report_xlsx(report, filters, utcnow()),
        XLSX_MEDIA_TYPE,
        cost_report_filename(report, "xlsx"),
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

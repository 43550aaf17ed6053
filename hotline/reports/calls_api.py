"""JSON API of the reports domain: the call-detail export (one row per call, no personal data)."""

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute
from hotline.kit.errors import InvalidInput
from hotline.kit.streaming import streaming_download
from hotline.reports import export_pool
from hotline.reports.call_detail import call_detail_csv, call_detail_filename
from hotline.reports.export import DIALECTS, EXCEL_DA
from hotline.reports.filters import ReportFilters, report_filters

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["reports"])
report_readers = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)


@router.get("/reports/calls.csv")
def calls_csv(
    request: Request,
    user: User = Depends(report_readers),
    filters: ReportFilters = Depends(report_filters),
    dialect: str = Query(EXCEL_DA, max_length=20),
) -> StreamingResponse:
    """Every call of the period as CSV, streamed: ?from=…&to=…[&municipality=…][&region=…]."""
    if dialect not in DIALECTS:
        raise InvalidInput("exports.bad_dialect", dialect=dialect[:20])
    if export_pool.active():  # out of this process's GIL: claims and streams stay quick
        database_url = request.app.state.settings.resolved_database_url
        chunks = export_pool.call_detail_csv(database_url, filters, dialect)
    else:
        chunks = call_detail_csv(request.app.state.sessionmaker, filters, dialect)
    return streaming_download(
        chunks, call_detail_filename(filters, dialect), media_type="text/csv; charset=utf-8"
    )

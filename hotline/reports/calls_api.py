"""JSON API of the reports domain: the call-detail export (one row per call, no personal data)."""

from collections.abc import AsyncIterator, Iterator
from itertools import chain

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.kit.errors import InvalidInput
from hotline.reports.call_detail import call_detail_csv, call_detail_filename
from hotline.reports.export import DIALECTS, EXCEL_DA
from hotline.reports.filters import ReportFilters, report_filters

router = APIRouter(prefix="/api", tags=["reports"])
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
    chunks = call_detail_csv(request.app.state.sessionmaker, filters, dialect)
    try:
        # The header, and the query started: a failure here is still an error response.
        first = [next(chunks)]
    except BaseException:
        chunks.close()
        raise
    return StreamingResponse(
        _off_the_event_loop(chain(first, chunks), chunks.close),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{call_detail_filename(filters)}"',
            "Cache-Control": "no-store",
        },
    )


async def _off_the_event_loop(chunks: Iterator[bytes], close) -> AsyncIterator[bytes]:
    """The chunks, each read in the thread pool; the export is closed even if the client leaves."""
    try:
        while (chunk := await run_in_threadpool(next, chunks, None)) is not None:
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(close)

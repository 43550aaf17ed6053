"""JSON API of the reports domain: the bill basis as PDF (one municipality, or all as a zip)."""

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session
from hotline.kit.errors import InvalidInput, NotFound
from hotline.municipalities.models import Municipality
from hotline.reports.api import download_response
from hotline.reports.bill import (
    bill_bases_zip,
    bill_basis_pdf,
    bill_filename,
    hotline_letterhead,
    rates_in_period,
    summary_filename,
    summary_pdf,
    zip_filename,
)
from hotline.reports.filters import ReportFilters, filtered_report, report_filters
from hotline.reports.service import cost_report

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["reports"])
report_readers = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)
FORMATS = ("pdf", "zip")


@router.get("/reports/cost.pdf")
def cost_pdf(
    request: Request,
    filters: ReportFilters = Depends(report_filters),
    output: str = Query("pdf", alias="format", max_length=10),
    session: Session = request_session,
    user: User = Depends(report_readers),
):
    """The bill basis of a period: ?from=…&to=… with the report's filters, and format.

    format=pdf (the default) with exactly one municipality: that municipality's bill basis;
    format=pdf otherwise: the summary of the (filtered) municipalities; format=zip: each
    (filtered) municipality's bill basis and the summary in one zip.
    """
    if output not in FORMATS:
        raise InvalidInput("bill.bad_format", format=output)
    whole = cost_report(session=session, start=filters.start, end=filters.end)
    letterhead = hotline_letterhead(request.app.state.settings.letterheads_dir)
    rates = rates_in_period(session=session, start=filters.start, end=filters.end)
    if output == "pdf" and len(filters.municipalities) == 1:
        code = filters.municipalities[0]
        municipality = session.get(Municipality, code)
        if municipality is None:
            raise NotFound("municipalities.not_found", code=code)
        if filters.region and municipality.region_code != filters.region:
            raise InvalidInput("bill.not_in_region", code=code)
        pdf = bill_basis_pdf(whole, code, letterhead, rates=rates, name=municipality.name)
        return download_response(
            pdf, "application/pdf", bill_filename(whole, code, municipality.name)
        )
    filtered = bool(filters.municipalities or filters.region)
    shown = filtered_report(session=session, filters=filters, whole=whole)
    if output == "zip":
        codes = {row.code for row in shown.rows} if filtered else None
        archive = bill_bases_zip(whole, letterhead, rates=rates, codes=codes)
        return download_response(archive, "application/zip", zip_filename(whole))
    pdf = summary_pdf(shown, letterhead, rates=rates)
    return download_response(pdf, "application/pdf", summary_filename(whole))

"""The bill bases of a report as a zip made in the background: the figures read in the request,
the PDFs rendered by the job (hotline/reports/jobs.py)."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db import utcnow
from hotline.i18n import t
from hotline.municipalities.models import Municipality
from hotline.reports.bill import (
    hotline_letterhead,
    period_text,
    rates_in_period,
    write_bill_bases_zip,
    zip_filename,
)
from hotline.reports.filters import ReportFilters, filtered_report
from hotline.reports.jobs import ReportJob, ReportJobs
from hotline.reports.service import cost_report


def start_bill_zip(
    jobs: ReportJobs,
    *,
    session: Session,
    filters: ReportFilters,
    owner_id: int,
    letterheads_dir: Path,
) -> ReportJob:
    """Start (or find) the job zipping each filtered municipality's bill basis and the summary."""
    # The report is read here, so a bad period or a missing cost rate is refused at once and the
    # job only renders; amounts are those of the whole hotline's split, as in GET cost.pdf.
    whole = cost_report(session=session, start=filters.start, end=filters.end)
    rates = rates_in_period(session=session, start=filters.start, end=filters.end)
    shown = filtered_report(session=session, filters=filters, whole=whole)
    codes = {row.code for row in shown.rows} if filters.municipalities or filters.region else None
    letterhead = hotline_letterhead(letterheads_dir)
    generated_at = utcnow()
    bills = sum(1 for row in whole.rows if row.code and (codes is None or row.code in codes))

    def work(target, progress) -> None:
        write_bill_bases_zip(
            target, whole, letterhead, rates=rates, codes=codes, generated_at=generated_at,
            progress=progress,
        )  # fmt: skip

    return jobs.start(
        owner_id=owner_id,
        params=filters.params,
        label=t(
            "report_jobs.label",
            period=period_text(filters.start, filters.end),
            scope=_scope(session, filters),
        ),
        filename=zip_filename(whole),
        total=bills + 1,  # and the summary
        work=work,
    )


def _scope(session: Session, filters: ReportFilters) -> str:
    """Which municipalities, in words: "alle kommuner", "3 kommuner", "Region Midtjylland"."""
    parts = []
    if filters.region:
        name = session.scalar(
            select(Municipality.region_name).where(Municipality.region_code == filters.region)
        )
        parts.append(name or filters.region)
    if count := len(filters.municipalities):
        key = "report_jobs.one_municipality" if count == 1 else "report_jobs.some"
        parts.append(t(key, n=count))
    return ", ".join(parts) or t("report_jobs.all_municipalities")

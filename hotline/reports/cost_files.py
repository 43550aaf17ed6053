"""The cost report's downloads, CSV and XLSX: made in the request's thread or an export worker."""

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.reports.export import cost_report_csv, cost_report_filename
from hotline.reports.filters import ReportFilters, filtered_report
from hotline.reports.xlsx import cost_report_xlsx


def cost_report_file(
    *, session: Session, filters: ReportFilters, kind: str, dialect: str, generated_at: datetime
) -> tuple[bytes, str]:
    """The report as a file of this kind ("csv" in the dialect, or "xlsx"), and its name."""
    report = filtered_report(session=session, filters=filters)
    if kind == "xlsx":
        return cost_report_xlsx(report, filters, generated_at), cost_report_filename(report, "xlsx")
    return cost_report_csv(report, dialect), cost_report_filename(report, "csv", dialect)

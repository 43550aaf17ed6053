"""The cost report as CSV for Danish Excel: UTF-8 with BOM, semicolons, decimal comma."""

import csv
import io
from decimal import Decimal

from hotline.reports.service import CostReport, CostRow

CSV_HEADER = (
    "kommunekode",
    "kommune",
    "opkald",
    "besvarede",
    "opgivne",
    "minutter",
    "variabel_omkostning_kr",
    "fast_omkostning_kr",
    "omkostning_kr",
)


def danish_decimal(value: Decimal) -> str:
    """A decimal with a comma and two decimals, no thousands separator ("1234,50")."""
    return f"{value:.2f}".replace(".", ",")


def cost_report_csv(report: CostReport) -> bytes:
    """The report and a totals row; no caller numbers or notes, only aggregates."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in [*report.rows, report.totals]:
        writer.writerow(_cells(row))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def cost_report_filename(report: CostReport) -> str:
    """The download's file name, with the period."""
    return f"opkaldsomkostninger_{report.start.isoformat()}_{report.end.isoformat()}.csv"


def _cells(row: CostRow) -> list[str]:
    return [
        row.code,
        row.name,
        str(row.offered),
        str(row.answered),
        str(row.abandoned),
        danish_decimal(row.handled_minutes),
        danish_decimal(row.variable_cost),
        danish_decimal(row.fixed_cost),
        danish_decimal(row.total_cost),
    ]

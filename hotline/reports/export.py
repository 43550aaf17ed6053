"""The cost report as CSV (Danish Excel's dialect, or RFC 4180) and the columns of every export."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from hotline.reports.service import CostReport, CostRow

EXCEL_DA = "excel-da"  # UTF-8 with BOM, semicolons, decimal comma: what Danish Excel opens
RFC4180 = "rfc4180"  # commas, decimal point, no BOM
DIALECTS = (EXCEL_DA, RFC4180)
# The dialects download under different names: the two files of a period can sit side by side,
# and the name says which one a program should read.
FILE_SUFFIXES = {EXCEL_DA: "-excel", RFC4180: "-rfc4180"}
# Excel number formats (the file's codes are locale-neutral; Danish Excel shows "1.234,50 kr.").
COUNT = "#,##0"
ONE_DECIMAL = "0.0"
WHOLE = "0"
MINUTES = "#,##0.00"
AMOUNT = '#,##0.00 "kr."'
PERCENT = '0.0" %"'  # the value is the percentage itself (12.5), as in the CSV
# A spreadsheet runs a text cell starting with these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | Decimal | None


@dataclass(frozen=True)
class Column:
    """One column of the exports: CSV header (and locale key of the XLSX header), value, format."""

    key: str
    value: Callable[[CostRow], Cell]
    number_format: str | None = None  # None: a text column
    places: int = 0  # decimals of a Decimal value


def top_reasons_text(row: CostRow) -> str:
    """The most frequent contact reasons as "Label (n), Label (n)"."""
    return ", ".join(f"{label} ({n})" for label, n in row.top_reasons)


COLUMNS = (
    Column("kommunekode", lambda r: r.code),
    Column("kommune", lambda r: r.name),
    Column("opkald", lambda r: r.offered, COUNT),
    Column("besvarede", lambda r: r.answered, COUNT),
    Column("opgivne", lambda r: r.abandoned, COUNT),
    Column("besvaret_uden_for_hotline", lambda r: r.elsewhere, COUNT),
    Column("forbindelse_tabt", lambda r: r.lost, COUNT),
    Column("gns_ventetid_sek", lambda r: r.average_wait, ONE_DECIMAL, 1),
    Column("ventetid_p90_sek", lambda r: r.wait_p90, WHOLE),
    Column("samtaleminutter", lambda r: r.talk_minutes, MINUTES, 2),
    Column("efterbehandlingsminutter", lambda r: r.after_call_minutes, MINUTES, 2),
    Column("minutter", lambda r: r.handled_minutes, MINUTES, 2),
    Column("udgaaende_opkald", lambda r: r.outgoing, COUNT),
    Column("udgaaende_taleminutter", lambda r: r.outgoing_minutes, MINUTES, 2),
    Column("variabel_omkostning_kr", lambda r: r.variable_cost, AMOUNT, 2),
    Column("fast_omkostning_kr", lambda r: r.fixed_cost, AMOUNT, 2),
    Column("omkostning_kr", lambda r: r.total_cost, AMOUNT, 2),
    Column("pris_pr_besvaret_kr", lambda r: r.cost_per_answered, AMOUNT, 2),
    Column("baseline_kr", lambda r: r.baseline_cost, AMOUNT, 2),
    Column("besparelse_kr", lambda r: r.savings, AMOUNT, 2),
    Column("besparelse_pct", lambda r: r.savings_pct, PERCENT, 1),
    Column("andel_pct", lambda r: r.share_pct, PERCENT, 1),
    Column("undgaaelige_pct", lambda r: r.avoidable_pct, PERCENT, 1),
    Column("top_aarsager", top_reasons_text),
)
CSV_HEADER = tuple(column.key for column in COLUMNS)


def cost_report_csv(report: CostReport, dialect: str = EXCEL_DA) -> bytes:
    """The report and a totals row ("I alt"); no caller numbers or notes, only aggregates."""
    danish = dialect == EXCEL_DA
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if danish else ",", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    point = "," if danish else "."
    for row in [*report.rows, report.totals]:
        writer.writerow([_csv_cell(column, column.value(row), point) for column in COLUMNS])
    text = buffer.getvalue()
    return (("\ufeff" + text) if danish else text).encode("utf-8")


def cost_report_filename(
    report: CostReport, extension: str = "csv", dialect: str | None = None
) -> str:
    """The download's file name, with the period (and a CSV's dialect)."""
    period = f"{report.start.isoformat()}_{report.end.isoformat()}"
    return f"opkaldsomkostninger_{period}{FILE_SUFFIXES.get(dialect, '')}.{extension}"


def safe_text(text: str) -> str:
    """Text a spreadsheet shows as text: a leading =, +, - or @ is escaped with an apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(column: Column, value: Cell, point: str) -> str:
    if value is None:
        return ""
    if column.number_format is None:
        return safe_text(str(value))
    if isinstance(value, Decimal):
        return f"{value:.{column.places}f}".replace(".", point)
    return str(value)

"""The cost report as an Excel workbook: typed numbers, DKK formats, a frozen header, totals."""

import io
from datetime import UTC, datetime

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from hotline.i18n import t
from hotline.kit.dates import danish_date, danish_datetime
from hotline.reports.export import COLUMNS, Cell, Column
from hotline.reports.filters import ReportFilters
from hotline.reports.service import CostReport

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT_WIDTH = (10, 45)  # a text column's width in characters: at least, at most
NUMBER_WIDTH = 14
HEADER_HEIGHT = 45  # points: three lines of a wrapped header


def cost_report_xlsx(report: CostReport, filters: ReportFilters, generated_at: datetime) -> bytes:
    """The report with a totals row, and a sheet saying which period and filters it shows."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    period = t("exports.period_value", start=danish_date(report.start), end=danish_date(report.end))
    workbook.set_properties(
        {
            "title": t("exports.title", start=report.start.isoformat(), end=report.end.isoformat()),
            "subject": t("exports.subject"),
            "author": t("exports.company"),
            "company": t("exports.company"),
            "comments": period,
            "created": generated_at.astimezone(UTC),
        }
    )
    _write_costs(workbook, report)
    _write_period(workbook, report, filters, period, generated_at)
    workbook.close()
    return buffer.getvalue()


def _write_costs(workbook: Workbook, report: CostReport) -> None:
    """One row per municipality, then the stored totals (not formulas: they match to the øre)."""
    sheet = workbook.add_worksheet(t("exports.sheet_costs"))
    header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    plain = [workbook.add_format({"num_format": c.number_format or "@"}) for c in COLUMNS]
    bold = [
        workbook.add_format({"num_format": c.number_format or "@", "bold": True, "top": 1})
        for c in COLUMNS
    ]
    sheet.set_row(0, HEADER_HEIGHT)
    for col, column in enumerate(COLUMNS):
        sheet.write_string(0, col, t(f"exports.columns.{column.key}"), header)
    for line, row in enumerate(report.rows, start=1):
        for col, column in enumerate(COLUMNS):
            _write_cell(sheet, line, col, column.value(row), plain[col])
    totals_line = len(report.rows) + 1
    for col, column in enumerate(COLUMNS):
        _write_cell(sheet, totals_line, col, column.value(report.totals), bold[col])
    for col, column in enumerate(COLUMNS):
        sheet.set_column(col, col, _width(column, report))
    sheet.freeze_panes(1, 2)  # the header and the municipality's code and name
    # The filter range stops above the totals, so sorting never moves "I alt" among the rows.
    sheet.autofilter(0, 0, max(len(report.rows), 1), len(COLUMNS) - 1)


def _write_cell(sheet: Worksheet, line: int, col: int, value: Cell, cell_format) -> None:
    if value is None or value == "":
        sheet.write_blank(line, col, None, cell_format)
    elif isinstance(value, str):  # never write(): it would run "=…" as a formula
        sheet.write_string(line, col, value, cell_format)
    else:
        sheet.write_number(line, col, float(value), cell_format)


def _width(column: Column, report: CostReport) -> int:
    if column.number_format is not None:
        return NUMBER_WIDTH
    values = [str(column.value(row) or "") for row in [*report.rows, report.totals]]
    return min(max([TEXT_WIDTH[0], *map(len, values)]) + 2, TEXT_WIDTH[1])


def _write_period(
    workbook: Workbook,
    report: CostReport,
    filters: ReportFilters,
    period: str,
    generated_at: datetime,
) -> None:
    """What the numbers are: the period, the filters, the allocation method and when made."""
    sheet = workbook.add_worksheet(t("exports.sheet_period"))
    label = workbook.add_format({"bold": True, "valign": "top"})
    wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
    allocation = t(f"supervisor.allocation.{report.fixed_allocation}")
    lines = [
        (t("exports.report"), t("exports.report_name")),
        (t("exports.period"), period),
        (t("exports.municipalities"), ", ".join(filters.municipalities) or t("exports.all")),
        (t("exports.region"), filters.region or t("exports.all")),
        (t("exports.allocation"), allocation[:1].upper() + allocation[1:]),
        (t("exports.generated"), danish_datetime(generated_at)),
    ]
    notes = [t("exports.rounding_note"), t("exports.counting_note")]
    notes.append(t("exports.personal_data_note"))
    if report.filtered:
        notes.insert(1, t("exports.filtered_note"))
    for line, (name, value) in enumerate(lines):
        sheet.write_string(line, 0, name, label)
        sheet.write_string(line, 1, value, wrapped)
    for line, note in enumerate(notes, start=len(lines) + 1):
        sheet.write_string(line, 0, note)
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 60)

"""The bill basis (afregningsgrundlag) as PDF: one per municipality, a summary of all, and a zip.

Rendered like the letters (hotline/documents/pdf.py: WeasyPrint, the restricted URL fetcher, the
letter stylesheets) on the hotline's own letterhead; only aggregates, never a caller's data.
"""

import calendar
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db import utcnow
from hotline.documents.letterhead import Letterhead
from hotline.documents.pdf import html_to_pdf
from hotline.documents.templates import document_environment, figures_css
from hotline.i18n import t
from hotline.kit.dates import MONTHS, danish_date
from hotline.kit.numbers import danish_number, pct
from hotline.letters.letterheads import load_letterhead
from hotline.municipalities.models import Municipality
from hotline.reports.charts import cost_bars_svg, hour_of_week_svg
from hotline.reports.models import CostRate
from hotline.reports.service import CostReport, CostRow

# No municipality has this code, so load_letterhead fills the default folder's letterhead (the
# hotline's own) with the hotline's name instead of reading a municipality's folder.
HOTLINE_CODE = "0000"
bill_templates = document_environment(Path(__file__).parent / "templates")


def is_whole_month(start: date, end: date) -> bool:
    """Whether the period is exactly one calendar month."""
    last = calendar.monthrange(start.year, start.month)[1]
    return start.day == 1 and end == start.replace(day=last)


def period_text(start: date, end: date) -> str:
    """ "november 2026" for a whole month, else "1. november 2026 – 15. november 2026"."""
    if is_whole_month(start, end):
        return f"{MONTHS[start.month - 1]} {start.year}"
    return f"{danish_date(start)} – {danish_date(end)}"


def period_slug(start: date, end: date) -> str:
    """The period in a file name: "2026-11" for a whole month, else "2026-11-01_2026-11-15"."""
    if is_whole_month(start, end):
        return f"{start:%Y-%m}"
    return f"{start.isoformat()}_{end.isoformat()}"


def name_slug(name: str) -> str:
    """A municipality's short name for a file name: "Høje-Taastrup Kommune" -> "hoeje-taastrup"."""
    text = name.removesuffix(" Kommune").lower()
    for danish, plain in (("æ", "ae"), ("ø", "oe"), ("å", "aa")):
        text = text.replace(danish, plain)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "kommune"


def bill_filename(report: CostReport, code: str, name: str) -> str:
    """E.g. "afregningsgrundlag_0751_aarhus_2026-11.pdf"."""
    return (
        f"afregningsgrundlag_{code}_{name_slug(name)}_{period_slug(report.start, report.end)}.pdf"
    )


def summary_filename(report: CostReport) -> str:
    """E.g. "afregningsgrundlag_alle_2026-11.pdf"."""
    return f"afregningsgrundlag_alle_{period_slug(report.start, report.end)}.pdf"


def zip_filename(report: CostReport) -> str:
    """E.g. "afregningsgrundlag_2026-11.zip"."""
    return f"afregningsgrundlag_{period_slug(report.start, report.end)}.zip"


def hotline_letterhead(letterheads_dir: Path) -> Letterhead:
    """The hotline's own letterhead: the default folder's, filled with the hotline's name."""
    hotline = Municipality(code=HOTLINE_CODE, name=t("app.name"))
    letterhead = load_letterhead(municipality=hotline, letterheads_dir=letterheads_dir)
    sender = [line for i, line in enumerate(letterhead.sender) if line not in letterhead.sender[:i]]
    return letterhead.model_copy(update={"sender": sender})


def rates_in_period(*, session: Session, start: date, end: date) -> list[CostRate]:
    """The cost rates in force on some day of the period, oldest first."""
    rates = list(session.scalars(select(CostRate).order_by(CostRate.effective_from)))
    in_force_at_start = [r for r in rates if r.effective_from <= start][-1:]
    return in_force_at_start + [r for r in rates if start < r.effective_from <= end]


@dataclass(frozen=True)
class BillContext:
    """What every bill basis shows besides its figures: the letterhead, the rates, the date."""

    letterhead: Letterhead
    rates: list[CostRate]
    generated_at: datetime


def bill_row(report: CostReport, code: str, name: str) -> CostRow:
    """The municipality's row, or an empty one (no calls in the period, nothing to pay)."""
    for row in report.rows:
        if row.code == code:
            return row
    grand_total = report.rows[0].grand_total if report.rows else report.total_cost
    return CostRow(code, name, grand_total=grand_total)


def bill_basis_pdf(
    report: CostReport,
    code: str,
    letterhead: Letterhead,
    *,
    rates: list[CostRate],
    name: str = "",
    generated_at: datetime | None = None,
) -> bytes:
    """One municipality's bill basis; report is the whole hotline's (the split it explains)."""
    row = bill_row(report, code, name)
    context = BillContext(letterhead, rates, generated_at or utcnow())
    html = _render(
        "bill_basis.html",
        context,
        report,
        row=row,
        title=t(
            "bill.title_one", period=period_text(report.start, report.end), municipality=row.name
        ),
        reference=f"AFR-{code}-{period_slug(report.start, report.end)}",
        allocation=allocation_text(report, row),
        hours_svg=hour_of_week_svg(report.only({code}).calls_by_hour_of_week(), for_print=True),
    )
    return html_to_pdf(html, letterhead=letterhead, identifier=f"bill-{code}-{report.start}")


def summary_pdf(
    report: CostReport,
    letterhead: Letterhead,
    *,
    rates: list[CostRate],
    generated_at: datetime | None = None,
) -> bytes:
    """The bill bases of all the report's municipalities: the table, the totals, both charts."""
    context = BillContext(letterhead, rates, generated_at or utcnow())
    html = _render(
        "bill_summary.html",
        context,
        report,
        title=t("bill.title_all", period=period_text(report.start, report.end)),
        reference=f"AFR-ALLE-{period_slug(report.start, report.end)}",
        allocation=t(f"bill.allocation_all.{report.fixed_allocation}", **_shares(report)),
        cost_svg=cost_bars_svg(report),
        hours_svg=hour_of_week_svg(report.calls_by_hour_of_week(), for_print=True),
    )
    return html_to_pdf(html, letterhead=letterhead, identifier=f"bill-all-{report.start}")


def bill_bases_zip(
    report: CostReport,
    letterhead: Letterhead,
    *,
    rates: list[CostRate],
    codes: set[str] | None = None,
    generated_at: datetime | None = None,
) -> bytes:
    """A zip of each municipality's bill basis (of codes, default all) and the summary of them."""
    buffer = io.BytesIO()
    write_bill_bases_zip(
        buffer, report, letterhead, rates=rates, codes=codes, generated_at=generated_at
    )
    return buffer.getvalue()


def write_bill_bases_zip(
    target: BinaryIO,
    report: CostReport,
    letterhead: Letterhead,
    *,
    rates: list[CostRate],
    codes: set[str] | None = None,
    generated_at: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write the zip of bill_bases_zip to target, calling progress(done, total) after each PDF."""
    generated_at = generated_at or utcnow()
    chosen = [r for r in report.rows if r.code and (codes is None or r.code in codes)]
    shown = report if codes is None else report.only(codes)
    total = len(chosen) + 1  # and the summary
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for done, row in enumerate(chosen, start=1):
            pdf = bill_basis_pdf(
                report, row.code, letterhead, rates=rates, generated_at=generated_at
            )
            archive.writestr(_entry(bill_filename(report, row.code, row.name), generated_at), pdf)
            if progress:
                progress(done, total)
        summary = summary_pdf(shown, letterhead, rates=rates, generated_at=generated_at)
        archive.writestr(_entry(summary_filename(report), generated_at), summary)
    if progress:
        progress(total, total)


def _entry(name: str, generated_at: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=generated_at.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def allocation_text(report: CostReport, row: CostRow) -> str:
    """How the fixed cost was split, in Danish, with the municipality's part of the key."""
    totals = report.totals
    if report.fixed_allocation == "minutes":
        part, whole = (
            danish_number(row.handled_minutes, 2),
            danish_number(totals.handled_minutes, 2),
        )
        usage = totals.handled_seconds
    else:
        part, whole = danish_number(row.answered), danish_number(totals.answered)
        usage = totals.answered
    text = t(
        f"bill.allocation.{report.fixed_allocation}",
        municipality=row.name,
        part=part,
        whole=whole,
        **_shares(report),
    )
    if report.fixed_allocation != "equal" and not usage:
        text += " " + t("bill.allocation_offered")
    return text


def _shares(report: CostReport) -> dict[str, str]:
    """base_plus_usage's two parts as Danish percentages."""
    return {"base": pct(report.base_share_pct), "usage": pct(100 - report.base_share_pct)}


def _render(template: str, context: BillContext, report: CostReport, **values) -> str:
    letterhead = context.letterhead
    return bill_templates.get_template(template).render(
        report=report,
        letterhead=letterhead,
        rates=context.rates,
        generated_at=context.generated_at,
        period=period_text(report.start, report.end),
        subject=t("bill.subject", start=danish_date(report.start), end=danish_date(report.end)),
        css=figures_css(),
        logo_url=letterhead.logo_path.as_uri() if letterhead.logo_path else None,
        **values,
    )

"""The monthly insight report as PDF, on the municipality's own letterhead.

Rendered like the letters and the bill bases (WeasyPrint, the restricted URL fetcher, the letter
stylesheets). It shows what hotline/insight/monthly.py gathers: counts, pages and masked comments.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from markupsafe import Markup

from hotline.db import utcnow
from hotline.documents.letterhead import Letterhead
from hotline.documents.pdf import html_to_pdf
from hotline.documents.templates import document_environment, figures_css
from hotline.i18n import t
from hotline.insight.charts import month_bars_svg, scores_svg
from hotline.insight.monthly import InsightMonth
from hotline.kit.dates import danish_date
from hotline.kit.numbers import danish_number, pct, points, signed
from hotline.letters.letterheads import load_letterhead
from hotline.municipalities.models import Municipality
from hotline.reports.bill import name_slug, period_text
from hotline.reports.period import month_end

report_templates = document_environment(Path(__file__).parent / "templates")


@dataclass(frozen=True)
class ChangeLine:
    """A key figure this month, last month, and the difference, as Danish text."""

    label: str
    now: str
    before: str
    change: str


def municipality_letterhead(municipality: Municipality, letterheads_dir: Path) -> Letterhead:
    """The municipality's own letterhead (or the default one filled with its details)."""
    return load_letterhead(municipality=municipality, letterheads_dir=letterheads_dir)


def insight_filename(code: str, name: str, month: date) -> str:
    """E.g. "indsigt_0751_aarhus_2026-11.pdf"."""
    return f"indsigt_{code}_{name_slug(name)}_{month:%Y-%m}.pdf"


def month_text(month: date) -> str:
    """ "november 2026"."""
    return period_text(month, month_end(month))


def _difference(now, before) -> Decimal | int | None:
    return None if now is None or before is None else now - before


def change_lines(insight: InsightMonth) -> list[ChangeLine]:
    """What changed since last month: the key figures side by side with their difference."""
    now, before = insight.figures, insight.previous
    lines = []
    keys = ("offered", "answered", "abandoned", "elsewhere", "lost", "outgoing", "avoidable")
    for key in (*keys, "answers", "consultations", "flags"):
        a, b = getattr(now, key), getattr(before, key)
        lines.append(
            ChangeLine(t(f"insight.key.{key}"), danish_number(a), danish_number(b), signed(a - b))
        )
    share_now, share_before = now.avoidable_pct, before.avoidable_pct
    lines.append(
        ChangeLine(
            t("insight.key.avoidable_pct"),
            pct(share_now),
            pct(share_before),
            points(_difference(share_now, share_before)),
        )
    )
    score_now, score_before = now.average_score, before.average_score
    lines.append(
        ChangeLine(
            t("insight.key.average_score"),
            danish_number(score_now, 1),
            danish_number(score_before, 1),
            signed(_difference(score_now, score_before), 1),
        )
    )
    return lines


def insight_charts(insight: InsightMonth) -> dict[str, Markup]:
    """The month's charts by name (reasons, pages, scores); an empty one is left out."""
    month, previous = month_text(insight.month), month_text(insight.previous_month)
    charts = {}
    for key, lines in (("reasons", insight.reasons), ("pages", insight.pages)):
        if lines:
            title = t(f"insight.chart_{key}", month=month, previous=previous)
            charts[key] = month_bars_svg(
                lines, month=month, previous=previous, title=title, key=f"{key}-chart"
            )
    if insight.figures.answers:
        title = t("insight.chart_scores", month=month)
        charts["scores"] = scores_svg(insight.scores, title=title, key="scores-chart")
    return charts


def insight_pdf(
    insight: InsightMonth, letterhead: Letterhead, *, generated_at: datetime | None = None
) -> bytes:
    """The month's insight report of one municipality."""
    month = month_text(insight.month)
    html = report_templates.get_template("insight_report.html").render(
        insight=insight,
        letterhead=letterhead,
        generated_at=generated_at or utcnow(),
        month=month,
        previous_month=month_text(insight.previous_month),
        title=t("insight.pdf_title", month=month, municipality=insight.name),
        subject=t(
            "insight.pdf_subject",
            start=danish_date(insight.month),
            end=danish_date(month_end(insight.month)),
        ),
        reference=f"IND-{insight.code}-{insight.month:%Y-%m}",
        changes=change_lines(insight),
        charts=insight_charts(insight),
        css=figures_css(),
        logo_url=letterhead.logo_path.as_uri() if letterhead.logo_path else None,
    )
    return html_to_pdf(
        html, letterhead=letterhead, identifier=f"insight-{insight.code}-{insight.month:%Y-%m}"
    )

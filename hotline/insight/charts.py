"""The insight's charts as inline SVG (presentation attributes only), for the page and the PDF."""

from markupsafe import Markup, escape

from hotline.i18n import t
from hotline.insight.month_counts import Line
from hotline.kit.numbers import danish_number
from hotline.reports.charts import FIXED_COLOR, FONT, VARIABLE_COLOR, legend

LABEL_CHARS = 34


def month_bars_svg(lines: list[Line], *, month: str, previous: str, title: str, key: str) -> Markup:
    """Each line's count this month (dark) over last month's (light), as horizontal bars."""
    label_w, bar_w, count_w, row_h, top = 210, 380, 50, 30, 28
    width, height = label_w + bar_w + count_w, top + row_h * len(lines) + 6
    largest = max((max(x.count, x.previous) for x in lines), default=0) or 1
    parts = [
        _open(width, height, title, key),
        legend(label_w, 12, [(VARIABLE_COLOR, month), (FIXED_COLOR, previous)], step=150),
    ]
    for i, line in enumerate(lines):
        y = top + i * row_h
        label = escape(line.label)
        parts += [
            f"<g><title>{label}: {line.count} ({escape(month)}), "
            f"{line.previous} ({escape(previous)})</title>",
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" {FONT}>'
            f"{escape(_short(line.label))}</text>",
            _bar(label_w, y + 2, line.count / largest * bar_w, VARIABLE_COLOR, line.count),
            _bar(label_w, y + 15, line.previous / largest * bar_w, FIXED_COLOR, line.previous),
            "</g>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def scores_svg(scores: tuple[int, ...], *, title: str, key: str) -> Markup:
    """The month's answers per score 1..5, as horizontal bars."""
    label_w, bar_w, count_w, row_h, top = 120, 380, 50, 20, 6
    width, height = label_w + bar_w + count_w, top + row_h * len(scores) + 6
    largest = max(scores, default=0) or 1
    parts = [_open(width, height, title, key)]
    for i, n in enumerate(scores):
        y = top + i * row_h
        label = t("insight.score", score=i + 1)
        parts += [
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" {FONT}>{escape(label)}</text>',
            _bar(label_w, y + 3, n / largest * bar_w, VARIABLE_COLOR, n, height=row_h - 6),
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(width: int, height: int, title: str, key: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="hl-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{key}-title"><title id="{key}-title">{escape(title)}</title>'
    )


def _bar(x: int, y: int, length: float, color: str, n: int, height: int = 11) -> str:
    return (
        f'<rect x="{x}" y="{y}" width="{length:.1f}" height="{height}" fill="{color}"/>'
        f'<text x="{x + length + 4:.1f}" y="{y + height - 1}" {FONT}>{danish_number(n)}</text>'
    )


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"

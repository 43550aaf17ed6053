"""The report's charts as inline SVG: presentation attributes only, for the page and the PDF."""

from decimal import Decimal

from markupsafe import Markup, escape

from hotline.i18n import t
from hotline.kit.numbers import kr
from hotline.reports.service import CostReport

WEEKDAYS = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
FIXED_COLOR = "#8fb3d9"
VARIABLE_COLOR = "#1a3a5c"
HEAT_COLOR = "#1a3a5c"
FONT = 'font-family="Helvetica, Arial, sans-serif" font-size="11"'


def cost_bars_svg(report: CostReport) -> Markup:
    """Total cost per municipality as horizontal bars, the fixed part and the variable part."""
    rows = report.rows
    label_w, bar_w, amount_w, row_h, top = 170, 420, 110, 20, 28
    width, height = label_w + bar_w + amount_w, top + row_h * len(rows) + 8
    largest = max((r.total_cost for r in rows), default=Decimal(0)) or Decimal(1)
    title = t("charts.cost_title")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="hl-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="cost-chart-title">',
        f'<title id="cost-chart-title">{escape(title)}</title>',
        legend(
            label_w, 12, [(FIXED_COLOR, t("charts.fixed")), (VARIABLE_COLOR, t("charts.variable"))]
        ),
    ]
    for i, row in enumerate(rows):
        y = top + i * row_h
        fixed_w = float(row.fixed_cost / largest) * bar_w
        variable_w = float(row.variable_cost / largest) * bar_w
        amount = kr(row.total_cost)
        parts += [
            f"<g><title>{escape(row.name)}: {amount}</title>",
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" {FONT}>'
            f"{escape(_short(row.name))}</text>",
            f'<rect x="{label_w}" y="{y + 3}" width="{fixed_w:.1f}" height="{row_h - 6}" '
            f'fill="{FIXED_COLOR}"/>',
            f'<rect x="{label_w + fixed_w:.1f}" y="{y + 3}" width="{variable_w:.1f}" '
            f'height="{row_h - 6}" fill="{VARIABLE_COLOR}"/>',
            f'<text x="{label_w + fixed_w + variable_w + 4:.1f}" y="{y + 14}" {FONT}>'
            f"{amount}</text></g>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(x: int, y: int, entries: list[tuple[str, str]], step: int = 130) -> str:
    """A row of colour swatches with their labels, starting at (x, y)."""
    parts = []
    for i, (color, label) in enumerate(entries):
        left = x + i * step
        parts.append(
            f'<rect x="{left}" y="{y - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{left + 14}" y="{y}" {FONT}>{escape(label)}</text>'
        )
    return "".join(parts)


def _short(name: str) -> str:
    name = name.removesuffix(" Kommune")
    return name if len(name) <= 24 else name[:23] + "…"


def hour_of_week_svg(hours: list[int], *, for_print: bool = False) -> Markup:
    """Calls by hour of the week as a heat map: a row per weekday, a column per hour.

    On screen each cell is a rect with its count as a tooltip; for print the cells of each shade
    are one path, which renders far faster in the PDF.
    """
    cell, left, top = 24, 36, 18
    width, height = left + 24 * cell + 4, top + 7 * cell + 4
    busiest = max(hours, default=0) or 1
    title = t("charts.hours_title")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="hl-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="hours-chart-title">',
        f'<title id="hours-chart-title">{escape(title)}</title>',
    ]
    for hour in range(0, 24, 3):
        parts.append(f'<text x="{left + hour * cell + 2}" y="{top - 5}" {FONT}>{hour:02d}</text>')
    shades: dict[str, list[str]] = {}
    for day, day_name in enumerate(WEEKDAYS):
        y = top + day * cell
        parts.append(f'<text x="0" y="{y + 16}" {FONT}>{day_name}</text>')
        for hour in range(24):
            n = hours[day * 24 + hour]
            opacity = f"{0.06 + 0.94 * n / busiest:.1f}" if n else "0"
            x = left + hour * cell
            if for_print:
                shades.setdefault(opacity, []).append(
                    f"M{x} {y}h{cell - 2}v{cell - 2}h-{cell - 2}z"
                )
                continue
            label = t("charts.hour_cell", day=day_name, hour=f"{hour:02d}", n=n)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{HEAT_COLOR}" fill-opacity="{opacity}" stroke="#c8c8c8" '
                f'stroke-width="0.5"><title>{escape(label)}</title></rect>'
            )
    for opacity, cells in sorted(shades.items()):
        parts.append(
            f'<path d="{"".join(cells)}" fill="{HEAT_COLOR}" fill-opacity="{opacity}" '
            f'stroke="#c8c8c8" stroke-width="0.5"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))

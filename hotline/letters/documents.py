"""The one Jinja environment of the documents: letters, their e-mails, bill bases, insight reports.

The templates sit together in letters/templates and share the letterhead includes, so they share
one environment with the Danish filters for dates, numbers and Markdown.
"""

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from hotline.i18n import t
from hotline.kit.dates import danish_date
from hotline.kit.markdown import render_markdown
from hotline.kit.markdown_plain import markdown_plain
from hotline.kit.numbers import danish_number, kr, pct, rate_kr, seconds, signed
from hotline.letters.stylesheets import TEMPLATES_DIR

# The figures' additions to the letter stylesheet: tables of numbers, the document's head, charts.
FIGURES_CSS = TEMPLATES_DIR / "bill.css"


def figures_css() -> Markup:
    """The figures stylesheet, for a document's <style>."""
    return Markup(FIGURES_CSS.read_text(encoding="utf-8"))


def _markdown(text: str) -> Markup:
    return Markup(render_markdown(text))


def _reply_markdown(text: str) -> Markup:
    """The agent's reply: typed line breaks are kept."""
    return Markup(render_markdown(text, breaks=True))


document_templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    # Plain-text mail is not HTML: escaping it would show "&amp;" to the reader.
    autoescape=select_autoescape(["html", "css"], disabled_extensions=["txt"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
document_templates.globals.update(t=t)
document_templates.filters.update(
    danish_date=danish_date,
    markdown=_markdown,
    reply_markdown=_reply_markdown,
    plain_markdown=markdown_plain,
    number=danish_number,
    kr=kr,
    rate_kr=rate_kr,
    pct=pct,
    seconds=seconds,
    signed=signed,
)

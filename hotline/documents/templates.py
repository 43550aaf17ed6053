"""The Jinja environments of the documents: letters, their e-mails, bill bases, insight reports.

Each domain keeps its documents' templates in its own templates/ folder and makes its environment
with document_environment: the same Danish filters for dates, numbers and Markdown, and the shared
templates here (the letterhead's sender block and footer) beside its own.
"""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from hotline.documents.stylesheets import TEMPLATES_DIR
from hotline.i18n import t
from hotline.kit.dates import danish_date
from hotline.kit.markdown import render_markdown
from hotline.kit.markdown_plain import markdown_plain
from hotline.kit.numbers import danish_number, kr, pct, rate_kr, seconds, signed

# The figures' additions to the letter stylesheet: tables of numbers, the document's head, charts.
FIGURES_CSS = TEMPLATES_DIR / "figures.css"


def figures_css() -> Markup:
    """The figures stylesheet, for a document's <style>."""
    return Markup(FIGURES_CSS.read_text(encoding="utf-8"))


def _markdown(text: str) -> Markup:
    return Markup(render_markdown(text))


def _reply_markdown(text: str) -> Markup:
    """The agent's reply: typed line breaks are kept."""
    return Markup(render_markdown(text, breaks=True))


def document_environment(templates_dir: Path) -> Environment:
    """The environment of one domain's documents: its own templates first, then the shared ones."""
    environment = Environment(
        loader=FileSystemLoader([templates_dir, TEMPLATES_DIR]),
        # Plain-text mail is not HTML: escaping it would show "&amp;" to the reader.
        autoescape=select_autoescape(["html", "css"], disabled_extensions=["txt"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # package files: they change only with a release (see web/templating)
    )
    environment.globals.update(t=t)
    environment.filters.update(
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
    return environment

"""A reply as a letter: its content, the letter template, and the PDF (see documents/pdf.py)."""

from datetime import date
from pathlib import Path
from typing import NamedTuple

from markupsafe import Markup
from pydantic import BaseModel, Field

from hotline.documents.letterhead import Letterhead
from hotline.documents.pdf import html_to_pdf
from hotline.documents.stylesheets import letter_stylesheets
from hotline.documents.templates import document_environment
from hotline.i18n import t

# The time bound: letters are small, so size limits keep a render to about a second (with the
# layout budget, documents/layout_budget.py).
MAX_BODY_CHARS = 20_000
MAX_CITED_RULES = 12
FIELD_ORDER = ("fee_dkk", "deadline", "phone", "self_service_url")
# The letter and its e-mail's two parts.
letter_templates = document_environment(Path(__file__).parent / "templates")


class CitedRule(BaseModel):
    """One rule as the letter cites it (resolved for the caller's municipality)."""

    topic: str
    title: str
    sections_md: list[str] = []
    fields: dict[str, str | int | float | bool | None] = {}
    not_offered: bool = False
    rule_version_ids: list[int] = []


class LetterContent(BaseModel):
    """Everything a letter shows; the preview and the sent letter render the same content."""

    municipality_name: str
    reference: str
    letter_date: date
    subject: str = Field(max_length=300)
    body_md: str = Field(max_length=MAX_BODY_CHARS)
    recipient_name: str = ""
    recipient_address: str = ""
    author_name: str
    cited: list[CitedRule] = Field(default=[], max_length=MAX_CITED_RULES)


class Signature(NamedTuple):
    """The closing and signature the system adds under every reply; its lines in order."""

    closing: str
    author: str
    on_behalf_of: str


def signature(*, author_name: str, municipality_name: str) -> Signature:
    """The signature of a reply by this agent for this municipality (letter, e-mail, composer)."""
    return Signature(
        closing=t("letters.pdf.regards"),
        author=author_name,
        on_behalf_of=t("letters.pdf.on_behalf_of", municipality=municipality_name),
    )


def cited_lead(count: int) -> str:
    """The sentence that introduces the cited rules (none when no rule is cited)."""
    if not count:
        return ""
    return t("letters.pdf.cited_lead_one" if count == 1 else "letters.pdf.cited_lead_many")


def _fee(value) -> str:
    return f"{int(value):,} kr.".replace(",", ".") if isinstance(value, int | float) else str(value)


def _shown_fields(rule: CitedRule) -> list[tuple[str, str]]:
    shown = []
    for key in FIELD_ORDER:
        value = rule.fields.get(key)
        if value not in (None, ""):
            shown.append(
                (t(f"letters.pdf.field_{key}"), _fee(value) if key == "fee_dkk" else str(value))
            )
    return shown


def letter_html(letter: LetterContent, letterhead: Letterhead) -> str:
    """The letter's final HTML for WeasyPrint, without CSS (see letter_stylesheets)."""
    return _render_html(letter, letterhead, standalone=False)


def render_letter_html(letter: LetterContent, letterhead: Letterhead) -> str:
    """The letter as one self-contained HTML document: letter_html with its stylesheets inline."""
    return _render_html(letter, letterhead, standalone=True)


def _render_html(letter: LetterContent, letterhead: Letterhead, *, standalone: bool) -> str:
    sources = letter_stylesheets(letterhead) if standalone else []
    return letter_templates.get_template("letter.html").render(
        letter=letter,
        shown_fields=_shown_fields,
        letterhead=letterhead,
        inline_css=Markup("\n".join(s.string for s in sources if s.string is not None)),
        linked_css=[s.url for s in sources if s.url is not None],
        logo_url=letterhead.logo_path.as_uri() if letterhead.logo_path else None,
        address_lines=[line for line in letter.recipient_address.splitlines() if line.strip()],
        cited_lead=cited_lead(len(letter.cited)),
        signature=signature(
            author_name=letter.author_name, municipality_name=letter.municipality_name
        ),
    )


def render_letter_pdf(letter: LetterContent, letterhead: Letterhead) -> bytes:
    """The letter as a PDF/A-3u document; blocking, so call it from a worker thread."""
    return html_to_pdf(
        letter_html(letter, letterhead),
        letterhead=letterhead,
        identifier=f"{letterhead.code}-{letter.reference}",
    )

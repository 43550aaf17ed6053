"""The floor of bench/letters.py: WeasyPrint rendering a letter page written for the bench.

Its own HTML (an f-string per letter) and CSS (below), none of the product's templates,
stylesheets or URL fetcher; the CSS is parsed once into a weasyprint.CSS with one shared
FontConfiguration holding the product's fonts (IBM Plex Sans, via @font-face), images cached
across letters, PDF/A-3u, and WeasyPrint's HarfBuzz subsetting.
"""

import html
import tomllib
from dataclasses import dataclass
from datetime import date

from markdown_it import MarkdownIt

from hotline.config import PROJECT_ROOT

FONTS = PROJECT_ROOT / "hotline/web/static/dkfds/fonts/IBMPlexSans/complete/ttf"
LETTERHEAD = PROJECT_ROOT / "letterheads/0751"
FACES = (("400", "normal", "Regular"), ("400", "italic", "Italic"), ("600", "normal", "SemiBold"))
FACES += (("700", "normal", "Bold"), ("700", "italic", "BoldItalic"))
MONTHS = "januar februar marts april maj juni juli august september oktober november december"
FIELD_LABELS = {"fee_dkk": "Gebyr", "deadline": "Frist", "phone": "Telefon"}
FIELD_LABELS["self_service_url"] = "Selvbetjening"
LEAD = {1: "Svaret bygger på denne regel:", 2: "Svaret bygger på disse regler:"}
CSS_TEXT = """
@page { size: A4; margin: 20mm 20mm 28mm 20mm;
  @bottom-left { content: element(foot); width: 140mm; vertical-align: top; }
  @bottom-right { content: "Side " counter(page) " af " counter(pages);
    font: 8pt "IBM Plex Sans"; color: #555; vertical-align: top; } }
html { font: 10.5pt/1.45 "IBM Plex Sans"; color: #1a1a1a; }
body { margin: 0; }
.foot { position: running(foot); font-size: 7.5pt; color: #555;
  border-top: 0.6pt solid #3aa7d9; padding-top: 2mm; }
.foot b { color: #00385f; }
.head { position: relative; height: 86mm; }
.sender { position: absolute; top: 0; right: 0; width: 70mm; text-align: right;
  font-size: 8.5pt; color: #333; }
.sender img { width: 16mm; height: 16mm; margin-bottom: 2mm; }
.sender .first { font-weight: 700; color: #00385f; letter-spacing: 0.06em; }
.window { position: absolute; top: 25mm; left: 0; width: 85mm; height: 45mm; overflow: hidden; }
.window .return { font-size: 6.5pt; color: #666; height: 5mm; }
.meta { position: absolute; top: 55mm; right: 0; width: 70mm; text-align: right; }
h1 { font-size: 14pt; font-weight: 700; color: #00385f; margin: 0 0 5mm; }
h2 { font-size: 11.5pt; font-weight: 600; color: #00385f; margin: 6mm 0 2mm; break-after: avoid; }
h3 { font-size: 10.5pt; font-weight: 600; margin: 4mm 0 1mm; break-after: avoid; }
p, li { orphans: 3; widows: 3; }
p { margin: 0 0 3mm; }
.rule { border-left: 1.2pt solid #3aa7d9; padding-left: 4mm; margin-top: 5mm; }
table { border-collapse: collapse; }
td, th { border: 0.5pt solid #999; padding: 1mm 2mm; }
.fields { margin: 2mm 0 3mm; break-inside: avoid; }
.fields th { font-weight: 600; text-align: left; width: 32mm; border: 0;
  padding: 0.5mm 2mm 0.5mm 0; }
.fields td { border: 0; padding: 0.5mm 0; }
.legal { font-size: 9pt; color: #444; }
.lead { margin-top: 6mm; break-after: avoid; }
.signature { margin-top: 10mm; break-inside: avoid; break-before: avoid; }
.signature p { margin: 0 0 1mm; }
.signature .author { margin-top: 8mm; font-weight: 600; }
"""


@dataclass(frozen=True)
class FloorLetter:
    """What one letter shows."""

    reference: str
    subject: str
    paragraphs: list[str]
    rules_html: list[str]  # each cited rule's section, made once (rule texts don't change)
    recipient: list[str]
    author: str
    on: date


class Floor:
    """WeasyPrint with its CSS parsed once, one FontConfiguration and one image cache."""

    def __init__(self) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        faces = "".join(
            f'@font-face {{ font-family: "IBM Plex Sans"; font-weight: {weight}; '
            f'font-style: {style}; src: url("{(FONTS / f"IBMPlexSans-{name}.ttf").as_uri()}"); }}\n'
            for weight, style, name in FACES
        )
        self.font_config = FontConfiguration()
        self.css = CSS(string=faces + CSS_TEXT, font_config=self.font_config)
        self.image_cache: dict = {}
        head = tomllib.loads((LETTERHEAD / "letterhead.toml").read_text(encoding="utf-8"))
        self.name, self.sender, self.address = head["name"], head["sender"], head["address"]
        contact = [f"Tlf. {head['phone']}", head["email"], head["web"], f"CVR {head['cvr']}"]
        self.footer = " · ".join([f"<b>{self.name}</b>", ", ".join(self.address), *contact])
        self.base_url = LETTERHEAD.as_uri() + "/"

    def rule_html(self, title: str, sections_md: tuple[str, ...], fields: dict) -> str:
        """A cited rule's section of the page (done once per rule, outside the timing)."""
        markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
        rows = "".join(
            f"<tr><th>{label}</th><td>{html.escape(str(fields[key]))}</td></tr>"
            for key, label in FIELD_LABELS.items()
            if fields.get(key) not in (None, "")
        )
        legal = fields.get("legal_basis")
        return (
            f'<section class="rule"><h2>{html.escape(title)}</h2>'
            + "".join(markdown.render(text) for text in sections_md)
            + (f'<table class="fields">{rows}</table>' if rows else "")
            + (f'<p class="legal">Lovgrundlag: {html.escape(str(legal))}</p>' if legal else "")
            + "</section>"
        )

    def page(self, letter: FloorLetter) -> str:
        """The letter's HTML."""
        esc = html.escape
        day = f"{letter.on.day}. {MONTHS.split()[letter.on.month - 1]} {letter.on.year}"
        sender = "".join(
            f'<div class="{"first" if n == 0 else ""}">{esc(line)}</div>'
            for n, line in enumerate(self.sender + self.address)
        )
        lead = LEAD[min(2, len(letter.rules_html))] if letter.rules_html else ""
        return f"""<!DOCTYPE html><html lang="da"><head><meta charset="utf-8">
<title>{esc(letter.subject)}</title><meta name="author" content="{esc(self.name)}"></head><body>
<div class="foot">{self.footer}</div>
<div class="head"><div class="sender"><img src="logo.svg" alt="">{sender}</div>
<div class="window"><div class="return">{esc(self.name)} · {esc(", ".join(self.address))}</div>
{"".join(f"<div>{esc(line)}</div>" for line in letter.recipient)}</div>
<div class="meta"><div>{day}</div><div>Reference: {esc(letter.reference)}</div></div></div>
<h1>{esc(letter.subject)}</h1>
{"".join(f"<p>{esc(text)}</p>" for text in letter.paragraphs)}
{f'<p class="lead">{lead}</p>' if lead else ""}{"".join(letter.rules_html)}
<div class="signature"><p>Med venlig hilsen</p><p class="author">{esc(letter.author)}</p>
<p>Digital Hotline på vegne af {esc(self.name)}</p></div></body></html>"""

    def render(self, letter: FloorLetter) -> bytes:
        """The letter as PDF/A-3u: the page made and rendered."""
        from weasyprint import HTML

        document = HTML(string=self.page(letter), base_url=self.base_url)
        return document.write_pdf(
            stylesheets=[self.css],
            font_config=self.font_config,
            pdf_variant="pdf/a-3u",
            pdf_identifier=f"0751-{letter.reference}".encode(),
            cache=self.image_cache,
        )

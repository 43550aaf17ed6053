"""The PDF letter, read back with pypdf: layout text, pages, metadata, every shipped letterhead."""

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from hotline.config import PROJECT_ROOT
from hotline.letters.letterheads import load_letterhead
from hotline.letters.render import (
    CitedRule,
    LetterContent,
    render_letter_html,
    render_letter_pdf,
)
from hotline.letters.service import compose_letter, preview_reply_pdf
from hotline.municipalities.models import Municipality
from tests.letters.conftest import reply_form

LETTERHEADS = PROJECT_ROOT / "letterheads"


def pdf_text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def letter(**changes) -> LetterContent:
    values = dict(
        municipality_name="Aarhus Kommune",
        reference="HL-2026-000042",
        letter_date=date(2026, 11, 23),
        subject="Svar på din henvendelse til Aarhus Kommune",
        body_md="Kære Søren\n\nHer er svaret på dit spørgsmål om æbler, øl og ål.",
        recipient_name="Søren Østergård",
        recipient_address="Åboulevarden 12\n8000 Aarhus C",
        author_name="Karen Ærbødig",
        cited=[
            CitedRule(
                topic="pas",
                title="Pas – fornyelse",
                sections_md=["Du fornyer dit pas i Borgerservice."],
                fields={"fee_dkk": 1006, "deadline": "Ca. 3 uger", "legal_basis": "Pasloven § 4"},
                rule_version_ids=[1],
            )
        ],
    )
    values.update(changes)
    return LetterContent(**values)


def test_the_letter_follows_danish_conventions(session):
    aarhus = session.get(Municipality, "0751")
    letterhead = load_letterhead(municipality=aarhus, letterheads_dir=LETTERHEADS)

    reader, text = pdf_text(render_letter_pdf(letter(), letterhead))

    assert len(reader.pages) == 1
    for expected in (
        "BORGERSERVICE",
        "Aarhus Kommune",
        "Rådhuspladsen 2",
        "Søren Østergård",
        "Åboulevarden 12",
        "23. november 2026",
        "Reference: HL-2026-000042",
        "Svar på din henvendelse til Aarhus Kommune",
        "æbler, øl og ål",
        "Pas – fornyelse",
        "Du fornyer dit pas i Borgerservice.",
        "Gebyr",
        "1.006 kr.",
        "Frist",
        "Lovgrundlag: Pasloven § 4",
        "Her er den regel, vi talte om:",
        "Med venlig hilsen",
        "Karen Ærbødig",
        "Digital Hotline på vegne af Aarhus Kommune",
        "CVR 12345678",
        "Side 1 af 1",
    ):
        assert expected in text, expected


def test_metadata_language_and_pdfa(session):
    aarhus = session.get(Municipality, "0751")
    letterhead = load_letterhead(municipality=aarhus, letterheads_dir=LETTERHEADS)

    pdf = render_letter_pdf(letter(subject="Om dit pas – æøå"), letterhead)

    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Om dit pas – æøå"
    assert reader.metadata.author == "Aarhus Kommune"
    assert reader.metadata.subject == "Om dit pas – æøå"
    assert reader.trailer["/Root"]["/Lang"] == "da"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="U"' in xmp
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("IBM-Plex-Sans" in name for name in fonts), fonts


def test_the_same_content_renders_the_same_pdf(session):
    aarhus = session.get(Municipality, "0751")
    letterhead = load_letterhead(municipality=aarhus, letterheads_dir=LETTERHEADS)

    assert render_letter_pdf(letter(), letterhead) == render_letter_pdf(letter(), letterhead)


def test_a_long_letter_runs_over_pages_with_numbers_and_footer_on_each(session):
    aarhus = session.get(Municipality, "0751")
    letterhead = load_letterhead(municipality=aarhus, letterheads_dir=LETTERHEADS)
    paragraphs = "\n\n".join(
        f"Afsnit {n}: " + "Lang forklaring om reglerne. " * 12 for n in range(40)
    )

    reader, _ = pdf_text(render_letter_pdf(letter(body_md=paragraphs), letterhead))

    pages = len(reader.pages)
    assert pages > 1
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Side {number} af {pages}" in text
        assert "CVR 12345678" in text
    assert "Digital Hotline på vegne af" in reader.pages[-1].extract_text()


def test_headings_stay_with_what_follows():
    html = render_letter_html(letter(), _letterhead_stub())
    assert "break-after: avoid" in html
    assert "counter(pages)" in html


def _letterhead_stub():
    from hotline.documents.letterhead import Letterhead

    return Letterhead(name="X Kommune", sender=["X"], directory=Path("/nonexistent"), code="0000")


@pytest.mark.parametrize(
    "folder", sorted(p.name for p in LETTERHEADS.iterdir() if (p / "letterhead.toml").is_file())
)
def test_every_shipped_letterhead_renders(session, folder):
    code = folder if folder != "default" else "0101"
    municipality = session.get(Municipality, code)
    letterhead = load_letterhead(municipality=municipality, letterheads_dir=LETTERHEADS)
    assert letterhead.logo_path is not None

    content = letter(municipality_name=municipality.name)
    reader, text = pdf_text(render_letter_pdf(content, letterhead))

    assert municipality.name in text
    assert f"Digital Hotline på vegne af {municipality.name}" in text
    assert "Side 1 af 1" in text
    # The logo is drawn: the first page carries an image or form XObject.
    assert "/XObject" in reader.pages[0]["/Resources"]


def test_composed_letter_cites_the_resolved_rules(session, call, agent, settings):
    form = reply_form(topics=["pas", "storskrald"])

    content = compose_letter(session=session, call=call, author=agent, form=form, settings=settings)
    pdf = preview_reply_pdf(session=session, call=call, author=agent, form=form, settings=settings)

    assert [rule.topic for rule in content.cited] == ["pas", "storskrald"]
    assert content.cited[1].not_offered
    _, text = pdf_text(pdf)
    assert "Du fornyer dit pas ved personligt fremmøde" in text
    assert "I Aarhus skal du bestille tid på Dokk1." in text
    assert "Lovgrundlag: Pasbekendtgørelsen § 4" in text
    assert "Her er de regler, vi talte om:\nPas – fornyelse" in text
    assert "891 kr." in text
    assert "Aarhus Kommune tilbyder ikke denne ydelse" in text
    assert "genbrugsstationen på Østervej" in text
    assert f"Reference: {call.reference}" in text
    assert "Karen Ærbødig" in text


def _last_lines(count: int) -> str:
    return "\n\n".join(f"Linje {n}." for n in range(1, count + 1))


@pytest.mark.parametrize("ends_with", ["body", "rule"])
def test_the_signature_never_stands_alone_on_a_page(session, ends_with):
    aarhus = session.get(Municipality, "0751")
    letterhead = load_letterhead(municipality=aarhus, letterheads_dir=LETTERHEADS)
    cited = letter().cited if ends_with == "rule" else []
    last = "Lovgrundlag: Pasloven § 4" if ends_with == "rule" else None
    # How many one-line paragraphs fill the first page: from there back by more than the height
    # of the signature (and the rule), one of the letters ends exactly at the bottom of page 1.
    reader, _ = pdf_text(render_letter_pdf(letter(body_md=_last_lines(60), cited=[]), letterhead))
    first_page = reader.pages[0].extract_text()
    full = max(n for n in range(1, 61) if f"Linje {n}.\n" in first_page + "\n")
    two_pages = 0
    for count in range(full - 14, full + 1):
        content = letter(body_md=_last_lines(count), cited=cited)
        reader, _ = pdf_text(render_letter_pdf(content, letterhead))
        pages = [page.extract_text() for page in reader.pages]
        two_pages += len(pages) == 2
        [with_signature] = [text for text in pages if "Med venlig hilsen" in text]
        assert "Karen Ærbødig\nDigital Hotline på vegne af Aarhus Kommune" in with_signature
        ending = last or f"Linje {count}."
        assert ending in with_signature, (count, with_signature[:80])
        assert with_signature.index(ending) < with_signature.index("Med venlig hilsen")
    assert two_pages  # the letters did reach over the page

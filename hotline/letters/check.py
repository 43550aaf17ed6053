"""Checking letterheads: load each folder, render a sample letter, read the PDF back."""

import csv
import io
import logging
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hotline.documents.letterhead import Letterhead
from hotline.letters.letterheads import DEFAULT_DIR_NAME, LetterheadError, load_letterhead
from hotline.letters.render import CitedRule, LetterContent, render_letter_pdf
from hotline.municipalities.models import Municipality
from hotline.municipalities.service import DATA_DIR

# A one-page sample letter renders in about a second with libharfbuzz-subset; ten without it.
SLOW_RENDER_S = 5.0
EXPECTED_PAGES = 1


@dataclass
class LetterheadReport:
    """What checking one letterhead found."""

    label: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float | None = None
    pages: int | None = None
    pdf: bytes | None = None

    @property
    def ok(self) -> bool:
        """Whether the letterhead can be used as it is."""
        return not self.problems


def shipped_municipalities() -> dict[str, Municipality]:
    """The 98 municipalities from the shipped data, by kommunekode (not attached to a database)."""
    with open(DATA_DIR / "dk_kommuner_98_derived.csv", encoding="utf-8") as f:
        return {
            row["kommunekode"]: Municipality(
                code=row["kommunekode"],
                name=row["kommunenavn"],
                region_code=row["regionskode"],
                region_name=row["regionsnavn"],
            )
            for row in csv.DictReader(f)
        }


def sample_letter(municipality_name: str) -> LetterContent:
    """A short sample letter with Danish letters, a cited rule and its legal basis."""
    return LetterContent(
        municipality_name=municipality_name,
        reference="HL-2026-000001",
        letter_date=date(2026, 11, 23),
        subject=f"Prøvebrev fra {municipality_name}",
        body_md="Kære Søren\n\nTak for din henvendelse om **pas**. Her er reglerne for æ, ø og å.",
        recipient_name="Søren Østergård",
        recipient_address="Åboulevarden 12, 2. th.\n8000 Aarhus C",
        author_name="Mette Hansen",
        cited=[
            CitedRule(
                topic="pas",
                title="Pas – fornyelse",
                sections_md=["Du fornyer dit pas ved personligt fremmøde i Borgerservice."],
                fields={"fee_dkk": 891, "deadline": "Ca. 3 uger", "legal_basis": "Pasloven § 4"},
            )
        ],
    )


def check_letterheads(letterheads_dir: Path) -> list[LetterheadReport]:
    """Check every letterhead folder, then the default for one municipality without its own."""
    import weasyprint  # noqa: F401 - imported here so that no letterhead's time includes it

    municipalities = shipped_municipalities()
    folders = sorted(
        p for p in letterheads_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    reports = [
        check_folder(folder, municipalities=municipalities, letterheads_dir=letterheads_dir)
        for folder in folders
        if folder.name != DEFAULT_DIR_NAME
    ]
    without_own = [
        code
        for code in municipalities
        if not (letterheads_dir / code / "letterhead.toml").is_file()
    ]
    if without_own:
        municipality = municipalities[without_own[0]]
        label = f"{DEFAULT_DIR_NAME} ({municipality.code} {municipality.name})"
        reports.append(check_letterhead(municipality, letterheads_dir=letterheads_dir, label=label))
    return reports


def check_folder(
    folder: Path, *, municipalities: dict[str, Municipality], letterheads_dir: Path
) -> LetterheadReport:
    """Check one municipality's own folder: a known kommunekode, and a letterhead that works."""
    toml = folder / "letterhead.toml"
    municipality = municipalities.get(folder.name)
    if not toml.is_file():
        return LetterheadReport(label=folder.name, problems=[f"{toml}: missing"])
    if municipality is None:
        return LetterheadReport(
            label=folder.name,
            problems=[f"{folder}: the folder name is not the kommunekode of a municipality"],
        )
    return check_letterhead(
        municipality, letterheads_dir=letterheads_dir, label=f"{folder.name} {municipality.name}"
    )


def check_letterhead(
    municipality: Municipality, *, letterheads_dir: Path, label: str
) -> LetterheadReport:
    """Load the municipality's letterhead, render the sample letter, and read it back."""
    report = LetterheadReport(label=label)
    try:
        letterhead = load_letterhead(municipality=municipality, letterheads_dir=letterheads_dir)
    except LetterheadError as exc:
        report.problems.append(str(exc))
        return report
    toml = letterhead.directory / "letterhead.toml"
    if letterhead.name != municipality.name:
        report.problems.append(
            f"{toml}: field 'name': {letterhead.name!r} is not the municipality's name "
            f"{municipality.name!r}"
        )
    report.problems += _logo_problems(letterhead)
    content = sample_letter(municipality.name)
    started = time.perf_counter()
    try:
        with _weasyprint_warnings() as warnings:
            report.pdf = render_letter_pdf(content, letterhead)
    except Exception as exc:  # any failure is the letterhead's problem to report
        report.problems.append(f"render failed: {type(exc).__name__}: {exc}")
        return report
    report.seconds = time.perf_counter() - started
    report.problems += [f"{letterhead.directory}: WeasyPrint: {m}" for m in warnings]
    if report.seconds > SLOW_RENDER_S:
        report.problems.append(f"too slow: {report.seconds:.1f} s (limit {SLOW_RENDER_S:.0f} s)")
    _read_back(report, letterhead=letterhead, name=municipality.name)
    return report


def _logo_problems(letterhead: Letterhead) -> list[str]:
    path = letterhead.directory / letterhead.logo
    if letterhead.logo_path is None:
        return [f"{path}: logo file missing (field 'logo' in letterhead.toml)"]
    if path.suffix != ".svg":
        return []
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        return [f"{path}: not well-formed SVG: {exc}"]
    if root.tag not in ("svg", "{http://www.w3.org/2000/svg}svg"):
        return [f"{path}: the root element is {root.tag!r}, not svg"]
    return []


@contextmanager
def _weasyprint_warnings():
    """Collect what WeasyPrint logs at WARNING or above (bad CSS, refused or broken files)."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage()[:200])

    logger = logging.getLogger("weasyprint")
    handler = Collect(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def _read_back(report: LetterheadReport, *, letterhead: Letterhead, name: str) -> None:
    """Read the PDF back: pages, the letter's text, logo, fonts, PDF/A; pypdf if installed."""
    pdf = report.pdf or b""
    if not pdf.startswith(b"%PDF-") or not pdf.rstrip().endswith(b"%%EOF"):
        report.problems.append("the output is not a complete PDF file")
        return
    try:
        from pypdf import PdfReader
    except ImportError:
        report.notes.append("pypdf is not installed: pages and text not read back")
        return
    reader = PdfReader(io.BytesIO(pdf))
    report.pages = len(reader.pages)
    if report.pages != EXPECTED_PAGES:
        report.problems.append(f"{report.pages} pages, expected {EXPECTED_PAGES}")
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (name, f"Digital Hotline på vegne af {name}", "Side 1 af 1", "Pas – fornyelse"):
        if expected not in text:
            report.problems.append(f"text missing from the PDF: {expected!r}")
    first = reader.pages[0]["/Resources"]
    if letterhead.logo_path is not None and "/XObject" not in first:
        report.problems.append(f"{letterhead.logo_path}: the logo is not drawn")
    fonts = {str(font.get_object()["/BaseFont"]) for font in first.get("/Font", {}).values()}
    if not any("IBM-Plex-Sans" in font for font in fonts):
        report.problems.append(f"IBM Plex Sans is not embedded (fonts: {sorted(fonts)})")
    if reader.metadata is None or reader.metadata.author != name:
        report.problems.append("the PDF's author is not the municipality")
    xmp = reader.trailer["/Root"].get("/Metadata")
    if xmp is None or b"pdfaid:part" not in xmp.get_object().get_data():
        report.problems.append("no PDF/A marker in the PDF's metadata")

"""Letterheads are data: validated when loaded, with errors naming the file and the field."""

import shutil

import pytest

from hotline.config import PROJECT_ROOT
from hotline.letters.letterheads import LetterheadError, load_letterhead
from hotline.municipalities.models import Municipality

LETTERHEADS = PROJECT_ROOT / "letterheads"


def test_own_letterhead_is_used(session):
    letterhead = load_letterhead(
        municipality=session.get(Municipality, "0851"), letterheads_dir=LETTERHEADS
    )
    assert letterhead.name == "Aalborg Kommune"
    assert letterhead.sender[0] == "BORGERSERVICE"
    assert letterhead.primary_color == "#7a1f2b"
    assert letterhead.logo_path == LETTERHEADS.resolve() / "0851" / "logo.svg"


def test_at_least_six_shipped_letterheads_with_their_own_colours_and_logos():
    codes = [p.name for p in LETTERHEADS.iterdir() if p.name.isdigit()]
    colours = {
        (LETTERHEADS / code / "letterhead.toml").read_text().split("primary_color")[1][:12]
        for code in codes
    }
    logos = {(LETTERHEADS / code / "logo.svg").read_bytes() for code in codes}
    assert len(codes) >= 6
    assert len(colours) == len(logos) == len(codes)


def test_default_letterhead_is_filled_from_the_municipality(session):
    skive = session.get(Municipality, "0779")
    skive.phone = "99 15 55 00"
    skive.email = "borgerservice@skive.example"

    letterhead = load_letterhead(municipality=skive, letterheads_dir=LETTERHEADS)

    assert letterhead.name == skive.name
    assert letterhead.sender == ["BORGERSERVICE", "Digital Hotline", skive.name]
    assert letterhead.phone == "99 15 55 00"
    assert letterhead.email == "borgerservice@skive.example"
    assert letterhead.web is None
    assert letterhead.directory.name == "default"
    session.rollback()


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('primary_color = "blue"', "primary_color"),
        ('cvr = "12"', "cvr"),
        ('logo = "../../etc/passwd.svg"', "logo"),
        ('unknown_field = "x"', "unknown_field"),
    ],
)
def test_a_broken_letterhead_names_the_file_and_the_field(session, tmp_path, line, field):
    shutil.copytree(LETTERHEADS / "0751", tmp_path / "0751")
    path = tmp_path / "0751" / "letterhead.toml"
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    if line.startswith(("primary_color", "cvr", "logo")):
        key = line.split(" ")[0]
        kept = [x for x in path.read_text().splitlines() if not x.startswith(f"{key} =")]
        path.write_text("\n".join(kept + [line]) + "\n", encoding="utf-8")

    with pytest.raises(LetterheadError) as error:
        load_letterhead(municipality=session.get(Municipality, "0751"), letterheads_dir=tmp_path)

    assert str(path) in str(error.value)
    assert f"'{field}'" in str(error.value)


def test_invalid_toml_names_the_file(session, tmp_path):
    (tmp_path / "0751").mkdir()
    path = tmp_path / "0751" / "letterhead.toml"
    path.write_text('name = "Aarhus', encoding="utf-8")

    with pytest.raises(LetterheadError, match="letterhead.toml: not valid TOML"):
        load_letterhead(municipality=session.get(Municipality, "0751"), letterheads_dir=tmp_path)

"""`hotline letterheads check`, and the start-up warning when libharfbuzz-subset is missing."""

import logging
import shutil

from click.testing import CliRunner
from fastapi.testclient import TestClient

from hotline.config import PROJECT_ROOT
from hotline.documents import harfbuzz
from hotline.letters.cli import letterheads
from hotline.main import create_app

LETTERHEADS = PROJECT_ROOT / "letterheads"
SHIPPED = sorted(
    p.name
    for p in LETTERHEADS.iterdir()
    if p.name != "default" and (p / "letterhead.toml").is_file()
)


def check(*args: str):
    return CliRunner().invoke(letterheads, ["check", *args])


def test_the_shipped_letterheads_pass(tmp_path):
    result = check("--out", str(tmp_path))

    assert result.exit_code == 0, result.output
    for code in SHIPPED:
        assert f"{code} " in result.output
        assert (tmp_path / f"{code}.pdf").read_bytes().startswith(b"%PDF-")
    assert "default (0101 Københavns Kommune)" in result.output
    assert (tmp_path / "default.pdf").is_file()
    assert f"{len(SHIPPED) + 1} letterheads checked, 0 with problems" in result.output
    assert "PROBLEM" not in result.output


def test_a_broken_letterhead_names_the_file_and_the_field_and_fails(tmp_path):
    for name in ("0751", "0851", "default"):
        shutil.copytree(LETTERHEADS / name, tmp_path / name)
    toml = tmp_path / "0851" / "letterhead.toml"
    toml.write_text(toml.read_text().replace('cvr = "23456789"', 'cvr = "2345"'), encoding="utf-8")

    result = check("--dir", str(tmp_path))

    assert result.exit_code == 1
    assert "0751 Aarhus Kommune" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("0851"))
    assert "PROBLEM" in line
    assert f"{toml}: field 'cvr'" in result.output
    assert "1 with problems" in result.output


def test_a_missing_logo_unknown_folder_and_wrong_name_are_reported(tmp_path):
    for name in ("0751", "0461", "default"):
        shutil.copytree(LETTERHEADS / name, tmp_path / name)
    (tmp_path / "0751" / "logo.svg").unlink()
    toml = tmp_path / "0461" / "letterhead.toml"
    toml.write_text(toml.read_text().replace("Odense Kommune", "Odense Komune"), encoding="utf-8")
    shutil.copytree(LETTERHEADS / "0851", tmp_path / "9999")

    result = check("--dir", str(tmp_path))

    assert result.exit_code == 1
    assert f"{tmp_path / '0751' / 'logo.svg'}: logo file missing (field 'logo'" in result.output
    assert f"{toml}: field 'name': 'Odense Komune'" in result.output
    assert "9999: the folder name is not the kommunekode of a municipality" in result.output
    assert "3 with problems" in result.output


def test_bad_css_is_reported(tmp_path):
    for name in ("0751", "default"):
        shutil.copytree(LETTERHEADS / name, tmp_path / name)
    (tmp_path / "0751" / "style.css").write_text(
        '@import url("http://127.0.0.1:9/x.css");\n.sender { color: ; }\n', encoding="utf-8"
    )

    result = check("--dir", str(tmp_path))

    assert result.exit_code == 1
    assert f"{tmp_path / '0751'}: WeasyPrint:" in result.output
    assert "refused by the letter's URL fetcher: http://127.0.0.1:9/x.css" in result.output
    assert "Ignored `color: `" in result.output


def test_start_up_warns_when_harfbuzz_subset_is_missing(settings, monkeypatch, caplog):
    monkeypatch.setattr(harfbuzz, "_load_library", lambda: False)

    with caplog.at_level(logging.WARNING, logger="hotline"), TestClient(create_app(settings)):
        pass

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("libharfbuzz-subset is missing" in r.getMessage() for r in warnings)


def test_no_warning_when_harfbuzz_subset_is_there(settings, monkeypatch, caplog):
    monkeypatch.setattr(harfbuzz, "_load_library", lambda: True)

    with caplog.at_level(logging.WARNING, logger="hotline"), TestClient(create_app(settings)):
        pass

    assert not any("libharfbuzz-subset" in r.getMessage() for r in caplog.records)


def test_the_check_command_prints_whether_harfbuzz_subset_is_there(monkeypatch, tmp_path):
    shutil.copytree(LETTERHEADS / "default", tmp_path / "default")
    monkeypatch.setattr(harfbuzz, "_load_library", lambda: False)

    result = check("--dir", str(tmp_path))

    assert "WARNING: libharfbuzz-subset is missing" in result.output


def test_harfbuzz_subset_is_found_here():
    assert harfbuzz.harfbuzz_subset_available()

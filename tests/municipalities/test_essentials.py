"""Borgerservice essentials: the shipped file, loading it, the console fragment, the JSON API."""

from datetime import date, time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.municipalities.essentials import get_essentials
from hotline.municipalities.essentials_file import (
    DEFAULT_FILE,
    EssentialsFileError,
    load_essentials,
    read_essentials_file,
)
from hotline.municipalities.models import Municipality, ServiceHours, ServiceHoursException

pytestmark = pytest.mark.usefixtures("keep_municipality_contacts")
KB_LOCAL = Path(__file__).resolve().parents[2] / "kb_rules" / "local"


def test_the_shipped_file_covers_every_municipality_with_local_rules():
    entries = {e.code: e for e in read_essentials_file(DEFAULT_FILE)}
    with_local_rules = {p.name for p in KB_LOCAL.iterdir() if p.is_dir()}
    assert len(with_local_rules) >= 8 and with_local_rules <= entries.keys()
    for entry in entries.values():
        assert entry.phone and entry.web.startswith("https://")
        assert 2 <= len(entry.links) <= 4
        assert any(entry.weekly.values())
    header = DEFAULT_FILE.read_text(encoding="utf-8").split("[[municipality]]")[0]
    assert "NOT VERIFIED" in header and "confirm" in header


def test_load_stores_hours_exceptions_links_and_phone(session):
    loaded = load_essentials(session=session)
    session.commit()
    assert "0751" in loaded
    rows = session.scalars(
        select(ServiceHours).where(ServiceHours.municipality_code == "0751")
    ).all()
    assert {(r.weekday, r.opens, r.closes) for r in rows} >= {(0, time(10), time(16))}
    assert session.get(ServiceHoursException, ("0751", date(2026, 12, 23)))
    aarhus = session.get(Municipality, "0751")
    assert aarhus.phone == "89 40 00 00"
    assert aarhus.self_service_links[0] == {
        "title": "Selvbetjening på borger.dk",
        "url": "https://www.borger.dk/",
    }
    audit = session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "essentials.load")
    )
    assert audit == len(loaded)


def test_only_missing_keeps_hours_already_there(session):
    load_essentials(session=session)
    session.execute(ServiceHours.__table__.delete().where(ServiceHours.municipality_code == "0851"))
    session.add(ServiceHours(municipality_code="0751", weekday=6, opens=time(11), closes=time(12)))
    session.commit()
    loaded = load_essentials(session=session, only_missing=True)
    session.commit()
    assert loaded == ["0851"]
    sunday = session.scalar(
        select(ServiceHours).where(
            ServiceHours.municipality_code == "0751", ServiceHours.weekday == 6
        )
    )
    assert sunday is not None


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "borgerservice.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
[[municipality]]
code = "0751"
name = "Aarhus Kommune"
hours.mandag = "10.00-15.00"
links = [{ title = "borger.dk", url = "https://www.borger.dk/" }]
"""


def test_a_bad_file_names_the_file_and_the_field_and_loads_nothing(session, tmp_path):
    path = _write(
        tmp_path,
        GOOD
        + """
[[municipality]]
code = "0851"
name = "Aalborg Kommune"
hours.mandag = "25.00-15.00"
hours.fredag = "10-13"
links = [{ title = "", url = "ftp://x" }]
""",
    )
    with pytest.raises(EssentialsFileError) as caught:
        load_essentials(session=session, path=path)
    problems = "\n".join(caught.value.problems)
    assert f"{path}: municipality[1] (0851): hours.mandag: '25.00-15.00'" in problems
    assert f"{path}: municipality[1] (0851): hours.fredag: '10-13' is not a time span" in problems
    assert f"{path}: municipality[1] (0851): links[0]" in problems
    assert session.scalar(select(func.count(ServiceHours.id))) == 0


def test_a_wrong_name_or_code_is_refused(session, tmp_path):
    path = _write(tmp_path, GOOD.replace("Aarhus Kommune", "Aalborg Kommune"))
    with pytest.raises(
        EssentialsFileError, match="name: 'Aalborg Kommune' but 0751 is 'Aarhus Kommune'"
    ):
        load_essentials(session=session, path=path)
    path = _write(tmp_path, GOOD.replace('"0751"', '"9999"'))
    with pytest.raises(EssentialsFileError, match="9999: code: no such municipality"):
        load_essentials(session=session, path=path)
    path = _write(tmp_path, "[[municipality]\n")
    with pytest.raises(EssentialsFileError, match=str(path)):
        read_essentials_file(path)


def test_cli_loads_a_file(session, settings, tmp_path, monkeypatch):
    from hotline.cli import main

    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(
        main, ["municipalities", "load-essentials", str(_write(tmp_path, GOOD))]
    )
    assert result.exit_code == 0, result.output
    assert "essentials loaded for 1 municipalities: 0751" in result.output
    bad = _write(tmp_path, GOOD.replace("10.00-15.00", "ti til tre"))
    result = CliRunner().invoke(main, ["municipalities", "load-essentials", str(bad)])
    assert result.exit_code == 1
    assert "nothing loaded" in result.output and "hours.mandag" in result.output


def test_console_fragment_shows_the_essentials(login, make_user, session):
    load_essentials(session=session)
    session.commit()
    client = login(make_user(Role.AGENT))
    page = client.get("/console/essentials", params={"municipality": "0751"})
    assert page.status_code == 200
    assert "Borgerservice i Aarhus" in page.text
    assert "89 40 00 00" in page.text
    assert 'href="https://www.borger.dk/"' in page.text and 'rel="noopener noreferrer"' in page.text
    assert ("Åben nu til kl." in page.text) or ("Åbner " in page.text)
    assert "Mandag</dt><dd>10.00–16.00" in page.text


def test_without_hours_the_fragment_says_so_and_shows_the_table_contacts(login, make_user, session):
    ringsted = session.get(Municipality, "0329")
    ringsted.phone, ringsted.web = "57 62 00 00", "https://www.ringsted.dk"
    session.commit()
    client = login(make_user(Role.AGENT))
    page = client.get("/console/essentials", params={"municipality": "0329"})
    assert "Åbningstider ikke registreret" in page.text
    assert "57 62 00 00" in page.text and "ringsted.dk" in page.text


def test_json_api(api_client, make_user, session):
    load_essentials(session=session)
    session.commit()
    client = api_client(make_user(Role.AGENT))
    body = client.get("/api/municipalities/0751/essentials").json()
    assert body["hours_registered"] is True and body["phone"] == "89 40 00 00"
    assert body["week"]["mandag"] == "10.00–16.00" and body["week"]["søndag"] == "lukket"
    assert body["status"].startswith(("Åben nu", "Åbner", "Lukket"))
    assert len(body["links"]) == 3
    empty = client.get("/api/municipalities/0329/essentials").json()
    assert empty["hours_registered"] is False and empty["status"] == "Åbningstider ikke registreret"
    assert client.get("/api/municipalities/9999/essentials").status_code == 404


def test_get_essentials_for_a_municipality_without_hours(session):
    essentials = get_essentials(session=session, code="0101")
    assert not essentials.registered and essentials.status is None

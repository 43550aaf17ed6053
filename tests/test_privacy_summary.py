"""The right-of-access download: a zip of the JSON and a Danish PDF saying what the JSON holds."""

import io
import json
import re
import zipfile

from pypdf import PdfReader
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.privacy.summary import phone_text
from tests.test_privacy_access import stored  # noqa: F401  (the fixture)

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _download(client, number: str):
    token = client.headers["X-CSRF-Token"]
    response = client.post("/admin/privacy/access", data={"number": number, "csrf_token": token})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    name = re.search(r'filename="(indsigt_\d{4}-\d{2}-\d{2})\.zip"', response.headers[
        "content-disposition"])  # fmt: skip
    assert name, response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [f"{name[1]}.json", f"{name[1]}.pdf"]
    export = json.loads(archive.read(f"{name[1]}.json"))
    pdf = archive.read(f"{name[1]}.pdf")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    return export, reader, text


def test_the_zip_holds_the_json_and_a_danish_summary_of_it(stored, login, make_user, session):  # noqa: F811
    client = login(make_user(Role.SYSTEM_ADMIN, username="sys"))

    export, reader, text = _download(client, "20 12 34 56")

    assert len(export["calls"]) == 2 and len(export["callbacks"]) == 2
    assert reader.metadata.title == "Oplysninger om telefonnummeret +45 20 12 34 56"
    first, second = (c["reference"] for c in export["calls"])
    for expected in (
        "Digital Hotline",  # the hotline's own letterhead
        "Dannet af: sys",
        "Opkald 2 Opringninger 2 Svar 1 Hændelser fra telefonsystemet 4",
        "1.826 dage",  # the archive's retention, a Danish number
        f"Opkald {first}",
        f"Opkald {second}",
        "Retning Indgående",
        "Fra nummer +45 20 12 34 56",
        "Borgerens kommune Aarhus Kommune",
        "Status Efterbehandling",
        "Medarbejderens noter Spørger om pas til sin søn.",
        "Spørgsmål Vil tale med Borgerservice om pas.",
        "Status Skal ringes op",
        "Sendt som E-mail",
        "Emne Svar om pas",
        "Skrevet af Karen Ærbødig",
        "Nyt opkald",
        "Lagt på",
        "Karakter 4 – Tilfreds",
        "Kommentar Søren her: god hjælp",
    ):
        assert expected in text, expected
    # Dates the Danish way, never ISO.
    assert re.search(r"Opkaldet kom ind \d{1,2}\. [a-zæøå]+ \d{4} kl\. \d{2}\.\d{2}", text)
    assert not ISO_DATE.search(text)
    assert "+4531313131" not in text and "andet nummers" not in text
    # One download, one audit entry.
    entries = session.scalars(select(AuditEntry.action)).all()
    assert entries == ["privacy.access_export"]


def test_a_number_with_nothing_stored_says_so(stored, login, make_user):  # noqa: F811
    client = login(make_user(Role.SYSTEM_ADMIN))

    export, _, text = _download(client, "99 99 99 99")

    assert all(export[kind] == [] for kind in ("calls", "callbacks", "replies"))
    assert "Hotlinen har ingen opkald fra nummeret." in text
    assert "Hotlinen har ingen svar på tilfredshedsundersøgelsen efter opkaldene." in text


def test_danish_numbers_are_written_in_pairs_others_as_stored():
    assert phone_text("+4520123456") == "+45 20 12 34 56"
    assert phone_text("+46701234567") == "+46701234567"

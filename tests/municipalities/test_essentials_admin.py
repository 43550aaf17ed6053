"""Municipality admins edit their own municipality's hours, exceptions, links and phone."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.db import utcnow
from hotline.kit.dates import COPENHAGEN, danish_date
from hotline.municipalities.essentials import load_schedule
from hotline.municipalities.models import Municipality

pytestmark = pytest.mark.usefixtures("keep_municipality_contacts")


def _form(**changes) -> dict[str, str]:
    form = {f"hours_{day}": "10.00-15.00" for day in range(5)}
    form.update(
        hours_3="10.00-12.00, 13.00-17.30",
        phone="89 40 00 00",
        exceptions="",
        links="Selvbetjening på borger.dk | https://www.borger.dk/\nBestil tid | https://www.aarhus.dk/",
    )
    form.update(changes)
    return form


def test_admin_saves_and_sees_the_form_again(login, make_user, session):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    page = client.get("/admin/essentials")
    assert page.status_code == 200 and "Aarhus Kommune" in page.text
    tomorrow = (utcnow().astimezone(COPENHAGEN) + timedelta(days=1)).date()
    form = _form(exceptions=f"{tomorrow.strftime('%d.%m.%Y')} lukket personalemøde")
    saved = client.post("/admin/essentials/0751", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/admin/essentials?municipality=0751&saved=true"
    schedule = load_schedule(session=session, code="0751")
    assert [str(p) for p in schedule.weekly[3]] == ["10.00–12.00", "13.00–17.30"]
    assert 5 not in schedule.weekly and schedule.exceptions[tomorrow].periods == ()
    aarhus = session.get(Municipality, "0751")
    session.refresh(aarhus)
    assert aarhus.phone == "89 40 00 00" and len(aarhus.self_service_links) == 2
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "essentials.update"))
    assert entry.municipality_code == "0751" and entry.after["hours"]["torsdag"].startswith("10.00")
    again = client.get(saved.headers["location"])
    assert "Åbningstider og links er gemt." in again.text
    assert f"{danish_date(tomorrow)} lukket personalemøde" in again.text  # as Danes write it
    # Read back as it is shown, and in the long form too.
    form["exceptions"] = f"{danish_date(tomorrow)} 10.00-12.00 kort dag"
    assert client.post("/admin/essentials/0751", data=form).status_code in (200, 303)
    session.expire_all()
    assert [str(p) for p in load_schedule(session=session, code="0751").exceptions[tomorrow]
            .periods] == ["10.00–12.00"]  # fmt: skip
    assert "10.00–12.00, 13.00–17.30" in again.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hours_0": "10-15"}, "Mandag: »10-15« er ikke et tidsrum som 10.00-15.00"),
        ({"hours_1": "15.00-10.00"}, "Tirsdag: »15.00-10.00« lukker, før det åbner."),
        ({"exceptions": "juleaften lukket"}, "Linje 1 kan ikke læses."),
        ({"links": "Uden adresse"}, "Linje 1: skriv titel | adresse"),
        (
            {"links": "Farlig | javascript:alert(1)"},
            "Link nr. 1 skal have en adresse, der begynder",
        ),
        ({"exceptions": "2001-01-01 lukket"}, "kan ikke ligge før i dag"),
        ({"phone": "1" * 30}, "Telefonnummeret må højst være 20 tegn."),
    ],
)
def test_mistakes_come_back_in_the_form_and_nothing_is_saved(
    change, message, login, make_user, session
):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    response = client.post("/admin/essentials/0751", data=_form(**change))
    assert response.status_code == 422
    assert message in response.text
    assert "Intet er gemt." in response.text
    assert not load_schedule(session=session, code="0751").registered


def test_admin_of_another_municipality_is_refused(login, make_user, session):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0851"))
    assert client.get("/admin/essentials", params={"municipality": "0751"}).status_code == 403
    assert client.post("/admin/essentials/0751", data=_form()).status_code == 403
    assert not load_schedule(session=session, code="0751").registered


def test_agents_cannot_edit(login, make_user):
    client = login(make_user(Role.AGENT))
    assert client.get("/admin/essentials").status_code == 403

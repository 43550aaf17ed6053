"""The report page: filters, the new columns, charts, downloads and the drill-down to calls."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, Outcome
from hotline.calls.service import seed_contact_reasons
from hotline.reports.drilldown import PAGE_SIZE
from hotline.reports.service import ensure_default_cost_rate

PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
CALLER = "+4520987654"
NOTE = "Borgeren 010203-1234 ringede"


@pytest.fixture
def november(session):
    """Calls in Aarhus (Region Midtjylland), Aalborg (Nordjylland) and Copenhagen (Hovedstaden)."""
    seed_contact_reasons(session=session)
    ensure_default_cost_rate(session=session)
    start = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # a Monday, 18.00 in Denmark
    for n, code in enumerate(["0751"] * 4 + ["0851"] * 2 + ["0101"]):
        offered = start + timedelta(days=n % 3, minutes=n)
        session.add(
            Call(
                reference=f"DH-W{n:04d}",
                from_number=CALLER,
                notes=NOTE,
                municipality_code=code,
                state=CallState.DONE,
                offered_at=offered,
                answered_at=offered + timedelta(seconds=20 + n),
                ended_at=offered + timedelta(seconds=320),
                wrapped_up_at=offered + timedelta(seconds=380),
                contact_reason_code="pas" if n % 2 else "mitid",
                outcome=Outcome.ANSWERED,
                avoidable=n == 0,
                avoidable_url="https://aarhus.dk/pas" if n == 0 else None,
            )
        )
    session.commit()


def test_the_page_shows_the_new_columns_and_both_charts(login, make_user, november):
    page = login(make_user(Role.SUPERVISOR)).get("/supervisor", params=PERIOD)
    assert page.status_code == 200
    for heading in ["Ventetid, 90 % (s)", "Egen løsning (kr.)", "Besparelse (%)", "Andel (%)"]:
        assert heading in page.text
    assert page.text.count("<svg") == 2
    assert "man kl. 18: 3 opkald" in page.text  # 4 Aarhus/Aalborg/CPH calls on Monday 18-19
    assert "Omkostning pr. kommune" in page.text
    # Every download carries the filters.
    for path in ["cost.csv", "cost.xlsx", "cost.pdf", "calls.csv"]:
        assert f"/api/reports/{path}?from=2026-11-01&amp;to=2026-11-30" in page.text
    assert CALLER not in page.text and "010203" not in page.text


def test_filters_narrow_the_rows_without_changing_a_bill(login, make_user, november):
    client = login(make_user(Role.SUPERVISOR))
    whole = client.get("/supervisor", params=PERIOD).text
    aarhus_row = re.search(r"<td>0751</td>.*?</tr>", whole, re.S).group(0)
    only_aarhus = client.get("/supervisor", params={**PERIOD, "municipality": "0751"}).text
    assert "Aalborg Kommune</a>" not in only_aarhus and "Aarhus Kommune</a>" in only_aarhus
    assert re.search(r"<td>0751</td>.*?</tr>", only_aarhus, re.S).group(0) == aarhus_row
    assert "filtreret" in only_aarhus
    north = client.get("/supervisor", params={**PERIOD, "region": "1081"}).text
    assert "Aalborg Kommune</a>" in north and "Aarhus Kommune</a>" not in north
    both = client.get("/supervisor", params={**PERIOD, "region": "1081", "municipality": "0751"})
    assert "Ingen opkald i perioden." in both.text


def test_bad_filters_are_explained(login, make_user, november):
    client = login(make_user(Role.SUPERVISOR))
    response = client.get("/supervisor", params={**PERIOD, "municipality": "aarhus"})
    assert response.status_code == 422
    assert "Ugyldig kommunekode: aarhus" in response.text
    response = client.get("/supervisor", params={**PERIOD, "region": "x"})
    assert response.status_code == 422 and "Ugyldig regionskode" in response.text


def test_the_drill_down_lists_the_calls_without_personal_data(login, make_user, november):
    client = login(make_user(Role.SUPERVISOR))
    page = client.get("/supervisor/calls", params={**PERIOD, "municipality": "0751"})
    assert page.status_code == 200
    assert page.text.count("DH-W") == 4 and "DH-W0004" not in page.text
    assert "https://aarhus.dk/pas" in page.text and "Afsluttet" in page.text
    assert CALLER not in page.text and "010203" not in page.text and "Borgeren" not in page.text


def test_the_drill_down_pages_through_many_calls(login, make_user, session, november):
    start = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    for n in range(PAGE_SIZE + 5):
        session.add(
            Call(
                reference=f"DH-Q{n:04d}",
                municipality_code="0461",
                state=CallState.ABANDONED,
                offered_at=start + timedelta(seconds=n // 2),  # pairs share a moment
            )
        )
    session.commit()
    client = login(make_user(Role.SUPERVISOR))
    params = {**PERIOD, "municipality": "0461"}
    first = client.get("/supervisor/calls", params=params)
    next_link = re.search(r'href="(/supervisor/calls\?[^"]+after=[^"]+)"', first.text).group(1)
    second = client.get(next_link.replace("&amp;", "&"))
    seen = re.findall(r"DH-Q\d{4}", first.text) + re.findall(r"DH-Q\d{4}", second.text)
    assert sorted(seen) == [f"DH-Q{n:04d}" for n in range(PAGE_SIZE + 5)]
    assert "Næste 100 opkald" not in second.text
    bad = client.get("/supervisor/calls", params={**params, "after": "yesterday_x"})
    assert bad.status_code == 422 and "Ugyldigt sidelink" in bad.text


@pytest.mark.parametrize("role", [Role.AGENT, Role.MUNICIPALITY_ADMIN])
def test_only_supervisors_drill_down(role, login, make_user, november):
    user = make_user(role, "0751") if role == Role.MUNICIPALITY_ADMIN else make_user(role)
    response = login(user).get("/supervisor/calls", params=PERIOD, headers={"Accept": "text/html"})
    assert response.status_code == 403

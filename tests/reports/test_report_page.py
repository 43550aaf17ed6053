"""The report page: filters, the new columns, charts, downloads and the drill-down to calls."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, Outcome
from hotline.calls.service import seed_contact_reasons
from hotline.reports.drilldown import PAGE_SIZE
from hotline.reports.period import last_whole_month
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


@pytest.mark.parametrize(
    ("now", "month"),
    [
        (datetime(2026, 12, 7, 12, 0, tzinfo=UTC), (date(2026, 11, 1), date(2026, 11, 30))),
        (datetime(2027, 1, 1, 9, 0, tzinfo=UTC), (date(2026, 12, 1), date(2026, 12, 31))),
        # 23:30 UTC on 31 January is 1 February in Copenhagen: January is complete.
        (datetime(2028, 1, 31, 23, 30, tzinfo=UTC), (date(2028, 1, 1), date(2028, 1, 31))),
        # 21:59 UTC on 31 March is still March in Copenhagen (summer time): February it is.
        (datetime(2028, 3, 31, 21, 59, tzinfo=UTC), (date(2028, 2, 1), date(2028, 2, 29))),
    ],
)
def test_the_last_complete_month_in_danish_time(now, month):
    assert last_whole_month(now) == month


def test_the_page_opens_on_the_last_complete_month(login, make_user, session):
    today = datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    last_day = today.replace(day=1) - timedelta(days=1)
    first_day = last_day.replace(day=1)
    seed_contact_reasons(session=session)
    ensure_default_cost_rate(session=session)
    offered = datetime.combine(last_day, datetime.min.time(), UTC) + timedelta(hours=12)
    session.add(Call(reference="DH-LAST", municipality_code="0751", state=CallState.ABANDONED,
                     offered_at=offered))  # fmt: skip
    session.commit()
    page = login(make_user(Role.SUPERVISOR)).get("/supervisor")
    assert f'name="from" value="{first_day.isoformat()}"' in page.text
    assert f'name="to" value="{last_day.isoformat()}"' in page.text
    assert "Aarhus Kommune</a>" in page.text  # the call of that month is in the report


def test_the_municipality_filter_groups_by_region_and_works_without_script(
    login, make_user, november
):
    client = login(make_user(Role.SUPERVISOR))
    page = client.get("/supervisor", params={**PERIOD, "municipality": ["0751", "0851"]}).text
    picker = page[page.index("<details") : page.index("</details>")]
    boxes = re.findall(
        r'<input class="form-checkbox" type="checkbox" id="municipality-(\d{4})"', picker
    )
    assert len(boxes) == len(set(boxes)) == 98
    legends = re.findall(r'<legend class="hl-picker-legend">([^<]+)</legend>', picker)
    assert legends == [
        "Region Nordjylland", "Region Midtjylland", "Region Syddanmark", "Region Hovedstaden",
        "Region Sjælland",
    ]  # fmt: skip
    checked = re.findall(r'name="municipality" value="(\d{4})" checked', picker)
    assert sorted(checked) == ["0751", "0851"]
    assert "2 kommuner valgt" in picker
    # Aarhus is listed under its region; the script-only parts start hidden.
    midt = picker[picker.index("Region Midtjylland") : picker.index("Region Syddanmark")]
    assert 'value="0751"' in midt and 'value="0851"' not in midt
    for hidden in re.findall(r"<[^>]*data-picker-script[^>]*>", picker):
        assert " hidden" in hidden
    assert picker.count("Vælg hele regionen") == 5
    assert '<script src="/static/app/reports.js" defer></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script (the CSP)
    # The chosen municipalities are the report's rows, and the start of the zip carries them.
    table = page[page.index("<table") :]
    assert "Aarhus Kommune</a>" in table and "Københavns Kommune</a>" not in table
    form = page[page.index('action="/supervisor/report-jobs"') :]
    assert '<input type="hidden" name="municipality" value="0751">' in form[: form.index("</form>")]

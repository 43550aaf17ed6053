"""The cost report: per municipality, reconciled to the øre, and its CSV."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, Outcome
from hotline.kit.errors import InvalidInput
from hotline.reports.filters import checked_filters
from hotline.reports.models import CostRate
from hotline.reports.money import largest_remainder
from hotline.reports.service import cost_report, ensure_default_cost_rate

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def add_call(session, n, code, *, line=None, talk=0, acw=0, state=CallState.DONE, at=None):
    offered = at or datetime(2026, 11, 10, 18, 0, tzinfo=UTC) + timedelta(minutes=n)
    answered = None if state == CallState.ABANDONED else offered + timedelta(seconds=30)
    ended = (answered or offered) + timedelta(seconds=talk)
    session.add(
        Call(
            reference=f"DH-T{n:05d}",
            municipality_code=code,
            line_municipality_code=line,
            state=state,
            offered_at=offered,
            answered_at=answered,
            ended_at=ended,
            wrapped_up_at=ended + timedelta(seconds=acw) if answered else None,
            outcome=Outcome.ANSWERED if answered else None,
        )
    )


@pytest.fixture
def calls(session):
    """Answered calls of awkward lengths, one abandoned, one by line, one unknown."""
    ensure_default_cost_rate(session=session)
    for n, (code, talk, acw) in enumerate(
        [
            ("0751", 187, 61),
            ("0751", 421, 33),
            ("0751", 59, 7),
            ("0851", 233, 119),
            ("0851", 97, 13),
            ("0461", 311, 47),
        ]
    ):
        add_call(session, n, code, talk=talk, acw=acw)
    add_call(session, 10, None, line="0461", talk=100, acw=20)  # falls back to the line
    add_call(session, 11, None, talk=77, acw=5)  # neither: "Ukendt kommune"
    add_call(session, 12, "0751", state=CallState.ABANDONED)
    # Outside the period in Danish time: 1 December 00:30 local is 30 November 23:30 UTC.
    add_call(session, 13, "0751", talk=600, at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    session.commit()


def test_default_cost_rate_is_idempotent(session):
    first = ensure_default_cost_rate(session=session)
    assert ensure_default_cost_rate(session=session).id == first.id
    assert first.agent_cost_per_hour == Decimal("450.00")
    assert first.effective_from == date(2020, 1, 1)


def test_rows_reconcile_to_the_total_to_the_ore(session, calls):
    report = cost_report(session=session, start=NOVEMBER[0], end=NOVEMBER[1])
    by_code = {r.code: r for r in report.rows}
    assert list(by_code) == ["0461", "0751", "0851", ""]
    assert by_code[""].name == "Ukendt kommune"
    assert (by_code["0751"].offered, by_code["0751"].answered, by_code["0751"].abandoned) == (
        4,
        3,
        1,
    )
    assert by_code["0461"].offered == 2  # one by choice, one by line
    assert report.fixed_cost == Decimal("25000.00")  # a whole month
    assert sum(r.fixed_cost for r in report.rows) == report.fixed_cost
    assert sum(r.variable_cost for r in report.rows) == report.variable_cost
    assert sum(r.total_cost for r in report.rows) == report.total_cost
    assert all(r.total_cost == r.fixed_cost + r.variable_cost for r in report.rows)
    # Fixed cost by share of answered calls: 3/8, 2/8, 2/8, 1/8.
    assert by_code["0751"].fixed_cost == Decimal("9375.00")
    assert by_code[""].fixed_cost == Decimal("3125.00")
    # 0751: handled 768 s at 450 kr/h = 96.00; talk 667 s at 0.10 kr/min = 1.111..
    assert by_code["0751"].variable_cost == Decimal("97.11")
    assert by_code["0751"].handled_minutes == Decimal("12.80")


def test_fixed_cost_is_prorated_by_days_across_months(session, calls):
    report = cost_report(session=session, start=date(2026, 11, 16), end=date(2026, 12, 15))
    # 15/30 of November + 15/31 of December.
    expected = Decimal(25000) * 15 / 30 + Decimal(25000) * 15 / 31
    assert report.fixed_cost == expected.quantize(Decimal("0.01"))
    assert [r.code for r in report.rows] == ["0751"]  # only the 1 December call
    assert report.rows[0].fixed_cost == report.fixed_cost


def test_largest_remainder_sums_exactly():
    thirds = [Decimal(100) / 3] * 3
    parts = largest_remainder(thirds, Decimal("100.00"))
    assert sum(parts) == Decimal("100.00")
    assert sorted(parts) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]


def test_abandoned_call_marked_answered_is_not_billed(session, calls):
    """An early CTI answer once set answered_at on calls that were then abandoned."""
    add_call(session, 20, "0851", state=CallState.ABANDONED)
    session.flush()
    call = session.scalar(select(Call).where(Call.reference == "DH-T00020"))
    call.answered_at = call.offered_at + timedelta(seconds=5)
    call.ended_at = call.offered_at + timedelta(minutes=30)
    session.commit()
    report = cost_report(session=session, start=NOVEMBER[0], end=NOVEMBER[1])
    row = {r.code: r for r in report.rows}["0851"]
    assert (row.offered, row.answered, row.abandoned) == (3, 2, 1)
    # Only the two answered calls: 233 + 119 + 97 + 13 s handled, 330 s talk.
    assert row.handled_seconds == 462
    assert row.variable_cost == (Decimal(462) * 450 / 3600 + Decimal(330) / 600).quantize(
        Decimal("0.01")
    )


def _add_rate(session, effective_from: date, allocation: str, platform: str = "25000") -> None:
    session.add(
        CostRate(
            effective_from=effective_from,
            agent_cost_per_hour=Decimal("450"),
            telephony_per_minute=Decimal("0.10"),
            platform_monthly=Decimal(platform),
            fixed_allocation=allocation,
            baseline_cost_per_call=Decimal("95"),
        )
    )
    session.commit()


def test_base_plus_usage_splits_a_fifth_equally_and_the_rest_by_answered_calls(session, calls):
    _add_rate(session, date(2026, 11, 1), "base_plus_usage")
    report = cost_report(session=session, start=NOVEMBER[0], end=NOVEMBER[1])
    # 5000 kr. in four equal parts, 20000 kr. by answered calls 2/8, 3/8, 2/8, 1/8.
    assert {r.code: r.fixed_cost for r in report.rows} == {
        "0461": Decimal("6250.00"),
        "0751": Decimal("8750.00"),
        "0851": Decimal("6250.00"),
        "": Decimal("3750.00"),
    }
    assert report.fixed_allocation == "base_plus_usage"


def test_the_rate_in_force_at_the_period_end_decides_the_allocation(session, calls):
    _add_rate(session, date(2026, 11, 16), "equal")
    report = cost_report(session=session, start=NOVEMBER[0], end=NOVEMBER[1])
    assert len({r.fixed_cost for r in report.rows}) == 1
    earlier = cost_report(session=session, start=NOVEMBER[0], end=date(2026, 11, 15))
    assert earlier.fixed_allocation == "calls"


def test_unknown_allocation_method_is_refused(session):
    with pytest.raises(InvalidInput) as exc:
        _add_rate(session, date(2026, 11, 1), "by_population")
    assert exc.value.key == "reports.unknown_allocation"
    session.rollback()
    with pytest.raises(IntegrityError):
        session.execute(
            insert(CostRate).values(
                effective_from=date(2026, 11, 1),
                agent_cost_per_hour=Decimal("450"),
                telephony_per_minute=Decimal("0.10"),
                platform_monthly=Decimal("25000"),
                fixed_allocation="by_population",
                baseline_cost_per_call=Decimal("95"),
                created_at=datetime.now(UTC),
            )
        )


def test_filters_refuse_bad_periods_codes_and_regions():
    filters = checked_filters("2026-11-01", "2026-11-30", [" 0751", "0751", ""], "1082")
    assert (filters.start, filters.end) == NOVEMBER
    assert filters.municipalities == ("0751",) and filters.region == "1082"
    for args, key in [
        (("2026-11-30", "2026-11-01"), "reports.period_reversed"),
        (("2026-11-01", "2026-11-31"), "reports.bad_date"),
        (("2026-11-01", "2026-11-30", ["751x"]), "reports.bad_municipality"),
        (("2026-11-01", "2026-11-30", [], "Midt"), "reports.bad_region"),
    ]:
        with pytest.raises(InvalidInput) as exc:
            checked_filters(*args)
        assert exc.value.key == key


def test_later_rate_applies_from_its_date(session, calls):
    session.add(
        CostRate(
            effective_from=date(2026, 11, 1),
            agent_cost_per_hour=Decimal("900"),
            telephony_per_minute=Decimal("0"),
            platform_monthly=Decimal("30000"),
            fixed_allocation="equal",
            baseline_cost_per_call=Decimal("95"),
        )
    )
    session.commit()
    report = cost_report(session=session, start=NOVEMBER[0], end=NOVEMBER[1])
    assert report.fixed_cost == Decimal("30000.00")
    assert {r.fixed_cost for r in report.rows} == {Decimal("7500.00")}
    assert {r.code: r for r in report.rows}["0751"].variable_cost == Decimal("192.00")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.AGENT, 403),
        (Role.MUNICIPALITY_ADMIN, 403),
        (Role.SUPERVISOR, 200),
        (Role.SYSTEM_ADMIN, 200),
    ],
)
def test_cost_csv_permissions(role, status, api_client, make_user, session):
    ensure_default_cost_rate(session=session)
    session.commit()
    user = make_user(role, "0751") if role == Role.MUNICIPALITY_ADMIN else make_user(role)
    response = api_client(user).get("/api/reports/cost.csv?from=2026-11-01&to=2026-11-30")
    assert response.status_code == status


def test_cost_csv_refuses_bad_periods(api_client, make_user, client):
    supervisor = api_client(make_user(Role.SUPERVISOR))
    reversed_ = supervisor.get("/api/reports/cost.csv?from=2026-11-30&to=2026-11-01")
    assert reversed_.status_code == 422 and "efter" in reversed_.json()["detail"]
    bad = supervisor.get("/api/reports/cost.csv?from=2026-13-01&to=2026-11-01")
    assert bad.status_code == 422 and "ÅÅÅÅ-MM-DD" in bad.json()["detail"]
    assert client.get("/api/reports/cost.csv?from=2026-11-01&to=2026-11-30").status_code == 401


def test_supervisor_page_shows_queue_and_report(login, make_user, calls):
    client = login(make_user(Role.SUPERVISOR))
    page = client.get("/supervisor?from=2026-11-01&to=2026-11-30")
    assert page.status_code == 200
    assert "Ventende opkald" in page.text and "Aarhus Kommune" in page.text
    assert "9.375,00" in page.text and "25.000,00" in page.text
    assert "efter andel af besvarede opkald" in page.text
    assert "/api/reports/cost.csv?from=2026-11-01&amp;to=2026-11-30" in page.text
    assert client.get("/supervisor").status_code == 200  # default: the last complete month


def test_agent_cannot_open_the_supervisor_page(login, make_user):
    client = login(make_user(Role.AGENT))
    assert client.get("/supervisor", headers={"Accept": "text/html"}).status_code == 403

"""Calls answered outside Hotline, lost and outgoing calls: counted apart, never billed."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, Outcome
from hotline.calls.reasons import seed_contact_reasons
from hotline.kit.dates import COPENHAGEN
from hotline.reports.bill import bill_basis_pdf, hotline_letterhead, rates_in_period
from hotline.reports.facts import SUM_FIELDS, call_facts
from hotline.reports.models import CostRate
from hotline.reports.service import cost_report, ensure_default_cost_rate
from tests.reports.test_bill import pdf_text
from tests.reports.test_rollup import assert_rollup_matches_a_rebuild, rollup_contents

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
MONDAY_EVENING = datetime(2026, 11, 9, 19, 0, tzinfo=UTC)  # 20.00 in Denmark, hour 20 of the week


def facts(state, answered=20, ended=200, wrapped=260, **columns):
    """The facts of a call offered on Monday evening, times in seconds after that (None: unset)."""
    moment = {
        name: None if seconds is None else MONDAY_EVENING + timedelta(seconds=seconds)
        for name, seconds in (("answered", answered), ("ended", ended), ("wrapped", wrapped))
    }
    return call_facts(
        state,
        MONDAY_EVENING,
        moment["answered"],
        moment["ended"],
        moment["wrapped"],
        "0751",
        None,
        columns.get("reason", "pas"),
        columns.get("avoidable", True),
    )


def test_each_state_counts_by_the_rule():
    done = facts(CallState.DONE)
    assert (done.offered, done.answered, done.abandoned) == (True, True, False)
    assert (done.wait, done.talk, done.after_call, done.outgoing_talk) == (20, 180, 60, 0)
    assert done.count_keys() == [("hour", "20"), ("reason", "pas"), ("wait", "20")]
    for state in (CallState.ELSEWHERE, CallState.LOST, CallState.ABANDONED):
        # The phone system's answer makes none of them answered by Hotline.
        call = facts(state)
        assert call.offered and not call.answered and not call.outgoing
        assert (call.wait, call.talk, call.after_call, call.avoidable) == (0, 0, 0, False)
        assert call.count_keys() == [("hour", "20")]  # offered, by hour of the week
    assert [facts(s).abandoned for s in (CallState.ELSEWHERE, CallState.LOST)] == [False] * 2
    assert (facts(CallState.ELSEWHERE).elsewhere, facts(CallState.LOST).lost) == (True, True)
    outgoing = facts(CallState.OUTGOING)
    assert (outgoing.offered, outgoing.answered, outgoing.abandoned) == (False, False, False)
    assert (outgoing.outgoing, outgoing.outgoing_talk, outgoing.talk) == (True, 180, 0)
    assert outgoing.count_keys() == []
    assert facts(CallState.OUTGOING, answered=None).outgoing_talk == 0  # nobody picked up
    assert facts(CallState.OUTGOING, ended=None).outgoing_talk == 0  # still talking


@pytest.fixture
def rates(session):
    seed_contact_reasons(session=session)
    ensure_default_cost_rate(session=session)
    session.commit()


def stats_of(session, code="0751"):
    """The roll-up's sums of November for one municipality, by column."""
    stats, _ = rollup_contents(session)
    values = stats.get((date(2026, 11, 1), code), (0,) * len(SUM_FIELDS))
    return dict(zip(SUM_FIELDS, values, strict=True))


def test_an_outgoing_call_answered_and_ended_later_moves_in_the_rollup(session, rates):
    call = Call(
        reference="DH-O1",
        direction="out",
        municipality_code="0751",
        state=CallState.OUTGOING,
        offered_at=MONDAY_EVENING,
    )
    session.add(call)
    session.commit()
    # Counted from the moment it exists, as an outgoing call only.
    assert stats_of(session)["outgoing"] == 1 and stats_of(session)["offered"] == 0
    assert rollup_contents(session)[1] == {}  # no hour, wait or reason counters
    session.expire_all()  # a later transaction: the old values are loaded
    call = session.scalar(select(Call).where(Call.reference == "DH-O1"))
    call.answered_at = MONDAY_EVENING + timedelta(seconds=12)
    session.commit()
    assert stats_of(session)["outgoing_seconds"] == 0  # talking, not ended
    session.expire_all()
    call = session.scalar(select(Call).where(Call.reference == "DH-O1"))
    call.ended_at = MONDAY_EVENING + timedelta(seconds=12 + 245)
    session.commit()
    sums = stats_of(session)
    assert (sums["outgoing"], sums["outgoing_seconds"]) == (1, 245)
    assert sums["talk_seconds"] == sums["answered"] == 0
    # Moved to another municipality afterwards: it leaves Aarhus whole.
    session.expire_all()
    session.scalar(select(Call).where(Call.reference == "DH-O1")).municipality_code = "0851"
    session.commit()
    assert stats_of(session)["outgoing"] == 0
    aalborg = stats_of(session, "0851")
    assert (aalborg["outgoing"], aalborg["outgoing_seconds"]) == (1, 245)
    assert_rollup_matches_a_rebuild(session)


@pytest.mark.parametrize("state", [CallState.ELSEWHERE, CallState.LOST])
def test_a_waiting_call_closed_elsewhere_or_lost_is_offered_and_nothing_else(session, rates, state):
    session.add(Call(reference="DH-O2", municipality_code="0751", offered_at=MONDAY_EVENING))
    session.commit()
    assert stats_of(session)["offered"] == 0  # waiting: not in the roll-up yet
    session.expire_all()
    call = session.scalar(select(Call).where(Call.reference == "DH-O2"))
    call.state = state
    call.answered_at = (
        MONDAY_EVENING + timedelta(seconds=30) if state == CallState.ELSEWHERE else None
    )
    call.ended_at = MONDAY_EVENING + timedelta(minutes=10)
    session.commit()
    sums = stats_of(session)
    assert (sums["offered"], sums[state.value], sums["answered"], sums["abandoned"]) == (1, 1, 0, 0)
    assert sums["wait_seconds"] == sums["talk_seconds"] == sums["after_call_seconds"] == 0
    _, counts = rollup_contents(session)
    assert counts == {  # Monday 20-21: hour 20 of the week and of the day
        ("call_month_stats", date(2026, 11, 1), "0751", "hw_020"): 1,
        ("call_day_stats", MONDAY_EVENING.astimezone(COPENHAGEN).date(), "0751", "hd_20"): 1,
    }
    assert_rollup_matches_a_rebuild(session)


def add(session, n, code, state, *, answered=True, talk=200):
    offered = MONDAY_EVENING + timedelta(minutes=n)
    answered_at = offered + timedelta(seconds=15) if answered else None
    ended = (answered_at or offered) + timedelta(seconds=talk)
    session.add(
        Call(
            reference=f"DH-O{n:04d}",
            direction="out" if state == CallState.OUTGOING else "in",
            municipality_code=code,
            state=state,
            offered_at=offered,
            answered_at=answered_at,
            ended_at=ended,
            wrapped_up_at=ended + timedelta(seconds=40) if state == CallState.DONE else None,
            outcome=Outcome.ANSWERED if state == CallState.DONE else None,
            contact_reason_code="pas",
        )
    )


@pytest.mark.parametrize("allocation", ["calls", "minutes", "equal", "base_plus_usage"])
def test_they_are_never_billed_nor_counted_abandoned(session, rates, allocation):
    session.scalar(select(CostRate)).fixed_allocation = allocation
    for n, code in enumerate(["0751", "0751", "0851"]):
        add(session, n, code, CallState.DONE)
    session.commit()
    before = {
        row.code: row
        for row in cost_report(session=session, start=NOVEMBER[0], end=NOVEMBER[1]).rows
    }
    for n, state in enumerate([CallState.ELSEWHERE, CallState.LOST, CallState.OUTGOING] * 2, 10):
        add(session, n, "0751", state, answered=state != CallState.LOST, talk=600)
    add(session, 20, "0147", CallState.OUTGOING)  # Frederiksberg: only an outgoing call
    add(session, 21, "0461", CallState.ELSEWHERE)  # Odense: only a call taken elsewhere
    session.commit()
    report = cost_report(session=session, start=NOVEMBER[0], end=NOVEMBER[1])
    rows = {row.code: row for row in report.rows}
    assert set(rows) == {"0751", "0851", "0147", "0461"}
    aarhus = rows["0751"]
    assert (aarhus.offered, aarhus.answered, aarhus.abandoned) == (6, 2, 0)
    assert (aarhus.elsewhere, aarhus.lost, aarhus.outgoing) == (2, 2, 2)
    assert aarhus.outgoing_minutes == Decimal("20.00")
    for code in ("0751", "0851"):
        assert rows[code].variable_cost == before[code].variable_cost
        assert rows[code].baseline_cost == before[code].baseline_cost
        assert rows[code].handled_seconds == before[code].handled_seconds
    assert rows["0147"].total_cost == Decimal("0.00") and rows["0147"].offered == 0
    assert rows["0461"].variable_cost == rows["0461"].baseline_cost == Decimal("0.00")
    if allocation in ("calls", "minutes"):
        # Split by answered calls or handled minutes: a call no agent answered weighs nothing.
        assert rows["0461"].fixed_cost == Decimal("0.00")
        for code in ("0751", "0851"):
            assert rows[code].fixed_cost == before[code].fixed_cost
    assert report.sharing_rows == 3  # Frederiksberg's outgoing call alone shares no cost
    assert report.totals.total_cost == sum(before[c].total_cost for c in before)
    assert report.totals.abandoned == 0


def test_the_drill_down_and_the_bill_basis_show_them(session, rates, login, make_user, settings):
    add(session, 1, "0751", CallState.DONE)
    add(session, 2, "0751", CallState.ELSEWHERE)
    add(session, 3, "0751", CallState.LOST, answered=False)
    add(session, 4, "0751", CallState.OUTGOING, talk=90)
    session.commit()
    client = login(make_user(Role.SUPERVISOR))
    page = client.get("/supervisor/calls", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert page.status_code == 200
    for label in ("Afsluttet", "Besvaret uden for Hotline", "Forbindelse tabt", "Udgående"):
        assert f"<td>{label}</td>" in page.text, label
    report_page = client.get("/supervisor", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert report_page.status_code == 200
    for heading in ("Besvaret uden for Hotline", "Forbindelse tabt", "Udgående opkald pr. kommune"):
        assert heading in report_page.text, heading
    assert (
        "Udgående opkald (agenternes opkald til borgere): 1 med 1,50 minutters" in report_page.text
    )
    report = cost_report(session=session, start=NOVEMBER[0], end=NOVEMBER[1])
    letterhead = hotline_letterhead(settings.letterheads_dir)
    rates = rates_in_period(session=session, start=NOVEMBER[0], end=NOVEMBER[1])
    _, text = pdf_text(bill_basis_pdf(report, "0751", letterhead, rates=rates))
    assert "Indgående opkald i alt 3" in text
    assert "Besvaret uden for Hotline" in text and "Forbindelse tabt" in text
    assert "Udgående taletid (minutter) 1,50" in text

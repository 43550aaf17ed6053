"""Call retention: old calls lose the caller's number and the notes; reports and roll-ups stay."""

import random
from datetime import timedelta

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.calls.cti import record_cti_event
from hotline.calls.models import (
    Call,
    Callback,
    CallbackStatus,
    CallState,
    CtiEvent,
    MailStatus,
    Outcome,
)
from hotline.calls.retention import CALLBACKS_PURGE, CALLS_PURGE
from hotline.calls.service import save_call_notes, seed_contact_reasons, wrap_up_call
from hotline.config import Settings
from hotline.db import make_sessionmaker, utcnow
from hotline.kit.dates import COPENHAGEN
from hotline.privacy import retention
from hotline.privacy.retention import count_expired, purge_step, run_purge
from hotline.reports.call_detail import call_detail_csv
from hotline.reports.filters import ReportFilters
from hotline.reports.rollup import rebuild_rollup
from hotline.reports.service import cost_report, ensure_default_cost_rate
from hotline.reports.synthetic_calls import insert_calls, synthetic_calls
from tests.reports.test_rollup import rollup_contents

DAYS = 90
NOW = utcnow()
LATER = NOW + timedelta(days=DAYS + 1)  # every call made now is past retention then
CALLER = "+4520123456"
URL = "https://www.borger.dk/pas"


def _cti(session, event: str, cti_id: str, **fields) -> Call:
    payload = {"event": event, "callId": cti_id, "to": "+4588000751", "direction": "in", **fields}
    call = record_cti_event(session=session, payload=payload)
    session.commit()
    return call


@pytest.fixture
def finished_call(session, aarhus_line, make_user):
    """A call through CTI: offered, answered, notes written, hung up, wrapped up as avoidable."""

    def make(cti_id: str = "ret-1", caller: str = CALLER) -> Call:
        agent = make_user(Role.AGENT)
        _cti(session, "newCall", cti_id, **{"from": caller, "callerName": "Søren Østergård"})
        call = _cti(session, "answer", cti_id, user=agent.username, **{"from": caller})
        save_call_notes(session=session, call=call, notes=f"Ring {caller} om pas.", user=agent)
        _cti(session, "hangup", cti_id, cause="normalClearing", **{"from": caller})
        wrap_up_call(
            session=session,
            call=call,
            user=agent,
            contact_reason_code="pas",
            outcome=Outcome.ANSWERED,
            avoidable=True,
            avoidable_url=URL,
        )
        session.commit()
        return call

    return make


def _facts(call: Call) -> tuple:
    return (
        call.reference,
        call.state,
        call.to_number,
        call.offered_at,
        call.answered_at,
        call.ended_at,
        call.wrapped_up_at,
        call.municipality_code,
        call.line_municipality_code,
        call.agent_id,
        call.contact_reason_code,
        call.outcome,
        call.avoidable,
        call.avoidable_url,
    )


def _reload(session, model, row_id):
    session.expire_all()
    return session.get(model, row_id)


def _anonymise(session, now=LATER) -> int:
    count = purge_step(session, CALLS_PURGE, now=now, retention_days=DAYS)
    session.commit()
    return count


def test_an_old_call_loses_the_caller_and_the_notes_and_keeps_its_facts(session, finished_call):
    call = finished_call()
    facts = _facts(call)
    assert call.from_number == CALLER and call.notes

    assert _anonymise(session) == 1

    call = _reload(session, Call, call.id)
    assert call.from_number is None and call.notes == ""
    assert _facts(call) == facts
    payloads = session.scalars(select(CtiEvent.payload).order_by(CtiEvent.id)).all()
    assert payloads == [
        {"event": "newCall", "callId": "ret-1", "direction": "in", "cause": None},
        {"event": "answer", "callId": "ret-1", "direction": "in", "cause": None},
        {"event": "hangup", "callId": "ret-1", "direction": "in", "cause": "normalClearing"},
    ]


def test_a_call_within_retention_is_kept(session, finished_call):
    call = finished_call()

    assert _anonymise(session, now=NOW + timedelta(days=DAYS - 1)) == 0

    call = _reload(session, Call, call.id)
    assert call.from_number == CALLER and call.notes
    assert all("from" in p for p in session.scalars(select(CtiEvent.payload)))


def _call(session, reference: str, *, offered_days_ago: int, ended_days_ago: int | None, **extra):
    offered = NOW - timedelta(days=offered_days_ago)
    ended = None if ended_days_ago is None else NOW - timedelta(days=ended_days_ago)
    state = CallState.WAITING if ended is None else CallState.ABANDONED
    call = Call(
        reference=reference,
        from_number=CALLER,
        to_number="+4588000751",
        offered_at=offered,
        ended_at=ended,
        state=state,
        **extra,
    )
    session.add(call)
    session.commit()
    return call


def test_retention_runs_from_the_end_of_the_call_or_its_offer(session):
    ended_long_ago = _call(session, "DH-A", offered_days_ago=DAYS + 5, ended_days_ago=DAYS + 1)
    # Offered before the cut-off, but ended after it: still within retention.
    ended_lately = _call(session, "DH-B", offered_days_ago=DAYS + 5, ended_days_ago=DAYS - 1)
    never_ended = _call(session, "DH-C", offered_days_ago=DAYS + 1, ended_days_ago=None)

    assert _anonymise(session, now=NOW) == 2

    assert _reload(session, Call, ended_long_ago.id).from_number is None
    assert _reload(session, Call, ended_lately.id).from_number == CALLER
    assert _reload(session, Call, never_ended.id).from_number is None


def test_an_outgoing_call_loses_the_number_it_called(session):
    out = _call(
        session, "DH-O", offered_days_ago=DAYS + 2, ended_days_ago=DAYS + 1, direction="out"
    )
    incoming = _call(session, "DH-I", offered_days_ago=DAYS + 2, ended_days_ago=DAYS + 1)

    assert _anonymise(session, now=NOW) == 2

    assert _reload(session, Call, out.id).to_number is None
    assert _reload(session, Call, incoming.id).to_number == "+4588000751"  # the municipality's line


def test_batches_a_second_run_and_the_audit_log(session, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    for n in range(5):
        _call(session, f"DH-{n}", offered_days_ago=DAYS + 2 + n, ended_days_ago=DAYS + 1 + n)
    young = _call(session, "DH-Y", offered_days_ago=DAYS, ended_days_ago=DAYS - 1)

    assert count_expired(session, CALLS_PURGE, now=NOW, retention_days=DAYS) == 5
    assert _anonymise(session, now=NOW) == 5
    assert _anonymise(session, now=NOW + timedelta(hours=1)) == 0  # idempotent

    assert count_expired(session, CALLS_PURGE, now=NOW, retention_days=DAYS) == 0
    assert _reload(session, Call, young.id).from_number == CALLER
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "calls.purge").order_by(AuditEntry.id)
    ).all()
    assert [e.after["purged"] for e in entries] == [5, 0]
    assert entries[0].actor_name == "system"
    assert entries[0].after["cutoff"] == (NOW - timedelta(days=DAYS)).isoformat()


def test_reports_roll_ups_and_the_call_export_are_the_same_after_anonymisation(session, engine):
    ensure_default_cost_rate(session=session)
    seed_contact_reasons(session=session)
    today = NOW.astimezone(COPENHAGEN).date()
    first = (today - timedelta(days=200)).replace(day=1)
    codes = ["0751", "0851", "0101"]
    rows = synthetic_calls(random.Random(7), codes, first, today, 6, until=NOW, personal=True)
    insert_calls(session, rows)
    rebuild_rollup(session)
    session.commit()
    filters = ReportFilters(start=first, end=today)

    def snapshot():
        session.expire_all()
        report = cost_report(session=session, start=first, end=today)
        export = b"".join(call_detail_csv(make_sessionmaker(engine), filters))
        session.rollback()
        return report, export, rollup_contents(session)

    before = snapshot()
    expired = count_expired(session, CALLS_PURGE, now=NOW, retention_days=DAYS)
    total = session.query(Call).count()
    assert 0 < expired < total

    assert _anonymise(session, now=NOW) == expired

    after = snapshot()
    assert after[0] == before[0]
    assert after[0].totals.offered + after[0].totals.outgoing == total
    assert after[1] == before[1]
    assert after[2] == before[2]
    rebuild_rollup(session)  # the roll-up kept in step is still what the calls say
    session.commit()
    assert rollup_contents(session) == before[2]
    cutoff = NOW - timedelta(days=DAYS)
    for ended, number, notes in session.execute(
        select(Call.ended_at, Call.from_number, Call.notes)
    ):
        if ended < cutoff:
            assert (number, notes) == (None, "")
        else:
            assert number is not None


@pytest.fixture
def make_callback(session, make_user):
    """A callback for Aarhus: make_callback(status=..., handled_days_ago=..., mail=...)."""
    agent = make_user(Role.AGENT)

    def make(
        status=CallbackStatus.DONE, handled_days_ago: int | None = None, mail=MailStatus.SENT
    ) -> Callback:
        handled = None if handled_days_ago is None else NOW - timedelta(days=handled_days_ago)
        callback = Callback(
            municipality_code="0751",
            booked_by_id=agent.id,
            caller_name="Søren Østergård",
            caller_phone=CALLER,
            question="Vil tale med en sagsbehandler om boligstøtte.",
            preferred_time="i morgen formiddag",
            status=status,
            created_at=NOW - timedelta(days=400),
            handled_at=handled,
            handled_note="Ringet op, sagen er oprettet." if handled else "",
            mail_status=mail,
        )
        session.add(callback)
        session.commit()
        return callback

    return make


def test_handled_callbacks_lose_the_callers_details_open_ones_are_kept(session, make_callback):
    handled_long_ago = make_callback(handled_days_ago=DAYS + 1)
    handled_lately = make_callback(handled_days_ago=DAYS - 1)
    still_open = make_callback(status=CallbackStatus.OPEN)
    mail_pending = make_callback(handled_days_ago=DAYS + 1, mail=MailStatus.QUEUED)

    assert count_expired(session, CALLBACKS_PURGE, now=NOW, retention_days=DAYS) == 1
    assert purge_step(session, CALLBACKS_PURGE, now=NOW, retention_days=DAYS) == 1
    session.commit()

    gone = _reload(session, Callback, handled_long_ago.id)
    details = (gone.caller_name, gone.caller_phone, gone.question, gone.handled_note)
    assert details == ("", "", "", "")
    assert gone.status == CallbackStatus.DONE and gone.handled_at is not None
    assert gone.preferred_time == "i morgen formiddag"  # no personal data; the audit keeps it too
    for kept in (handled_lately, still_open, mail_pending):
        kept = _reload(session, Callback, kept.id)
        assert kept.caller_phone == CALLER and kept.question
    assert purge_step(session, CALLBACKS_PURGE, now=NOW, retention_days=DAYS) == 0


def test_a_dry_run_counts_and_changes_nothing(session, make_callback, settings):
    call = _call(session, "DH-D", offered_days_ago=DAYS + 2, ended_days_ago=DAYS + 1)
    callback = make_callback(handled_days_ago=DAYS + 1)

    reports = run_purge(session, settings=settings, now=NOW, dry_run=True)
    session.commit()

    counts = {report.what: report.count for report in reports}
    assert counts == {
        "replies": 0,
        "calls": 1,
        "callbacks": 1,
        "survey comments": 0,
        "rule searches' agents": 0,
        "rule searches": 0,
    }
    cutoffs = {report.what: report.cutoff for report in reports}
    assert cutoffs["calls"] == cutoffs["callbacks"] == NOW - timedelta(days=DAYS)
    assert _reload(session, Call, call.id).from_number == CALLER
    assert _reload(session, Callback, callback.id).question
    assert session.scalars(select(AuditEntry)).all() == []


def test_the_purge_command_anonymises_calls_and_callbacks(
    session, make_callback, settings, monkeypatch
):
    from hotline.cli import main

    call = _call(session, "DH-P", offered_days_ago=40, ended_days_ago=31)
    callback = make_callback(handled_days_ago=31)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_CALL_RETENTION_DAYS", "30")
    runner = CliRunner()

    result = runner.invoke(main, ["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "calls: 1 would be purged" in result.output
    assert "callbacks: 1 would be purged" in result.output
    assert _reload(session, Call, call.id).from_number == CALLER

    result = runner.invoke(main, ["purge"])
    assert result.exit_code == 0, result.output
    assert "calls: 1 purged" in result.output and "callbacks: 1 purged" in result.output
    assert _reload(session, Call, call.id).from_number is None
    assert _reload(session, Callback, callback.id).caller_phone == ""


@pytest.mark.parametrize("days", [0, -1])
def test_a_call_retention_below_one_day_is_refused(days):
    with pytest.raises(ValidationError, match="HOTLINE_CALL_RETENTION_DAYS must be at least 1"):
        Settings(call_retention_days=days)


def test_the_default_retention_is_90_days():
    assert Settings.model_fields["call_retention_days"].default == 90

"""The retention runner: every declared step, in order, each committed (or rolled back) alone."""

import asyncio
import dataclasses
import logging
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.calls.models import Call, Callback, CallbackStatus, CallState, MailStatus
from hotline.calls.retention import CALLBACKS_PURGE, CALLS_PURGE
from hotline.calls.retention import PURGE_STEPS as CALL_STEPS
from hotline.db import utcnow
from hotline.insight.models import RuleSearch, SurveyInvite
from hotline.insight.retention import PURGE_STEPS as INSIGHT_STEPS
from hotline.insight.retention import SEARCH_LOG_DAYS, SURVEY_COMMENTS_PURGE
from hotline.letters.models import Channel, Reply, ReplyStatus
from hotline.letters.retention import PURGE_STEPS as LETTER_STEPS
from hotline.main import create_app
from hotline.privacy import retention
from hotline.privacy.retention import PURGE_STEPS, run_purge, run_purge_worker

NOW = utcnow()
CALLER = "+4520123456"
# Every kind of personal data that expires, in the order a run purges it, with its audit action.
KINDS = [
    ("replies", "archive.purge"),
    ("calls", "calls.purge"),
    ("callbacks", "callbacks.purge"),
    ("survey comments", "survey_comments.purge"),
    ("rule searches' agents", "rule_searches.purge"),
    ("rule searches", "rule_searches.delete"),
]


def _ago(days: int):
    return NOW - timedelta(days=days)


@pytest.fixture
def expired(session, settings, make_user):
    """One row of each kind of personal data, just past its retention period; their ids."""
    agent = make_user(Role.AGENT)
    call_days, archive_days = settings.call_retention_days, settings.archive_retention_days
    call = Call(
        reference="DH-R1",
        from_number=CALLER,
        notes="Ring tilbage om pas.",
        to_number="+4588000751",
        offered_at=_ago(call_days + 2),
        ended_at=_ago(call_days + 1),
        state=CallState.DONE,
    )
    session.add(call)
    session.flush()
    reply = Reply(
        call_id=call.id,
        reference=call.reference,
        municipality_code="0751",
        author_id=agent.id,
        author_name=agent.full_name,
        channel=Channel.EMAIL,
        recipient_name="Søren Østergård",
        recipient_email="soren@borger.example",
        subject="Svar",
        body_md="Kære Søren",
        status=ReplyStatus.SENT,
        pdf=b"%PDF-1.7",
        pdf_sha256="0" * 64,
        created_at=_ago(archive_days + 1),
    )
    callback = Callback(
        municipality_code="0751",
        booked_by_id=agent.id,
        caller_name="Søren Østergård",
        caller_phone=CALLER,
        question="Boligstøtte",
        preferred_time="i morgen",
        status=CallbackStatus.DONE,
        handled_at=_ago(call_days + 1),
        handled_note="Ringet op.",
        mail_status=MailStatus.SENT,
    )
    invite = SurveyInvite(
        call_id=call.id,
        code="RET1",
        expires_at=_ago(call_days - 13),
        answered_at=_ago(call_days + 1),
        score=2,
        comment="Ring til Jens på 20 12 34 56",
    )
    searches = [
        RuleSearch(municipality_code="0751", agent_id=agent.id, query=q, searched_at=_ago(days))
        for q, days in (("pas", call_days + 1), ("vuggestue", SEARCH_LOG_DAYS + 1))
    ]
    session.add_all([reply, callback, invite, *searches])
    session.commit()
    return {"reply": reply.id, "call": call.id, "callback": callback.id, "invite": invite.id}


def _assert_all_purged(session, ids) -> None:
    session.expire_all()
    reply = session.get(Reply, ids["reply"])
    assert (reply.pdf, reply.recipient_name, reply.body_md) == (b"", "", "")
    call = session.get(Call, ids["call"])
    assert (call.from_number, call.notes) == (None, "")
    callback = session.get(Callback, ids["callback"])
    assert (callback.caller_name, callback.caller_phone, callback.question) == ("", "", "")
    assert session.get(SurveyInvite, ids["invite"]).comment == ""
    [search] = session.scalars(select(RuleSearch)).all()  # the older one is deleted
    assert (search.query, search.agent_id) == ("pas", None)


def _actions(session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_steps_are_every_kind_of_personal_data_declared_by_its_domain():
    assert (*LETTER_STEPS, *CALL_STEPS, *INSIGHT_STEPS) == PURGE_STEPS
    assert [(step.what, step.action) for step in PURGE_STEPS] == KINDS


def test_a_run_purges_each_kind_in_order_and_audits_each_step(session, settings, expired):
    dry = run_purge(session, settings=settings, now=NOW, dry_run=True)
    # Both searches name their agent; only the older one is old enough to be deleted.
    assert [r.count for r in dry] == [1, 1, 1, 1, 2, 1]
    assert _actions(session) == []

    reports = run_purge(session, settings=settings, now=NOW)

    assert [(r.what, r.count, r.cutoff, r.failed) for r in reports] == [
        (r.what, r.count, r.cutoff, False) for r in dry
    ]
    assert reports[0].cutoff == _ago(settings.archive_retention_days)
    assert reports[-1].cutoff == _ago(SEARCH_LOG_DAYS)
    _assert_all_purged(session, expired)
    assert _actions(session) == [action for _, action in KINDS]
    again = run_purge(session, settings=settings, now=NOW + timedelta(hours=1))
    assert [r.count for r in again] == [0] * len(KINDS)


def _breaking_after_first_batch(step):
    """The step, failing once its first batch is purged (flushed, not committed)."""

    def purge(session, ids, *, cutoff, now):
        if session.info.get("purged_once"):
            raise RuntimeError("disk full")
        session.info["purged_once"] = True
        return step.purge(session, ids, cutoff=cutoff, now=now)

    return dataclasses.replace(step, purge=purge)


def _comment(session, n: int, days_ago: int) -> int:
    call = Call(reference=f"DH-C{n}", state=CallState.DONE, offered_at=_ago(days_ago))
    session.add(call)
    session.flush()
    invite = SurveyInvite(
        call_id=call.id,
        code=f"C{n}",
        expires_at=_ago(days_ago - 14),
        answered_at=_ago(days_ago),
        comment=f"Kommentar {n}",
    )
    session.add(invite)
    session.commit()
    return invite.id


def test_a_failing_step_is_rolled_back_whole_and_the_others_keep_their_work(
    session, make_session, settings, expired, monkeypatch, caplog
):
    monkeypatch.setattr(retention, "BATCH_SIZE", 1)
    second = _comment(session, 2, settings.call_retention_days + 3)
    broken = _breaking_after_first_batch(SURVEY_COMMENTS_PURGE)

    with make_session() as run_session, caplog.at_level(logging.ERROR, "hotline.privacy.retention"):
        reports = run_purge(
            run_session, settings=settings, now=NOW, steps=(CALLS_PURGE, broken, CALLBACKS_PURGE)
        )

    assert [(r.what, r.count, r.failed) for r in reports] == [
        ("calls", 1, False),
        ("survey comments", 0, True),
        ("callbacks", 1, False),
    ]
    session.expire_all()
    # Its first batch had emptied a comment: rolled back with the rest of the step.
    comments = [session.get(SurveyInvite, i).comment for i in (expired["invite"], second)]
    assert comments == ["Ring til Jens på 20 12 34 56", "Kommentar 2"]
    assert session.get(Call, expired["call"]).from_number is None
    assert session.get(Callback, expired["callback"]).caller_phone == ""
    assert _actions(session) == ["calls.purge", "callbacks.purge"]
    [record] = caplog.records
    assert record.getMessage() == "the purge of survey comments failed; nothing of it was purged"
    assert "disk full" in record.exc_text


def test_the_purge_command_reports_a_failed_step_and_fails(session, settings, expired, monkeypatch):
    from hotline.cli import main

    broken = _breaking_after_first_batch(SURVEY_COMMENTS_PURGE)
    monkeypatch.setattr(retention, "BATCH_SIZE", 1)
    monkeypatch.setattr(retention, "PURGE_STEPS", (CALLS_PURGE, broken, CALLBACKS_PURGE))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    _comment(session, 2, settings.call_retention_days + 3)

    result = CliRunner().invoke(main, ["purge"])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("calls: 1 purged (older than ")
    assert lines[1].startswith("survey comments: failed, nothing purged (older than ")
    assert lines[2].startswith("callbacks: 1 purged (older than ")
    assert "the purge of survey comments failed; see the error above" in result.output
    assert _actions(session) == ["calls.purge", "callbacks.purge"]


def test_the_app_purges_at_start_up(session, settings, expired):
    settings.purge_worker = True

    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 10
        while len(_actions(session)) < len(KINDS) and time.monotonic() < deadline:
            time.sleep(0.05)
            session.rollback()

    _assert_all_purged(session, expired)
    assert _actions(session) == [action for _, action in KINDS]


def test_a_failing_purge_is_logged_and_the_worker_goes_on(settings, caplog):
    def broken_sessionmaker():
        raise ConnectionRefusedError("database down")

    async def run_briefly():
        task = asyncio.create_task(run_purge_worker(broken_sessionmaker, settings))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if caplog.records:
                break
        assert not task.done()  # still alive, waiting for the next day
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.ERROR, logger="hotline.privacy.retention"):
        asyncio.run(run_briefly())

    [record] = caplog.records
    assert "the retention purge failed" in record.getMessage()
    assert "database down" in record.exc_text

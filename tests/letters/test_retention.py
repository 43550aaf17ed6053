"""Archive retention: old replies lose their PDF and personal content, keep their facts."""

import hashlib
from datetime import timedelta

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.config import Settings
from hotline.db import utcnow
from hotline.letters.models import Channel, Reply, ReplyStatus
from hotline.letters.retention import REPLIES_PURGE
from hotline.privacy import retention
from hotline.privacy.retention import count_expired, purge_step, run_purge

DAYS = 1826
NOW = utcnow()
PDF = b"%PDF-1.7 a letter to Soren"


@pytest.fixture
def make_reply(session, call, agent):
    """Archive a reply of the given age and status: make_reply(days_old=2000)."""

    def factory(*, days_old: int, status: ReplyStatus = ReplyStatus.SENT) -> Reply:
        created = NOW - timedelta(days=days_old)
        reply = Reply(
            call_id=call.id,
            reference=call.reference,
            municipality_code="0751",
            author_id=agent.id,
            author_name=agent.full_name,
            channel=Channel.EMAIL,
            recipient_name="Søren Østergård",
            recipient_address="Åboulevarden 12\n8000 Aarhus C",
            recipient_email="soren@borger.example",
            subject="Svar på din henvendelse",
            body_md="Kære Søren, dit CPR-nummer er ...",
            cited_rules=[{"topic": "pas", "rule_version_ids": [1], "title": "Pas"}],
            status=status,
            pdf=PDF,
            pdf_sha256=hashlib.sha256(PDF).hexdigest(),
            message_id=f"<reply.{days_old}.{status}@digitalhotline.example>",
            attempts=1,
            last_error="SMTPRecipientsRefused: soren@borger.example",
            created_at=created,
            sent_at=created if status == ReplyStatus.SENT else None,
        )
        session.add(reply)
        session.commit()
        return reply

    return factory


def _reload(session, reply: Reply) -> Reply:
    session.expire_all()
    return session.get(Reply, reply.id)


def _purge(session, now=NOW) -> int:
    count = purge_step(session, REPLIES_PURGE, now=now, retention_days=DAYS)
    session.commit()
    return count


def _audit_entries(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.purge")))


def test_an_old_sent_reply_keeps_its_facts_and_loses_its_content(session, make_reply):
    reply = _reload(session, make_reply(days_old=DAYS + 1))
    facts = (reply.reference, reply.municipality_code, reply.channel, reply.author_id)
    proof = (reply.pdf_sha256, reply.message_id, reply.cited_rules, reply.sent_at)

    assert _purge(session) == 1

    # A copy loaded in the caller's session is updated too, and committing trips no guard.
    assert reply.pdf == b"" and reply.purged_at == NOW
    reply = _reload(session, reply)
    assert reply.pdf == b""
    assert (reply.recipient_name, reply.recipient_address, reply.recipient_email) == ("", "", None)
    assert (reply.subject, reply.body_md, reply.last_error) == ("", "", None)
    assert reply.purged_at == NOW
    assert (reply.reference, reply.municipality_code, reply.channel, reply.author_id) == facts
    assert (reply.pdf_sha256, reply.message_id, reply.cited_rules, reply.sent_at) == proof
    assert reply.status == ReplyStatus.SENT and reply.created_at == NOW - timedelta(days=DAYS + 1)


@pytest.mark.parametrize("status", [ReplyStatus.FAILED, ReplyStatus.DOWNLOADED])
def test_old_failed_and_downloaded_replies_are_purged(session, make_reply, status):
    reply = make_reply(days_old=DAYS + 1, status=status)

    assert _purge(session) == 1
    assert _reload(session, reply).pdf == b""


def test_a_young_reply_is_kept(session, make_reply):
    reply = make_reply(days_old=DAYS - 1)

    assert _purge(session) == 0

    reply = _reload(session, reply)
    assert reply.pdf == PDF and reply.purged_at is None and reply.recipient_name


@pytest.mark.parametrize("status", [ReplyStatus.QUEUED, ReplyStatus.SENDING])
def test_an_old_reply_still_to_be_delivered_is_kept(session, make_reply, status):
    reply = make_reply(days_old=DAYS + 100, status=status)

    assert _purge(session) == 0

    reply = _reload(session, reply)
    assert reply.pdf == PDF and reply.recipient_email and reply.purged_at is None


def test_a_second_run_purges_nothing_more(session, make_reply):
    make_reply(days_old=DAYS + 1)
    assert _purge(session) == 1

    assert _purge(session, now=NOW + timedelta(hours=1)) == 0
    [purged] = session.scalars(select(Reply)).all()
    assert purged.purged_at == NOW  # the first run's stamp stays


def test_the_purge_works_through_many_batches(session, make_reply, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    for days in range(5):
        make_reply(days_old=DAYS + 1 + days)
    make_reply(days_old=DAYS + 1, status=ReplyStatus.QUEUED)

    assert _purge(session) == 5
    assert count_expired(session, REPLIES_PURGE, now=NOW, retention_days=DAYS) == 0


def test_a_dry_run_changes_nothing(session, make_reply, settings):
    reply = make_reply(days_old=DAYS + 1)
    make_reply(days_old=10)

    reports = run_purge(session, settings=settings, now=NOW, dry_run=True)
    [report] = [r for r in reports if r.what == "replies"]  # calls: tests/calls/test_retention.py
    session.commit()

    assert (report.what, report.count) == ("replies", 1)
    assert report.cutoff == NOW - timedelta(days=settings.archive_retention_days)
    assert _reload(session, reply).pdf == PDF
    assert _audit_entries(session) == []


def test_each_run_is_audited_once_with_its_count_and_cutoff(session, make_reply):
    make_reply(days_old=DAYS + 1)
    make_reply(days_old=DAYS + 2)
    _purge(session)
    _purge(session)

    first, second = sorted(_audit_entries(session), key=lambda entry: entry.id)
    assert first.actor_id is None and first.actor_name == "system"
    cutoff = (NOW - timedelta(days=DAYS)).isoformat()
    assert first.after == {"purged": 2, "cutoff": cutoff, "retention_days": DAYS}
    assert second.after["purged"] == 0


def test_the_purge_command(session, make_reply, settings, monkeypatch):
    from hotline.cli import main

    old = make_reply(days_old=400)
    young = make_reply(days_old=200)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_ARCHIVE_RETENTION_DAYS", "365")
    runner = CliRunner()
    cutoff = (utcnow() - timedelta(days=365)).strftime("%Y-%m-%d")

    result = runner.invoke(main, ["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "replies: 1 would be purged (older than " + cutoff in result.output
    assert _reload(session, old).purged_at is None

    result = runner.invoke(main, ["purge"])
    assert result.exit_code == 0, result.output
    assert "replies: 1 purged (older than " + cutoff in result.output
    assert _reload(session, old).purged_at is not None
    assert _reload(session, young).purged_at is None
    assert len(_audit_entries(session)) == 1

    result = runner.invoke(main, ["purge"])
    assert "replies: 0 purged" in result.output


@pytest.mark.parametrize("days", ["0", "-30"])
def test_a_retention_below_one_day_is_refused(days, monkeypatch):
    from hotline.cli import main

    with pytest.raises(ValidationError, match="HOTLINE_ARCHIVE_RETENTION_DAYS must be at least 1"):
        Settings(archive_retention_days=int(days))
    monkeypatch.setenv("HOTLINE_ARCHIVE_RETENTION_DAYS", days)

    result = CliRunner().invoke(main, ["purge", "--dry-run"])

    assert result.exit_code == 1
    assert (
        f"HOTLINE_ARCHIVE_RETENTION_DAYS must be at least 1 (days to keep sent replies), not {days}"
        in result.output
    )


@pytest.mark.parametrize("lease", ["0", "-1", "inf"])
def test_an_outbox_lease_that_is_not_positive_is_refused(lease, monkeypatch):
    monkeypatch.setenv("HOTLINE_OUTBOX_LEASE_S", lease)
    with pytest.raises(ValidationError, match="HOTLINE_OUTBOX_LEASE_S must be"):
        Settings()

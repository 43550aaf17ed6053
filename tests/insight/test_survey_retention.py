"""Survey comments go with the calls' retention period; scores and classes stay."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.calls.models import Call, CallState
from hotline.insight.models import SurveyInvite
from hotline.privacy.retention import run_purge

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _answer(session, n: int, days_ago: int, comment: str) -> int:
    answered = NOW - timedelta(days=days_ago)
    call = Call(reference=f"DH-SR{n}", state=CallState.DONE, offered_at=answered)
    session.add(call)
    session.flush()
    invite = SurveyInvite(
        call_id=call.id,
        code=f"CODE{n}",
        expires_at=answered + timedelta(days=14),
        answered_at=answered,
        score=2,
        comment=comment,
        suggested_class="negative",
    )
    session.add(invite)
    session.flush()
    return invite.id


def test_old_comments_are_emptied_and_the_rest_kept(session, settings):
    days = settings.call_retention_days
    old = _answer(session, 1, days + 1, "Lang ventetid, ring til Jens på 20 12 34 56")
    recent = _answer(session, 2, days - 1, "Venlig og hurtig hjælp")
    session.commit()

    dry = {r.what: r.count for r in run_purge(session, settings=settings, now=NOW, dry_run=True)}
    assert dry["survey comments"] == 1
    assert session.get(SurveyInvite, old).comment != ""

    run_purge(session, settings=settings, now=NOW)
    session.commit()
    session.expire_all()
    kept_old, kept_recent = session.get(SurveyInvite, old), session.get(SurveyInvite, recent)
    assert kept_old.comment == "" and (kept_old.score, kept_old.suggested_class) == (2, "negative")
    assert kept_recent.comment == "Venlig og hurtig hjælp"
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "survey_comments.purge")
    ).one()
    assert audit.after["purged"] == 1
    # A second run finds nothing more.
    again = {r.what: r.count for r in run_purge(session, settings=settings, now=NOW)}
    assert again["survey comments"] == 0

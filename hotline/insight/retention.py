"""Survey comments are the citizen's free text: they go after the calls' retention period.

The score and the comment's class stay, so results and insight reports keep their figures.
"""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.calls.retention import call_cutoff
from hotline.config import Settings
from hotline.insight.models import SurveyInvite
from hotline.letters.retention import PurgeReport


def survey_comments_step(
    session: Session, *, settings: Settings, now: datetime, dry_run: bool
) -> PurgeReport:
    """Empty the comments of answers given before the cut-off (see letters/retention.py)."""
    days = settings.call_retention_days
    cutoff = call_cutoff(now=now, retention_days=days)
    expired = (SurveyInvite.answered_at < cutoff, SurveyInvite.comment != "")
    if dry_run:
        count = session.scalar(select(func.count(SurveyInvite.id)).where(*expired)) or 0
    else:
        statement = update(SurveyInvite).where(*expired).values(comment="")
        count = session.execute(statement.execution_options(synchronize_session=False)).rowcount
        record_change(
            session=session,
            actor=None,
            action="survey_comments.purge",
            entity_type="survey_comments",
            entity_id="survey_comments",
            after={"purged": count, "cutoff": cutoff.isoformat(), "retention_days": days},
        )
    return PurgeReport("survey comments", count, cutoff)

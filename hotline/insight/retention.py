"""Survey comments are the citizen's free text: they go after the calls' retention period.

The score and the comment's class stay, so results and insight reports keep their figures.
Rule searches lose their link to the agent after the same period, and go after SEARCH_LOG_DAYS.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.calls.retention import call_cutoff
from hotline.config import Settings
from hotline.insight.models import RuleSearch, SurveyInvite
from hotline.insight.search_gaps import expired_searches
from hotline.letters.retention import PurgeReport

# A year and a month: the monthly insight report compares a month with the one before, and an
# admin may look back a year.
SEARCH_LOG_DAYS = 400


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


def search_log_step(
    session: Session, *, settings: Settings, now: datetime, dry_run: bool
) -> PurgeReport:
    """Unlink searches from their agents after the calls' period; delete them after a year."""
    cutoff = call_cutoff(now=now, retention_days=settings.call_retention_days)
    oldest = now - timedelta(days=SEARCH_LOG_DAYS)
    unlink, delete = expired_searches(unlink_before=cutoff, delete_before=oldest)
    if dry_run:
        linked = (RuleSearch.searched_at < cutoff, RuleSearch.agent_id.is_not(None))
        count = session.scalar(select(func.count(RuleSearch.id)).where(*linked)) or 0
    else:
        options = {"synchronize_session": False}
        count = session.execute(unlink.execution_options(**options)).rowcount
        deleted = session.execute(delete.execution_options(**options)).rowcount
        record_change(
            session=session,
            actor=None,
            action="rule_searches.purge",
            entity_type="rule_searches",
            entity_id="rule_searches",
            after={"unlinked": count, "deleted": deleted, "cutoff": cutoff.isoformat()},
        )
    return PurgeReport("rule searches' agents", count, cutoff)

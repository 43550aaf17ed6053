"""Survey comments are the citizen's free text: they go after the calls' retention period.

The score and the comment's class stay, so results and insight reports keep their figures.
Rule searches lose their link to the agent after the same period, and go after SEARCH_LOG_DAYS.
How and when the purge runs: hotline/privacy/retention.py.
"""

from datetime import datetime
from operator import attrgetter

from sqlalchemy import ColumnElement, and_, delete, update
from sqlalchemy.orm import Session

from hotline.insight.models import RuleSearch, SurveyInvite
from hotline.privacy.purge_step import PurgeStep

# A year and a month: the monthly insight report compares a month with the one before, and an
# admin may look back a year.
SEARCH_LOG_DAYS = 400


def expired_comments(cutoff: datetime) -> ColumnElement[bool]:
    """Survey answers given before the cut-off that still have a comment."""
    return and_(SurveyInvite.answered_at < cutoff, SurveyInvite.comment != "")


def empty_comments(session: Session, ids: list[int], *, cutoff: datetime, now: datetime) -> int:
    """Empty the comments of these answers if still expired; flush only; how many."""
    statement = (
        update(SurveyInvite)
        .where(SurveyInvite.id.in_(ids), expired_comments(cutoff))
        .values(comment="")
    )
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def linked_searches(cutoff: datetime) -> ColumnElement[bool]:
    """Rule searches made before the cut-off that still name their agent."""
    return and_(RuleSearch.searched_at < cutoff, RuleSearch.agent_id.is_not(None))


def unlink_searches(session: Session, ids: list[int], *, cutoff: datetime, now: datetime) -> int:
    """Unlink these searches from their agents if still expired; flush only; how many."""
    statement = (
        update(RuleSearch)
        .where(RuleSearch.id.in_(ids), linked_searches(cutoff))
        .values(agent_id=None)
    )
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def old_searches(cutoff: datetime) -> ColumnElement[bool]:
    """Rule searches made before the cut-off."""
    return RuleSearch.searched_at < cutoff


def delete_searches(session: Session, ids: list[int], *, cutoff: datetime, now: datetime) -> int:
    """Delete these searches if still expired; flush only; how many."""
    statement = delete(RuleSearch).where(RuleSearch.id.in_(ids), old_searches(cutoff))
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


SURVEY_COMMENTS_PURGE = PurgeStep(
    what="survey comments",
    action="survey_comments.purge",
    entity_type="survey_comments",
    entity_id="survey_comments",
    retention_days=attrgetter("call_retention_days"),
    id=SurveyInvite.id,
    expired=expired_comments,
    purge=empty_comments,
)
SEARCH_AGENTS_PURGE = PurgeStep(
    what="rule searches' agents",
    action="rule_searches.purge",
    entity_type="rule_searches",
    entity_id="rule_searches",
    retention_days=attrgetter("call_retention_days"),
    id=RuleSearch.id,
    expired=linked_searches,
    purge=unlink_searches,
)
OLD_SEARCHES_PURGE = PurgeStep(
    what="rule searches",
    action="rule_searches.delete",
    entity_type="rule_searches",
    entity_id="rule_searches",
    retention_days=lambda _settings: SEARCH_LOG_DAYS,
    id=RuleSearch.id,
    expired=old_searches,
    purge=delete_searches,
)
PURGE_STEPS = (SURVEY_COMMENTS_PURGE, SEARCH_AGENTS_PURGE, OLD_SEARCHES_PURGE)

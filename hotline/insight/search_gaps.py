"""Gaps in the knowledge base: what agents searched for and did not find, per municipality.

A search is recorded as the last query of a typing burst (the console searches as the agent
types): a query within BURST of the same agent's previous search for the same municipality, and
going on from it (typed further, or corrected near its end), replaces it. It is a gap when it
found nothing, or when no rule was opened after it. Queries are stored masked (CPR numbers,
phone numbers, e-mail addresses), never with the caller.
"""

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, case, desc, func, or_, select
from sqlalchemy.orm import Session

from hotline.auth.models import User
from hotline.db import utcnow
from hotline.insight.consultations import CONSULTING_ROLES
from hotline.insight.models import RuleSearch
from hotline.insight.month_counts import mask_comment

BURST = timedelta(seconds=30)  # keystrokes this close together are one search
OPEN_WINDOW = timedelta(minutes=10)  # a rule opened this soon after a search answers it
MAX_QUERY = 200
MAX_GAPS = 50


def masked_query(query: str) -> str:
    """The query fit to keep: masked, lower-case, single spaces, at most MAX_QUERY characters."""
    printable = "".join(c if c.isprintable() else " " for c in query)  # no NUL for PostgreSQL
    return " ".join(mask_comment(printable).lower().split())[:MAX_QUERY]


def record_search(
    *,
    session: Session,
    user: User,
    municipality_code: str,
    query: str,
    results: int,
    confident: bool,
) -> RuleSearch | None:
    """Count an agent's search (joining a typing burst into one); None when not counted."""
    text = masked_query(query)
    if user.role not in CONSULTING_ROLES or not text:
        return None
    # As record_consultation: the agent's row held, so two requests of one burst do not both
    # start a search.
    session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    now = utcnow()
    search = _latest(session, user, municipality_code, since=now - BURST)
    if search is None or not _goes_on(search.query, text):
        search = RuleSearch(
            municipality_code=municipality_code, agent_id=user.id, searched_at=now, query=text
        )
        session.add(search)
    search.query, search.results, search.confident = text, results, confident
    search.updated_at = now
    session.flush()
    return search


def _goes_on(before: str, after: str) -> bool:
    """Whether a query goes on from the one before: at least half the shorter one is shared."""
    shared = len(os.path.commonprefix([before, after]))
    return shared >= 1 and shared * 2 >= min(len(before), len(after))


def record_opened(*, session: Session, user: User, municipality_code: str, topic_slug: str) -> None:
    """Note that the agent opened a rule after their latest search (if it was recent)."""
    search = _latest(session, user, municipality_code, since=utcnow() - OPEN_WINDOW)
    if search is not None:
        search.opened_topic = topic_slug
        session.flush()


def _latest(session, user, municipality_code, since: datetime) -> RuleSearch | None:
    return session.scalar(
        select(RuleSearch)
        .where(
            RuleSearch.agent_id == user.id,
            RuleSearch.municipality_code == municipality_code,
            RuleSearch.opened_topic.is_(None),
            RuleSearch.updated_at >= since,
        )
        .order_by(desc(RuleSearch.updated_at), desc(RuleSearch.id))
        .limit(1)
    )


@dataclass(frozen=True)
class Gap:
    """A query the knowledge base did not answer, and how often."""

    query: str
    count: int
    found_nothing: int
    not_opened: int


def knowledge_gaps(
    *, session: Session, municipality_code: str, start: datetime, end: datetime, limit=MAX_GAPS
) -> list[Gap]:
    """The municipality's unanswered queries searched in [start, end), most frequent first."""
    nothing = func.sum(case((RuleSearch.results == 0, 1), else_=0), type_=Integer)
    unopened = func.sum(
        case((and_(RuleSearch.results > 0, RuleSearch.opened_topic.is_(None)), 1), else_=0),
        type_=Integer,
    )
    count = func.count(RuleSearch.id)
    rows = session.execute(
        select(RuleSearch.query, count, nothing, unopened)
        .where(
            RuleSearch.municipality_code == municipality_code,
            RuleSearch.searched_at >= start,
            RuleSearch.searched_at < end,
            or_(RuleSearch.results == 0, RuleSearch.opened_topic.is_(None)),
        )
        .group_by(RuleSearch.query)
        .order_by(desc(count), RuleSearch.query)
        .limit(limit)
    )
    return [Gap(query, n, found or 0, unanswered or 0) for query, n, found, unanswered in rows]

"""Which rules agents open in the console: one row per call and topic, ids only.

A row says that a topic was read for a municipality, during which call and by which agent; it holds
no text about the caller. The monthly insight report counts them per topic.
"""

from datetime import timedelta

from sqlalchemy import and_, exists, insert, literal, select
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.calls.service import get_active_call
from hotline.db import utcnow
from hotline.insight.models import RuleConsultation

# Only those who take calls consult rules for a citizen; an admin reading their own rule does not.
CONSULTING_ROLES = (Role.AGENT, Role.SUPERVISOR)
# Without a call, the same agent reopening the same topic this soon is the same look-up.
REPEAT_WINDOW = timedelta(minutes=15)


def record_consultation(
    *, session: Session, user: User, municipality_code: str, topic_slug: str
) -> bool:
    """Count that the user opened the topic for the municipality; False when it was counted before.

    Once per call and topic (during a call), else once per agent, municipality and topic in
    REPEAT_WINDOW, with one INSERT … SELECT … WHERE NOT EXISTS.
    """
    if user.role not in CONSULTING_ROLES:
        return False
    # Two clicks at once would both find nothing under READ COMMITTED and both insert: holding the
    # agent's row makes the second wait and then see the first's row. NO KEY UPDATE (key_share)
    # does not hold up inserts of rows that point at the agent. SQLite's single writer already
    # serialises the two.
    session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    call = get_active_call(session=session, agent=user)
    now = utcnow()
    c = RuleConsultation
    if call is not None:
        seen = and_(c.call_id == call.id, c.topic_slug == topic_slug)
    else:
        seen = and_(
            c.agent_id == user.id,
            c.call_id.is_(None),
            c.municipality_code == municipality_code,
            c.topic_slug == topic_slug,
            c.at > now - REPEAT_WINDOW,
        )
    values = select(
        literal(now, c.at.type),
        literal(user.id),
        literal(call.id if call else None, c.call_id.type),
        literal(municipality_code, c.municipality_code.type),
        literal(topic_slug, c.topic_slug.type),
    ).where(~exists().where(seen))
    columns = [c.at, c.agent_id, c.call_id, c.municipality_code, c.topic_slug]
    # psycopg forgets an INSERT's row count once its cursor closes, unless asked to keep it.
    statement = insert(c).from_select(columns, values).execution_options(preserve_rowcount=True)
    result = session.execute(statement)
    return result.rowcount == 1

"""A resolved rule as the API sends it: JSON bytes, kept per process by the rules' state."""

from datetime import date

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from hotline.rules.cache import CachedRule, resolved_cache, rules_in_state, topic_state_on
from hotline.rules.resolve import DEFAULT_VERIFY_AFTER_DAYS, resolve_rules, today_in_denmark


def resolve_rule_json(
    *,
    connection: Connection,
    topic_slug: str,
    municipality_code: str,
    on: date | None = None,
    verify_after_days: int = DEFAULT_VERIFY_AFTER_DAYS,
) -> bytes:
    """resolve_rule's result as JSON; one query when this state of the rules was seen before.

    The state (which rules apply and at which version) is read from the database on every call,
    so a change made by any process is in the next answer.
    """
    on = on or today_in_denmark()
    state = topic_state_on(connection, topic_slug, municipality_code)
    key = (topic_slug, municipality_code, on, verify_after_days, state)
    cache = resolved_cache(connection.engine)
    body = cache.get(key)
    if body is not None:
        return body
    # A session of its own on the same connection: it leaves the connection's transaction alone.
    with Session(bind=connection) as session:
        national_rule, local_rule = rules_in_state(session, topic_slug, state)
    resolved = resolve_rules(
        topic_slug, national_rule, local_rule, municipality_code, on, verify_after_days
    )
    body = resolved.model_dump_json().encode()
    if _loaded_as_stated(state, national_rule, local_rule):
        cache.put(key, body)
    return body


def _loaded_as_stated(state: frozenset[tuple], *rules: CachedRule | None) -> bool:
    # A rule loaded from the database (not from memory) may be newer than the state just read.
    loaded = {(rule.id, rule.current_version) for rule in rules if rule is not None}
    return loaded == {(rule_id, version) for rule_id, _code, version, _created in state}

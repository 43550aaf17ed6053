"""Knowledge gaps: the searches that found nothing, or after which no rule was opened."""

from datetime import timedelta

from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.db import utcnow
from hotline.insight.models import RuleSearch
from hotline.insight.monthly import insight_month
from hotline.insight.retention import PURGE_STEPS, SEARCH_LOG_DAYS
from hotline.insight.search_gaps import BURST, knowledge_gaps, record_opened, record_search
from hotline.municipalities.service import get_municipality
from hotline.privacy.retention import run_purge
from tests.rules.conftest import write_rule

DAY = timedelta(days=1)


def _search(session, user, query, results=0, code="0751"):
    record_search(
        session=session,
        user=user,
        municipality_code=code,
        query=query,
        results=results,
        confident=bool(results),
    )
    session.commit()


def _gaps(session, code="0751"):
    now = utcnow()
    return knowledge_gaps(session=session, municipality_code=code, start=now - DAY, end=now + DAY)


def _age(session, seconds: float) -> None:
    """Make every search that many seconds older."""
    for search in session.scalars(select(RuleSearch)):
        search.searched_at -= timedelta(seconds=seconds)
        search.updated_at -= timedelta(seconds=seconds)
    session.commit()


def test_a_typing_burst_is_one_search_with_its_last_query(session, make_user):
    agent = make_user(Role.AGENT)
    for typed in ("vug", "vuggest", "vuggestue"):
        _search(session, agent, typed)
    [search] = session.scalars(select(RuleSearch)).all()
    assert search.query == "vuggestue" and search.results == 0
    _search(session, agent, "vuggestuen")  # corrected: still the same search
    _search(session, agent, "dagpleje")  # a new subject at once: a new search
    _age(session, BURST.total_seconds() + 1)
    _search(session, agent, "dagplejer")  # the same words after a pause: a new search too
    assert sorted((g.query, g.count) for g in _gaps(session)) == [
        ("dagpleje", 1),
        ("dagplejer", 1),
        ("vuggestuen", 1),
    ]


def test_a_search_answered_by_an_opened_rule_is_no_gap(session, make_user):
    agent, other = make_user(Role.AGENT), make_user(Role.AGENT)
    _search(session, agent, "pas", results=3)
    _search(session, other, "pas fornyelse", results=2)
    _search(session, other, "storskrald", results=0, code="0851")
    record_opened(session=session, user=agent, municipality_code="0751", topic_slug="pas")
    session.commit()
    [gap] = _gaps(session)
    assert (gap.query, gap.count, gap.found_nothing, gap.not_opened) == ("pas fornyelse", 1, 0, 1)
    assert [g.query for g in _gaps(session, "0851")] == ["storskrald"]


def test_queries_are_kept_masked_and_only_for_those_who_take_calls(session, make_user):
    agent, admin = make_user(Role.AGENT), make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _search(session, agent, "Borger 010190-1234 ringer fra 20 12 34 56 om Pas")
    _search(session, admin, "noget admin søgte")
    [search] = session.scalars(select(RuleSearch)).all()
    assert "010190" not in search.query and "20 12 34 56" not in search.query
    assert search.query.startswith("borger") and search.query.endswith("om pas")


def test_the_console_records_searches_and_what_was_opened(
    session, client, login, make_user, tmp_path
):
    from hotline.rules.importer import import_rules

    kb = tmp_path / "kb_rules"
    write_rule(kb, "national/pas.md", "Pas i Borgerservice.", title="Pas")
    import_rules(session=session, directory=kb)
    session.commit()
    agent = make_user(Role.AGENT)
    login(agent)
    assert client.get("/console/rules", params={"municipality": "0751", "q": "pas"}).is_success
    client.get("/console/rules/pas", params={"municipality": "0751"})
    _age(session, BURST.total_seconds() + 1)
    page = client.get("/console/rules", params={"municipality": "0751", "q": "vuggestue"})
    assert "huller i vidensbasen" in page.text
    assert [(g.query, g.found_nothing) for g in _gaps(session)] == [("vuggestue", 1)]


def test_the_monthly_insight_and_the_admin_page_show_the_gaps(session, client, login, make_user):
    agent = make_user(Role.AGENT)
    _search(session, agent, "hjemmehjælp til min far")
    month = utcnow().date().replace(day=1)
    insight = insight_month(session, get_municipality(session=session, code="0751"), month)
    assert [g.query for g in insight.gaps] == ["hjemmehjælp til min far"]
    login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    page = client.get("/admin/search", params={"municipality": "0751"})
    assert page.is_success and "hjemmehjælp til min far" in page.text


def test_the_purge_unlinks_old_searches_and_deletes_the_oldest(session, make_user, settings):
    agent = make_user(Role.AGENT)
    _search(session, agent, "vuggestue")
    _age(session, BURST.total_seconds() + 1)
    _search(session, agent, "dagpleje")
    old, older = session.scalars(select(RuleSearch).order_by(RuleSearch.id)).all()
    old.searched_at = utcnow() - timedelta(days=settings.call_retention_days + 10)
    older.searched_at = utcnow() - timedelta(days=401)
    session.commit()
    now = utcnow()

    # The deletion is a step of its own: a dry run counts it, and it has its own audit entry.
    dry = run_purge(session, settings=settings, now=now, dry_run=True, steps=PURGE_STEPS)
    counts = {r.what: r.count for r in dry}
    assert (counts["rule searches' agents"], counts["rule searches"]) == (2, 1)
    done = run_purge(session, settings=settings, now=now, steps=PURGE_STEPS)
    assert [(r.what, r.count) for r in done] == [r[:2] for r in dry]

    session.expire_all()
    [kept] = session.scalars(select(RuleSearch)).all()
    assert kept.query == "vuggestue" and kept.agent_id is None
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "rule_searches").order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.after["purged"], e.after["retention_days"]) for e in audit] == [
        ("rule_searches.purge", 2, settings.call_retention_days),
        ("rule_searches.delete", 1, SEARCH_LOG_DAYS),
    ]

"""Rules held in memory per process: what another process writes is seen at once."""

from datetime import date

import pytest
from sqlalchemy import text

from hotline.kit.errors import NotFound
from hotline.rules import cache
from hotline.rules.models import Rule, RuleVersion
from hotline.rules.resolve import resolve_rule
from tests.rules.conftest import search_rules, write_rule

ON = date(2026, 6, 1)


@pytest.fixture
def pas(kb, imported):
    write_rule(kb, "national/pas.md", "Nationalt pas.", fields={"fee_dkk": 891}, tags=["pas"])
    write_rule(kb, "local/0751/pas.md", "Aarhus pas.", mode="replace", title="Pas i Aarhus")
    imported()


def _add_version_elsewhere(engine, body: str) -> None:
    """What another server process does when an admin saves: a new version, its own connection."""
    with engine.begin() as connection:
        rule_id, current = connection.execute(
            text(
                "SELECT id, current_version FROM rules WHERE topic_slug = 'pas' "
                "AND municipality_code = '0751'"
            )
        ).one()
        connection.execute(
            RuleVersion.__table__.insert().values(
                rule_id=rule_id,
                version=current + 1,
                mode="replace",
                title="Pas i Aarhus",
                category="",
                tags=[],
                body_md=body,
                agent_notes_md="",
                fields={},
                sources=[],
                valid_from=date(2026, 1, 1),
                based_on_national_version=1,
                author_name="Anden proces",
            )
        )
        connection.execute(
            Rule.__table__.update().where(Rule.id == rule_id).values(current_version=current + 1)
        )


def test_a_version_saved_by_another_process_is_resolved_at_once(engine, session, pas):
    before = resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON)
    session.rollback()

    _add_version_elsewhere(engine, "Nyt fra Aarhus.")
    after = resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON)

    assert [s.body_md for s in before.sections] == ["Aarhus pas."]
    assert [s.body_md for s in after.sections] == ["Nyt fra Aarhus."]
    assert after.local.author == "Anden proces" and after.local.version == 2


def test_search_sees_the_same_state_as_resolve(engine, session, pas):
    search_rules(session=session, municipality_code="0751", query="pas", on=ON)
    session.rollback()
    _add_version_elsewhere(engine, "Nyt fra Aarhus.")

    hits = search_rules(session=session, municipality_code="0751", query="pas", on=ON)

    assert [hit.slug for hit in hits] == ["pas"]
    assert hits[0].title == "Pas i Aarhus"


def test_changing_a_result_does_not_change_the_next_one(session, pas):
    first = resolve_rule(session=session, topic_slug="pas", municipality_code="0101", on=ON)
    first.tags.append("ændret")
    first.sources[0]["url"] = "https://example.invalid/"
    first.fields[0].value = 1

    second = resolve_rule(session=session, topic_slug="pas", municipality_code="0101", on=ON)

    assert second.tags == ["pas"]
    assert second.sources[0]["url"] == "https://www.borger.dk/"
    assert second.field("fee_dkk") == 891


def test_an_unknown_municipality_is_not_found(session, pas):
    with pytest.raises(NotFound) as raised:
        resolve_rule(session=session, topic_slug="pas", municipality_code="9999", on=ON)
    assert raised.value.key == "municipalities.not_found"


def test_an_unknown_topic_is_not_found(session, pas):
    with pytest.raises(NotFound) as raised:
        resolve_rule(session=session, topic_slug="findes-ikke", municipality_code="0751", on=ON)
    assert raised.value.key == "rules.not_found"


def test_the_cache_is_bounded(session, pas, monkeypatch):
    rules = cache._cache_for(session)
    monkeypatch.setattr(rules, "max_entries", 1)

    resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON)

    assert len(rules._entries) == 1  # the national and the local rule were loaded; one is kept

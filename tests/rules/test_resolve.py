"""Resolving a topic for a municipality on a date: every local mode, fields, provenance, stale."""

from datetime import date

import pytest

from hotline.kit.errors import NotFound
from hotline.rules.resolve import list_resolved_topics, resolve_rule
from tests.rules.conftest import search_rules, write_rule

ON = date(2026, 6, 1)
NATIONAL_FIELDS = {"fee_dkk": 891, "phone": "33 98 00 10", "legal_basis": "Pasloven"}


@pytest.fixture
def pas(kb, imported):
    write_rule(
        kb, "national/pas.md", "National *tekst*.", notes="Nat. note.", fields=NATIONAL_FIELDS
    )
    write_rule(kb, "national/flytning.md", "Flyt.", title="Flytning", category="Adresse")
    write_rule(
        kb,
        "local/0751/pas.md",
        "Aarhus tekst.",
        notes="Lokal note.",
        mode="replace",
        title="Pas i Aarhus",
        fields={"fee_dkk": 1006, "deadline": "Bestil tid"},
    )
    write_rule(kb, "local/0851/pas.md", "Drop-in i Aalborg.", mode="append", tags=["drop-in"])
    write_rule(kb, "local/0461/pas.md", "Gå til Borgerservice i Svendborg.", mode="not_offered")
    write_rule(
        kb,
        "local/0751/storskrald.md",
        "Ring.",
        mode="local_only",
        title="Storskrald",
        category="Affald",
    )
    imported()


def test_without_local_rule_the_national_rule_applies(session, pas):
    rule = resolve_rule(session=session, topic_slug="pas", municipality_code="0101", on=ON)

    assert (rule.mode, rule.not_offered, rule.stale, rule.local) == ("national", False, False, None)
    assert [s.body_html for s in rule.sections] == ["<p>National <em>tekst</em>.</p>\n"]
    assert rule.field("fee_dkk") == 891
    assert rule.national.scope == "national" and rule.national.version == 1
    assert rule.national.author == "kb_rules/national/pas.md"
    assert [n.body_md for n in rule.agent_notes] == ["Nat. note."]


def test_replace_takes_local_text_and_merges_fields_key_by_key(session, pas):
    rule = resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON)

    assert rule.mode == "replace" and rule.title == "Pas i Aarhus"
    assert [s.body_md for s in rule.sections] == ["Aarhus tekst."]
    assert rule.sections[0].provenance.scope == "0751"
    fields = {f.key: (f.value, f.provenance.scope) for f in rule.fields}
    assert fields == {
        "fee_dkk": (1006, "0751"),
        "deadline": ("Bestil tid", "0751"),
        "phone": ("33 98 00 10", "national"),
        "legal_basis": ("Pasloven", "national"),
    }
    assert [n.provenance.scope for n in rule.agent_notes] == ["national", "0751"]
    assert rule.cited_versions == [rule.national.rule_version_id, rule.local.rule_version_id]


def test_append_gives_national_then_local_section(session, pas):
    rule = resolve_rule(session=session, topic_slug="pas", municipality_code="0851", on=ON)

    assert rule.mode == "append" and rule.title == "Titel pas"
    assert [(s.body_md, s.provenance.scope) for s in rule.sections] == [
        ("National *tekst*.", "national"),
        ("Drop-in i Aalborg.", "0851"),
    ]
    assert rule.field("fee_dkk") == 891
    assert "drop-in" in rule.tags


def test_not_offered_marks_the_topic_with_the_referral_text(session, pas):
    rule = resolve_rule(session=session, topic_slug="pas", municipality_code="0461", on=ON)

    assert rule.not_offered and rule.mode == "not_offered"
    assert [(s.body_md, s.provenance.scope) for s in rule.sections] == [
        ("Gå til Borgerservice i Svendborg.", "0461")
    ]
    assert rule.fields == []


def test_local_only_topic_exists_only_for_its_municipality(session, pas):
    rule = resolve_rule(session=session, topic_slug="storskrald", municipality_code="0751", on=ON)
    assert rule.mode == "local_only" and rule.national is None and rule.title == "Storskrald"

    with pytest.raises(NotFound):
        resolve_rule(session=session, topic_slug="storskrald", municipality_code="0851", on=ON)
    with pytest.raises(NotFound):
        resolve_rule(session=session, topic_slug="findes-ikke", municipality_code="0751", on=ON)


def test_version_dated_in_the_future_is_not_yet_in_force(session, kb, imported, pas):
    write_rule(kb, "national/pas.md", "Ny tekst fra 2027.", valid_from=date(2027, 1, 1))
    imported()

    before = resolve_rule(session=session, topic_slug="pas", municipality_code="0101", on=ON)
    after = resolve_rule(
        session=session, topic_slug="pas", municipality_code="0101", on=date(2027, 1, 1)
    )

    assert before.sections[0].body_md == "National *tekst*." and before.national.version == 1
    assert after.sections[0].body_md == "Ny tekst fra 2027." and after.national.version == 2


def test_expired_version_is_not_in_force(session, kb, imported):
    write_rule(kb, "national/pas.md", valid_to=date(2026, 3, 1))
    imported()

    resolve_rule(session=session, topic_slug="pas", municipality_code="0101", on=date(2026, 2, 28))
    with pytest.raises(NotFound):
        resolve_rule(
            session=session, topic_slug="pas", municipality_code="0101", on=date(2026, 3, 1)
        )


def test_local_rule_is_stale_after_a_national_change(session, kb, imported, pas):
    assert not resolve_rule(
        session=session, topic_slug="pas", municipality_code="0851", on=ON
    ).stale
    write_rule(kb, "national/pas.md", "Ændret national tekst.")
    imported()

    rule = resolve_rule(session=session, topic_slug="pas", municipality_code="0851", on=ON)

    assert rule.stale
    assert (rule.based_on_national_version, rule.national_current_version) == (1, 2)
    topics = {
        t.slug: t for t in list_resolved_topics(session=session, municipality_code="0851", on=ON)
    }
    assert topics["pas"].stale and not topics["flytning"].stale


def test_topic_list_is_sorted_and_scoped(session, pas):
    aarhus = list_resolved_topics(session=session, municipality_code="0751", on=ON)
    aalborg = list_resolved_topics(session=session, municipality_code="0851", on=ON)
    odense = list_resolved_topics(session=session, municipality_code="0461", on=ON)

    assert [t.slug for t in aarhus] == ["flytning", "storskrald", "pas"]
    assert [t.slug for t in aalborg] == ["flytning", "pas"]
    assert [(t.slug, t.not_offered) for t in odense] == [("flytning", False), ("pas", True)]


def test_search_matches_resolved_text_tags_and_fields(session, pas):
    def slugs(code, query):
        found = search_rules(session=session, municipality_code=code, query=query, on=ON)
        return [t.slug for t in found]

    assert slugs("0751", "AARHUS TEKST") == ["pas"]
    assert slugs("0101", "aarhus") == []  # another municipality's local text is not searched
    # The replaced national text still finds the topic; what is shown is Aarhus's text.
    assert slugs("0751", "national *tekst*") == ["pas"]
    assert slugs("0851", "drop-in") == ["pas"]
    assert slugs("0751", "1006") == ["pas"]
    assert slugs("0751", "storskrald") == ["storskrald"]
    assert slugs("0851", "storskrald") == []

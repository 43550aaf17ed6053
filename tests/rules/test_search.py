"""Danish full-text search: stemming, æøå, prefixes, ranking, snippets, municipality scoping.

Runs on whichever database the suite uses (SQLite FTS5, or PostgreSQL's danish configuration
with HOTLINE_TEST_DATABASE_URL).
"""

from datetime import date

import pytest
from sqlalchemy import func, select

from hotline.auth.models import Role
from hotline.rules.models import RuleSearchDocument
from hotline.rules.resolve import search_rules
from hotline.rules.schemas import LocalRuleIn
from hotline.rules.search import SearchHit, reindex_all
from hotline.rules.service import save_local_rule
from tests.rules.conftest import write_rule

ON = date(2026, 6, 1)


def _search(session, query, code="0101"):
    return search_rules(session=session, municipality_code=code, query=query, on=ON)


def _slugs(session, query, code="0101"):
    return [hit.slug for hit in _search(session, query, code)]


@pytest.fixture
def store(kb, imported):
    write_rule(
        kb,
        "national/pas.md",
        "Kommunens borgerservice udsteder pas. Husk billede.",
        title="Pas",
        tags=["rejse"],
        fields={"fee_dkk": 891},
    )
    write_rule(kb, "national/flytning.md", "Meld flytning senest fem dage efter.", title="Flytning")
    write_rule(kb, "national/saar.md", "Behandling af et sår hos lægen.", title="Sårpleje")
    write_rule(kb, "national/sar.md", "SAR er redningstjenesten.", title="Redning")
    write_rule(
        kb,
        "national/kontanthjaelp.md",
        "Ansøg i god tid. Ved flytning skal du give kommunen besked.",
        title="Kontanthjælp",
    )
    write_rule(kb, "national/html.md", "Skriv <script>alert(1)</script> & kommune.", title="Kode")
    write_rule(kb, "local/0751/pas.md", "Aarhus udsteder pas i Dokk1.", mode="replace")
    write_rule(kb, "local/0461/pas.md", "Gå til Borgerservice i Svendborg.", mode="not_offered")
    write_rule(kb, "local/0851/pas.md", "Aalborg har drop-in om torsdagen.", mode="append")
    write_rule(
        kb,
        "local/0751/storskrald.md",
        "Ring til Kredsløb for storskrald.",
        mode="local_only",
        title="Storskrald",
        category="Affald",
    )
    imported()


def test_danish_stemming_finds_other_forms(session, store):
    assert "pas" in _slugs(session, "kommunens borgerservice")
    assert "pas" in _slugs(session, "kommune borgerservice")
    assert "html" in _slugs(session, "kommunens")


def test_ae_oe_aa_stay_distinct(session, store):
    assert _slugs(session, "sår") == ["saar"]
    assert _slugs(session, "sar") == ["sar"]


def test_the_last_word_matches_as_a_prefix(session, store):
    assert set(_slugs(session, "fly")) == {"flytning", "kontanthjaelp"}
    assert _slugs(session, "kontanthj") == ["kontanthjaelp"]
    assert _slugs(session, "flyx") == []


def test_every_word_must_match(session, store):
    assert _slugs(session, "flytning kommunen") == ["kontanthjaelp"]
    assert _slugs(session, "flytning redningstjenesten") == []


def test_a_title_hit_ranks_above_a_body_hit(session, store):
    assert _slugs(session, "flytning") == ["flytning", "kontanthjaelp"]


def test_tags_and_field_values_are_searched(session, store):
    assert _slugs(session, "rejse") == ["pas"]
    assert _slugs(session, "891") == ["pas"]


def test_snippet_marks_matches_and_escapes_html(session, store):
    [hit] = _search(session, "script")
    assert isinstance(hit, SearchHit)
    assert "<script>" not in hit.snippet_html
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; &amp;" in (
        hit.snippet_html
    )
    [pas] = _search(session, "kommunens billede")
    assert "<mark>Kommunens</mark>" in pas.snippet_html
    assert "<mark>billede</mark>" in pas.snippet_html


def test_replaced_national_text_is_not_found_but_the_local_text_is(session, store):
    assert "pas" not in _slugs(session, "billede", code="0751")
    assert _slugs(session, "dokk1", code="0751") == ["pas"]
    [hit] = _search(session, "pas", code="0751")
    assert "Dokk1" in hit.snippet_html and "billede" not in hit.snippet_html


def test_appended_text_is_found_with_the_national_text(session, store):
    assert _slugs(session, "drop", code="0851") == ["pas"]
    assert _slugs(session, "billede", code="0851") == ["pas"]


def test_a_not_offered_topic_shows_as_such_without_the_national_text(session, store):
    [hit] = _search(session, "pas", code="0461")
    assert hit.not_offered
    assert "Svendborg" in hit.snippet_html and "billede" not in hit.snippet_html
    assert _slugs(session, "billede", code="0461") == []
    assert _slugs(session, "svendborg", code="0461") == ["pas"]


def test_local_only_is_found_only_in_its_municipality(session, store):
    assert _slugs(session, "storskrald", code="0751") == ["storskrald"]
    assert _slugs(session, "kredsløb", code="0751") == ["storskrald"]
    assert _slugs(session, "storskrald", code="0851") == []


def test_another_municipalitys_local_text_is_never_found(session, store):
    assert _slugs(session, "dokk1", code="0851") == []
    assert _slugs(session, "aalborg", code="0751") == []
    assert _slugs(session, "svendborg") == []


def test_the_index_follows_a_saved_local_rule(session, store, make_user):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0101")
    assert _slugs(session, "rådhuset") == []
    save_local_rule(
        session=session,
        user=admin,
        municipality_code="0101",
        topic_slug="flytning",
        expected_version=0,
        data=LocalRuleIn(mode="replace", body_md="Mød op på Rådhuset.", valid_from=ON),
    )
    session.commit()

    assert _slugs(session, "rådhuset") == ["flytning"]
    assert "flytning" not in _slugs(session, "senest")  # the replaced text no longer counts
    assert _slugs(session, "rådhuset", code="0751") == []


def test_a_version_not_yet_in_force_is_not_found(session, kb, imported):
    write_rule(kb, "national/ny.md", "Fremtidig regel.", valid_from=date(2027, 1, 1))
    imported()
    assert _slugs(session, "fremtidig") == []


def test_reindex_all_rebuilds_the_documents(session, store):
    before = session.scalar(select(func.count()).select_from(RuleSearchDocument))
    assert reindex_all(session=session) == before
    session.commit()
    assert _slugs(session, "dokk1", code="0751") == ["pas"]


def test_empty_and_stop_word_queries(session, store):
    assert len(_search(session, "  ")) == 6  # every topic, as the topic list
    assert _slugs(session, "???") == []


def test_api_returns_ranked_hits_with_snippets(api_client, make_user, store):
    client = api_client(make_user(Role.AGENT))
    response = client.get(
        "/api/rules/search", params={"municipality": "0751", "q": "fly", "on": ON.isoformat()}
    )
    assert response.status_code == 200
    body = response.json()
    assert [hit["slug"] for hit in body] == ["flytning", "kontanthjaelp"]
    assert body[0]["snippet_html"].startswith("Meld <mark>flytning</mark>")


def test_reindex_command_indexes_versions_written_without_the_index(
    session, store, settings, monkeypatch
):
    """An upgraded database gets its index from `hotline rules reindex`."""
    from click.testing import CliRunner
    from sqlalchemy import delete

    from hotline.rules.cli import rules

    session.execute(delete(RuleSearchDocument))
    session.commit()
    assert _slugs(session, "dokk1", code="0751") == []
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(rules, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "rule versions indexed" in result.output
    session.expire_all()
    assert _slugs(session, "dokk1", code="0751") == ["pas"]

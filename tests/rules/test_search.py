"""The rule search, one mechanism at a time, on whichever database the suite uses.

Every word optional and ranked by coverage; æ/ø/å folding; typos; compounds together or apart;
synonyms; national words never lost; plain-text snippets; weak matches and "Mente du …?";
municipality scoping; the index kept in step with edits.
"""

from datetime import date

import pytest
from sqlalchemy import delete, func, select, update

from hotline.auth.models import Role
from hotline.rules.models import RuleSearchDocument
from hotline.rules.schemas import LocalRuleIn
from hotline.rules.search import SearchHit, reindex_all, search_topics
from hotline.rules.search.documents import ANALYZER, index_missing_versions
from hotline.rules.service import save_local_rule
from hotline.rules.synonyms import add_local_synonym
from tests.rules.conftest import write_rule

ON = date(2026, 6, 1)
PAS_TEXT = """Du søger om pas i Borgerservice. Husk dit gamle pas og et **pasfoto**.

| Alder | Pris |
|---|---|
| 18 år og ældre | 891 kr. |

Se [borger.dk](https://www.borger.dk/pas)."""


def _result(session, query, code="0101"):
    return search_topics(
        session=session, municipality_code=code, query=query, on=ON, verify_after_days=365
    )


def _slugs(session, query, code="0101"):
    return [hit.slug for hit in _result(session, query, code).hits]


@pytest.fixture
def store(kb, imported):
    write_rule(
        kb, "national/pas.md", PAS_TEXT, title="Pas – ansøgning og fornyelse", tags=["rejse"]
    )
    write_rule(
        kb,
        "national/sundhedskort.md",
        "Et nyt sundhedskort koster 225 kr., hvis kortet er bortkommet.",
        title="Sundhedskort",
        tags=["sygesikring"],
    )
    write_rule(
        kb,
        "national/flytning.md",
        "Du skal anmelde din flytning senest 5 dage efter, at du er flyttet.",
        title="Flytning",
        tags=["adresse"],
    )
    write_rule(
        kb, "national/digital-post.md", "Læs din digitale post i app'en.", title="Digital Post"
    )
    write_rule(kb, "national/nemkonto.md", "Din NemKonto er din bankkonto.", title="NemKonto")
    write_rule(kb, "national/id-kort.md", "Kommunen udsteder et id-kort.", title="ID-kort")
    write_rule(kb, "national/saar.md", "Behandling af et sår hos lægen.", title="Sårpleje")
    write_rule(kb, "national/sar.md", "SAR er redningstjenesten.", title="Redning")
    write_rule(kb, "national/mitid.md", "Ring til MitID Support.", title="MitID – hjælp")
    write_rule(
        kb,
        "local/0751/pas.md",
        "I Aarhus søger du kun ved tidsbestilling på Dokk1.",
        mode="replace",
        title="Pas – tidsbestilling",
    )
    write_rule(kb, "local/0461/pas.md", "Gå til Borgerservice i Svendborg.", mode="not_offered")
    write_rule(
        kb,
        "local/0751/storskrald.md",
        "Ring til Kredsløb.",
        mode="local_only",
        title="Storskrald",
        category="Affald",
    )
    (kb / "synonyms.txt").write_text(
        "# national synonyms\nsundhedskort, sygesikringsbevis, det gule kort\nnemid => mitid\n",
        encoding="utf-8",
    )
    imported()


def test_every_word_is_optional_and_more_coverage_ranks_higher(session, store):
    assert _slugs(session, "mistet sundhedskort")[0] == "sundhedskort"
    assert _slugs(session, "jeg flytter til")[0] == "flytning"  # a trailing stop word
    assert _slugs(session, "sundhedskort qwxyzzy")[0] == "sundhedskort"  # an unknown word
    # Each topic of a two-subject query is found.
    assert set(_slugs(session, "pas og flytning")[:2]) == {"pas", "flytning"}
    # The topic with both words ranks above those with one ("kr" is in two texts).
    assert _slugs(session, "225 kr")[0] == "sundhedskort"


def test_a_title_match_ranks_above_a_text_match(session, store):
    assert _slugs(session, "pas")[0] == "pas"
    assert _slugs(session, "sundhedskort")[0] == "sundhedskort"


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("laegen", "saar"),  # "lægen" with æ written ae
        ("saarpleje", "saar"),  # å written aa
        ("sundhedskortet", "sundhedskort"),  # definite form
        ("flyttet", "flytning"),
        ("digitale", "digital-post"),
    ],
)
def test_inflections_and_ae_oe_aa_find_the_proper_spelling(session, store, query, slug):
    assert _slugs(session, query)[0] == slug


def test_dropped_diacritics_match_loosely_and_exact_ranks_first(session, store):
    assert _slugs(session, "sår")[0] == "saar"
    assert _slugs(session, "sar")[0] == "sar"  # exact first, the loose "sår" after
    assert "saar" in _slugs(session, "sar")
    assert _slugs(session, "sundhedskort")[0] == _slugs(session, "sundhedskört")[0]


def test_typos_are_forgiven_by_length(session, store):
    assert _slugs(session, "sundhedkort")[0] == "sundhedskort"  # one typo in 12 letters
    assert _slugs(session, "sundehdskrot")[0] == "sundhedskort"  # two transpositions, 12 letters
    assert _slugs(session, "flytnig")[0] == "flytning"  # one typo in 7 letters
    assert _slugs(session, "flyntig")[0] == "flytning"  # a transposition counts as one
    assert _slugs(session, "fltnig") == []  # two typos in 6 letters: too many
    assert _slugs(session, "psa") == []  # no typo under 5 letters


def test_compounds_written_together_or_apart(session, store):
    assert _slugs(session, "digitalpost")[0] == "digital-post"  # split into known parts
    assert _slugs(session, "nem konto")[0] == "nemkonto"  # joined into a known word
    assert _slugs(session, "idkort")[0] == "id-kort"  # a hyphenated word written together
    assert _slugs(session, "id kort")[0] == "id-kort"


def test_national_synonyms_equivalent_one_way_and_multi_word(session, store):
    assert _slugs(session, "sygesikringsbevis")[0] == "sundhedskort"
    assert _slugs(session, "mistet det gule kort")[0] == "sundhedskort"
    assert _slugs(session, "nemid")[0] == "mitid"
    assert "nemid" not in " ".join(_slugs(session, "mitid"))  # one-way: nothing more for mitid
    assert _slugs(session, "sygesikringsbvis")[0] == "sundhedskort"  # a synonym with a typo


def test_a_municipalitys_own_synonyms_apply_there_only(session, store, make_user):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    assert _slugs(session, "sofa", code="0751") == []
    add_local_synonym(
        session=session, user=admin, municipality_code="0751", line="sofa, madras => storskrald"
    )
    session.commit()
    assert _slugs(session, "sofa", code="0751") == ["storskrald"]
    assert _slugs(session, "sofa", code="0851") == []


def test_national_words_are_never_lost_to_a_local_replacement(session, store):
    # Aarhus's text never says "fornyelse" or "pasfoto", the national one does.
    [first, *_] = _result(session, "pas fornyelse", code="0751").hits
    assert first.slug == "pas" and first.title == "Pas – tidsbestilling"
    assert _slugs(session, "pasfoto", code="0751") == ["pas"]
    assert _slugs(session, "dokk1", code="0751") == ["pas"]
    [hit] = _result(session, "pasfoto", code="0751").hits
    assert "Dokk1" in hit.snippet_html  # what is shown is Aarhus's text


def test_snippets_are_plain_text_with_the_matches_marked(session, store):
    [hit, *_] = _result(session, "pris pasfoto").hits
    assert isinstance(hit, SearchHit)
    for syntax in ("**", "|", "---", "](", "##"):
        assert syntax not in hit.snippet_html
    assert "<mark>pasfoto</mark>" in hit.snippet_html
    assert "borger.dk" not in hit.snippet_html or "https://" not in hit.snippet_html


def test_snippets_escape_html(session, kb, imported):
    write_rule(kb, "national/kode.md", "Skriv <script>alert(1)</script> & kommune.", title="Kode")
    imported()
    [hit] = _result(session, "script").hits
    assert "<script>" not in hit.snippet_html
    assert "&lt;<mark>script</mark>&gt;" in hit.snippet_html and "&amp;" in hit.snippet_html


def test_weak_matches_say_so_and_nothing_confident_for_the_uncovered(session, store):
    strong = _result(session, "sundhedskort bortkommet")
    assert strong.confident and not strong.hits[0].weak
    weak = _result(session, "sundhedskort til hunden vuggestue")
    assert weak.hits[0].slug == "sundhedskort" and weak.hits[0].weak and not weak.confident
    assert not any(not hit.weak for hit in _result(session, "vuggestue pladsgaranti").hits)


def test_did_you_mean_comes_from_the_index_vocabulary(session, store):
    found = _result(session, "redningstjenstenxx")
    assert found.hits == []
    assert found.suggestions and found.suggestions[0] == "redningstjenesten"
    assert _result(session, "qqqqqqqq").suggestions == []


def test_a_not_offered_topic_shows_as_such(session, store):
    [hit] = _result(session, "pas", code="0461").hits
    assert hit.not_offered and "Svendborg" in hit.snippet_html


def test_scope_local_only_and_other_municipalities(session, store):
    assert _slugs(session, "storskrald", code="0751") == ["storskrald"]
    assert _slugs(session, "storskrald", code="0851") == []
    assert _slugs(session, "dokk1", code="0851") == []
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
    assert _slugs(session, "rådhuse") == ["flytning"]  # the vocabulary learnt the new word
    assert _slugs(session, "rådhuset", code="0751") == []


def test_a_version_not_yet_in_force_is_not_found(session, kb, imported):
    write_rule(kb, "national/ny.md", "Fremtidig regel.", valid_from=date(2027, 1, 1))
    imported()
    assert _slugs(session, "fremtidig") == []


def test_documents_of_an_older_analysis_are_made_again(session, store):
    count = session.scalar(select(func.count()).select_from(RuleSearchDocument))
    session.execute(update(RuleSearchDocument).values(analyzer=ANALYZER - 1, title_terms=""))
    session.commit()
    assert index_missing_versions(session.connection()) == count
    session.commit()
    assert _slugs(session, "sundhedskort")[0] == "sundhedskort"
    assert reindex_all(session=session) == count


def test_reindex_command_indexes_versions_written_without_the_index(
    session, store, settings, monkeypatch
):
    from click.testing import CliRunner

    from hotline.rules.cli import rules

    session.execute(delete(RuleSearchDocument))
    session.commit()
    assert _slugs(session, "dokk1", code="0751") == []
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(rules, ["reindex"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert _slugs(session, "dokk1", code="0751") == ["pas"]


def test_api_returns_ranked_hits_with_snippets_and_weak(api_client, make_user, store):
    client = api_client(make_user(Role.AGENT))
    params = {"municipality": "0751", "q": "flytnig", "on": ON.isoformat()}
    body = client.get("/api/rules/search", params=params).json()
    assert body[0]["slug"] == "flytning" and body[0]["weak"] is False
    assert "<mark>flytning</mark>" in body[0]["snippet_html"]
    everything = client.get("/api/rules/search", params={"municipality": "0751", "q": ""}).json()
    assert {hit["slug"] for hit in everything} >= {"pas", "storskrald"}


def test_candidates_are_only_the_municipalitys_and_national(session, kb, imported):
    from hotline.rules.search.engine import find_candidates
    from hotline.rules.search.query import parse_query
    from hotline.rules.search.synonyms import synonyms_for
    from hotline.rules.search.vocabulary import vocabulary_for

    write_rule(kb, "national/pas.md", "Pas i Borgerservice.", title="Pas")
    # A local text with the word "national" (also the national documents' scope) and "pas".
    write_rule(kb, "local/0751/pas.md", "Den nationale regel om pas gælder.", mode="append")
    imported()
    vocabulary = vocabulary_for(session)
    parsed = parse_query("pas", vocabulary, synonyms_for(session, "0101"))
    found = find_candidates(session, parsed, "0101", ON, vocabulary)
    scopes = {
        session.get(RuleSearchDocument, candidate.id).municipality_code for candidate in found
    }
    assert scopes == {None}


def test_documents_written_at_once_all_reach_the_vocabulary(session, store, engine, make_user):
    """Of two saves at the same moment, the one committed last is read too (ids in commit
    order: a search between the two commits must not skip the other's document)."""
    import threading

    from hotline.db import make_sessionmaker

    admin = make_user(Role.MUNICIPALITY_ADMIN, "0101")
    first, second = make_sessionmaker(engine)(), make_sessionmaker(engine)()

    def save(s, slug, text):
        save_local_rule(
            session=s,
            user=s.get(type(admin), admin.id),
            municipality_code="0101",
            topic_slug=slug,
            expected_version=0,
            data=LocalRuleIn(mode="append", body_md=text, valid_from=ON),
        )

    save(first, "flytning", "Kvaksalverbrev til flytning.")  # written, not yet committed
    thread = threading.Thread(
        target=lambda: (save(second, "pas", "Troldmandsattest til pas."), second.commit())
    )
    thread.start()
    thread.join(timeout=0.5)
    assert _slugs(session, "troldmandsattest") == []  # the second waits for the first
    session.rollback()
    first.commit()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert _slugs(session, "troldmandsattest") == ["pas"]
    assert _slugs(session, "kvaksalverbrev") == ["flytning"]
    first.close()
    second.close()

"""Synonyms kept by people: the national file, imported with the rules; a municipality's lines."""

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.rules.importer import RuleImportError, import_rules
from hotline.rules.models import Rule, SearchSynonym
from hotline.rules.search.synonyms import canonical_line, parse_synonym_line
from hotline.rules.synonyms import add_local_synonym, delete_local_synonym, list_synonyms
from tests.rules.conftest import write_rule


def _national(session) -> list[str]:
    return [s.line for s in list_synonyms(session=session, municipality_code=None)]


@pytest.mark.parametrize(
    ("line", "canonical"),
    [
        ("Sundhedskort ,  det  GULE kort", "sundhedskort, det gule kort"),
        ("NemID, nem-id => MitID", "nemid, nem-id => mitid"),
        ("mit.dk, e-boks", "mit.dk, e-boks"),
    ],
)
def test_lines_are_stored_in_one_form(line, canonical):
    assert canonical_line(line) == canonical


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("pas", "synonyms.needs_two"),
        ("a => b => c", "synonyms.two_arrows"),
        ("=> mitid", "synonyms.one_way_needs_both_sides"),
        ("pas, ???", "synonyms.no_words"),
        ("pas, en to tre fire fem", "synonyms.phrase_too_long"),
        ("pas, " + "x" * 400, "synonyms.too_long"),
    ],
)
def test_a_bad_line_says_what_is_wrong(line, key):
    with pytest.raises(InvalidInput) as caught:
        parse_synonym_line(line)
    assert caught.value.key == key


def test_the_national_file_is_imported_with_the_rules_and_follows_it(session, kb, imported):
    write_rule(kb, "national/pas.md", "Pas.", title="Pas")
    synonyms = kb / "synonyms.txt"
    synonyms.write_text("# a comment\npas, rejsepas  # old word\nnemid => mitid\n", "utf-8")
    summary = imported()
    assert _national(session) == ["pas, rejsepas", "nemid => mitid"]
    assert "synonyms: 2 added, 0 removed" in str(summary)
    synonyms.write_text("nemid => mitid\nborger.dk, borger dk\n", "utf-8")
    imported()
    assert sorted(_national(session)) == ["borger.dk, borger dk", "nemid => mitid"]
    synonyms.unlink()  # without the file the national list stays as it is
    imported()
    assert len(_national(session)) == 2


def test_a_broken_synonyms_file_imports_nothing(session, kb):
    write_rule(kb, "national/pas.md", "Pas.", title="Pas")
    (kb / "synonyms.txt").write_text("pas, rejsepas\npas\n", "utf-8")
    with pytest.raises(RuleImportError) as caught:
        import_rules(session=session, directory=kb)
    session.rollback()
    assert caught.value.problems == ["synonyms.txt:2: " + _danish("synonyms.needs_two")]
    assert session.scalars(select(Rule)).all() == []
    assert _national(session) == []


def _danish(key: str) -> str:
    from hotline.i18n import t

    return t(key)


def test_an_admin_keeps_their_municipalitys_lines_audited(session, make_user):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    line = add_local_synonym(
        session=session, user=admin, municipality_code="0751", line="Sofa, madras => storskrald"
    )
    session.commit()
    assert [s.line for s in list_synonyms(session=session, municipality_code="0751")] == [
        "sofa, madras => storskrald"
    ]
    with pytest.raises(Conflict):
        add_local_synonym(
            session=session, user=admin, municipality_code="0751", line="sofa,madras=>storskrald"
        )
    delete_local_synonym(session=session, user=admin, municipality_code="0751", synonym_id=line.id)
    session.commit()
    assert list_synonyms(session=session, municipality_code="0751") == []
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "search_synonym").order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.municipality_code, e.before, e.after) for e in entries] == [
        ("synonyms.add", "0751", None, {"line": "sofa, madras => storskrald"}),
        ("synonyms.delete", "0751", {"line": "sofa, madras => storskrald"}, None),
    ]


def test_an_admin_cannot_touch_another_municipalitys_lines(session, make_user):
    aarhus = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    aalborg = make_user(Role.MUNICIPALITY_ADMIN, "0851")
    line = add_local_synonym(
        session=session, user=aarhus, municipality_code="0751", line="sofa => storskrald"
    )
    session.commit()
    with pytest.raises(PermissionDenied):
        add_local_synonym(session=session, user=aalborg, municipality_code="0751", line="a, b")
    with pytest.raises(PermissionDenied):
        delete_local_synonym(
            session=session, user=aalborg, municipality_code="0751", synonym_id=line.id
        )
    with pytest.raises(NotFound):  # nor through its own municipality's code
        delete_local_synonym(
            session=session, user=aalborg, municipality_code="0851", synonym_id=line.id
        )
    assert session.get(SearchSynonym, line.id) is not None


def test_the_admin_page_adds_refuses_and_deletes(session, client, login, make_user):
    login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    added = client.post("/admin/search/0751/synonyms", data={"line": "sofa, madras => storskrald"})
    assert added.is_success and "sofa, madras =&gt; storskrald" in added.text
    refused = client.post("/admin/search/0751/synonyms", data={"line": "sofa"})
    assert refused.status_code == 422
    assert _danish("synonyms.needs_two") in refused.text and 'value="sofa"' in refused.text
    [line] = list_synonyms(session=session, municipality_code="0751")
    deleted = client.post(f"/admin/search/0751/synonyms/{line.id}/delete")
    assert deleted.is_success and _danish("synonyms.admin.deleted") in deleted.text
    assert list_synonyms(session=session, municipality_code="0751") == []


def test_the_json_api_adds_lists_and_deletes(api_client, make_user):
    client = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    created = client.post("/api/synonyms/0751", json={"line": "sofa => storskrald"})
    assert created.status_code == 201
    assert client.post("/api/synonyms/0751", json={"line": "sofa => storskrald"}).status_code == 409
    assert client.post("/api/synonyms/0751", json={"line": "sofa"}).status_code == 422
    listed = client.get("/api/synonyms/0751").json()
    assert [s["line"] for s in listed["local"]] == ["sofa => storskrald"]
    assert client.delete(f"/api/synonyms/0751/{created.json()['id']}").status_code == 204
    assert client.get("/api/synonyms/0751").json()["local"] == []

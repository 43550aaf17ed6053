"""A local rule's history: what changed (fields and texts), restoring, reviewing a stale rule."""

from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.kit.errors import Conflict, NotFound, PermissionDenied
from hotline.rules.changes import FieldChange, TextChange
from hotline.rules.history import (
    local_rule_history,
    national_change,
    restore_local_version,
    review_local_rule,
)
from hotline.rules.resolve import resolve_rule
from hotline.rules.schemas import LocalRuleIn, SourceRef
from hotline.rules.service import get_rule, get_rule_history, save_local_rule
from tests.rules.conftest import write_rule

ON = date(2026, 6, 1)
# How a changed run of words starts, so a screen reader says what happened to it.
ADDED = '<span class="sr-only">Tilføjet: </span>'
REMOVED = '<span class="sr-only">Slettet: </span>'
NATIONAL_FIELDS = {"fee_dkk": 891, "phone": "70 20 00 00"}
FEE = {"fee_dkk": 1006}


@pytest.fixture
def national_pas(kb, imported):
    write_rule(kb, "national/pas.md", "Linje et.\nLinje to.", title="Pas")
    imported()


def _save(session, user, expected, body, code="0751", mode="replace", **extra):
    data = LocalRuleIn(mode=mode, body_md=body, valid_from=date(2026, 1, 1), **extra)
    version = save_local_rule(
        session=session,
        user=user,
        municipality_code=code,
        topic_slug="pas",
        expected_version=expected,
        data=data,
    )
    session.commit()
    return version


def _change_national(kb, imported, body="Linje et.\nLinje tre."):
    write_rule(kb, "national/pas.md", body, title="Pas")
    imported()


def _audit(session, action):
    return session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


# --- history ---


def test_history_lists_versions_newest_first_with_diffs(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Jensen")
    _save(session, admin, 0, "Linje et.\nLokal linje.")
    _save(session, admin, 1, "Linje et.\nRettet lokal linje.", mode="append")

    history = local_rule_history(
        session=session, user=admin, municipality_code="0751", topic_slug="pas"
    )

    assert [e.version.version for e in history.entries] == [2, 1]
    newest, first = history.entries
    assert newest.is_current and not first.is_current
    assert newest.version.author_name == "Sofie Jensen" and str(newest.version.mode) == "append"
    assert newest.to_previous.body == TextChange(
        "Linje et.\nLokal linje.", "Linje et.\nRettet lokal linje."
    )
    assert newest.to_previous.fields == [FieldChange("mode", "version", "replace", "append")]
    assert first.to_previous is None
    assert first.to_national.body == TextChange("Linje et.\nLinje to.", "Linje et.\nLokal linje.")
    assert history.national.version == 1 and history.current_version == 2


def test_history_is_scoped_to_the_admins_municipalities(session, make_user, national_pas):
    _save(session, make_user(Role.SYSTEM_ADMIN), 0, "Lokal.")
    for user in (make_user(Role.MUNICIPALITY_ADMIN, "0851"), make_user(Role.AGENT)):
        with pytest.raises(PermissionDenied):
            local_rule_history(
                session=session, user=user, municipality_code="0751", topic_slug="pas"
            )
    with pytest.raises(NotFound):
        local_rule_history(
            session=session,
            user=make_user(Role.SYSTEM_ADMIN),
            municipality_code="0751",
            topic_slug="findes-ikke",
        )


def test_history_compares_every_field_not_only_the_text(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    first_source = {"url": "https://www.aarhus.dk/pas", "verified": date(2026, 1, 5)}
    newer_source = {"url": "https://www.aarhus.dk/pas", "verified": date(2026, 3, 2)}
    _save(
        session,
        admin,
        0,
        "Samme tekst.",
        fields={"fee_dkk": 1006, "phone": "89 40 20 00"},
        tags=["dokk1"],
        sources=[first_source],
    )
    _save(
        session,
        admin,
        1,
        "Samme tekst.",
        fields={"fee_dkk": 1106, "deadline": "3 uger", "self_service_url": "https://aarhus.dk/pas"},
        tags=["dokk1", "pas"],
        sources=[newer_source],
        agent_notes_md="Ny note.",
        valid_to=date(2027, 1, 1),
    )

    newest = local_rule_history(
        session=session, user=admin, municipality_code="0751", topic_slug="pas"
    ).entries[0]

    assert newest.to_previous.fields == [
        FieldChange("tags", "version", ["dokk1"], ["dokk1", "pas"]),
        FieldChange("fee_dkk", "fields", 1006, 1106),
        FieldChange("deadline", "fields", None, "3 uger"),
        FieldChange("phone", "fields", "89 40 20 00", None),
        FieldChange("self_service_url", "fields", None, "https://aarhus.dk/pas"),
        FieldChange("sources", "version", [SourceRef(**first_source)], [SourceRef(**newer_source)]),
        FieldChange("valid_to", "version", None, date(2027, 1, 1)),
    ]
    assert newest.to_previous.body is None
    assert newest.to_previous.notes == TextChange("", "Ny note.")


def test_history_compares_fields_with_the_national_rule(session, kb, imported, make_user):
    write_rule(kb, "national/pas.md", "National.", title="Pas", fields=NATIONAL_FIELDS)
    imported()
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _save(session, admin, 0, "National.", fields={"fee_dkk": 1006, "phone": "70 20 00 00"})

    (entry,) = local_rule_history(
        session=session, user=admin, municipality_code="0751", topic_slug="pas"
    ).entries

    # The phone is the national one: only the fee departs from it; the text is the same.
    assert entry.to_national.fields == [FieldChange("fee_dkk", "fields", 891, 1006)]
    assert entry.to_national.body is None


def test_an_imported_version_is_marked_as_imported(session, kb, imported, make_user):
    write_rule(kb, "national/pas.md", "National.", title="Pas")
    write_rule(kb, "local/0751/pas.md", "Fra filen.", mode="replace")
    imported()
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Jensen")
    _save(session, admin, 1, "Rettet af Sofie.")

    newest, first = local_rule_history(
        session=session, user=admin, municipality_code="0751", topic_slug="pas"
    ).entries

    assert first.imported and not newest.imported


# --- restore ---


def test_restore_makes_a_new_version_with_the_old_content(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Jensen")
    _save(session, admin, 0, "Første tekst.", fields={"fee_dkk": 1006}, tags=["dokk1"])
    _save(session, admin, 1, "Anden tekst.", mode="append")
    other = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Ole Hansen")

    restored = restore_local_version(
        session=session,
        user=other,
        municipality_code="0751",
        topic_slug="pas",
        version=1,
        expected_version=2,
    )
    session.commit()

    history = get_rule_history(session=session, topic_slug="pas", municipality_code="0751")
    old = history[-1]
    assert restored.version == 3 and [v.version for v in history] == [3, 2, 1]
    for name in ("mode", "title", "body_md", "tags", "fields", "sources", "valid_from"):
        assert getattr(restored, name) == getattr(old, name), name
    assert restored.author_name == "Ole Hansen"
    resolved = resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON)
    assert resolved.sections[0].body_md == "Første tekst." and resolved.local.version == 3
    (entry,) = _audit(session, "rule.restore")
    assert entry.before["version"] == 2 and entry.after["version"] == 3
    assert entry.after["copied_from_version"] == 1 and entry.municipality_code == "0751"
    assert entry.entity_id == "0751/pas"


def test_restore_with_a_stale_expected_version_is_a_conflict(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _save(session, admin, 0, "Første.")
    _save(session, admin, 1, "Anden.")

    with pytest.raises(Conflict) as error:
        restore_local_version(
            session=session,
            user=admin,
            municipality_code="0751",
            topic_slug="pas",
            version=1,
            expected_version=1,
        )

    session.rollback()
    assert error.value.params == {"version": 2}
    assert (
        get_rule(session=session, topic_slug="pas", municipality_code="0751").current_version == 2
    )
    assert _audit(session, "rule.restore") == []


def test_restore_checks_permission_and_the_version(session, make_user, national_pas):
    _save(session, make_user(Role.SYSTEM_ADMIN), 0, "Første.")
    for user in (make_user(Role.MUNICIPALITY_ADMIN, "0851"), make_user(Role.AGENT)):
        with pytest.raises(PermissionDenied):
            restore_local_version(
                session=session,
                user=user,
                municipality_code="0751",
                topic_slug="pas",
                version=1,
                expected_version=1,
            )
    with pytest.raises(NotFound):
        restore_local_version(
            session=session,
            user=make_user(Role.MUNICIPALITY_ADMIN, "0751"),
            municipality_code="0751",
            topic_slug="pas",
            version=7,
            expected_version=1,
        )


# --- review ---


def test_review_clears_stale_without_changing_the_text(session, kb, imported, make_user):
    write_rule(kb, "national/pas.md", "Linje et.\nLinje to.", title="Pas")
    imported()
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Jensen")
    saved = _save(session, admin, 0, "Lokal tekst.", mode="append", fields={"fee_dkk": 1006})
    _change_national(kb, imported)
    before = resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON)
    assert before.stale

    change = national_change(session=session, topic_slug="pas", local=saved)
    assert (change.based_on, change.current) == (1, 2)
    assert change.changes.body == TextChange("Linje et.\nLinje to.", "Linje et.\nLinje tre.")

    reviewer = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Ole Hansen")
    reviewed = review_local_rule(
        session=session,
        user=reviewer,
        municipality_code="0751",
        topic_slug="pas",
        expected_version=1,
    )
    session.commit()

    after = resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON)
    assert not after.stale
    assert reviewed.version == 2 and reviewed.based_on_national_version == 2
    assert reviewed.author_name == "Ole Hansen"
    first = get_rule_history(session=session, topic_slug="pas", municipality_code="0751")[-1]
    for name in ("mode", "title", "body_md", "agent_notes_md", "tags", "fields", "valid_from"):
        assert getattr(reviewed, name) == getattr(first, name), name
    assert [s.body_md for s in after.sections] == [s.body_md for s in before.sections]
    assert national_change(session=session, topic_slug="pas", local=reviewed) is None
    (entry,) = _audit(session, "rule.review")
    assert entry.before["based_on_national_version"] == 1
    assert entry.after["based_on_national_version"] == 2 and entry.actor_id == reviewer.id


def test_review_with_a_stale_expected_version_is_a_conflict(
    session, kb, imported, make_user, national_pas
):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _save(session, admin, 0, "Første.")
    _save(session, admin, 1, "Anden.")
    _change_national(kb, imported)

    with pytest.raises(Conflict):
        review_local_rule(
            session=session,
            user=admin,
            municipality_code="0751",
            topic_slug="pas",
            expected_version=1,
        )

    session.rollback()
    assert resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON).stale
    assert _audit(session, "rule.review") == []


def test_review_of_an_up_to_date_rule_adds_no_version(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _save(session, admin, 0, "Første.")

    same = review_local_rule(
        session=session, user=admin, municipality_code="0751", topic_slug="pas", expected_version=1
    )

    assert same.version == 1 and _audit(session, "rule.review") == []


def test_review_is_scoped_to_the_admins_municipalities(
    session, kb, imported, make_user, national_pas
):
    _save(session, make_user(Role.SYSTEM_ADMIN), 0, "Første.")
    _change_national(kb, imported)
    for user in (make_user(Role.MUNICIPALITY_ADMIN, "0851"), make_user(Role.AGENT)):
        with pytest.raises(PermissionDenied):
            review_local_rule(
                session=session,
                user=user,
                municipality_code="0751",
                topic_slug="pas",
                expected_version=1,
            )
    assert resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON).stale


# --- HTML routes ---


@pytest.fixture
def aarhus_pas(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Jensen")
    _save(session, admin, 0, "Første <b>tekst</b>.")
    _save(session, admin, 1, "Anden tekst.")
    return admin


def test_history_page_shows_versions_diffs_and_restore_forms(login, aarhus_pas):
    client = login(aarhus_pas)

    page = client.get("/admin/rules/0751/pas/history")

    assert page.status_code == 200
    text = page.text
    assert "Version 2" in text and "Version 1" in text and "Sofie Jensen" in text
    assert f"<p><del>{REMOVED}Første &lt;b&gt;tekst&lt;/b&gt;.</del></p>" in text  # escaped
    assert f"<p><ins>{ADDED}Anden tekst.</ins></p>" in text
    assert 'action="/admin/rules/0751/pas/restore/1"' in text
    assert 'action="/admin/rules/0751/pas/restore/2"' not in text  # the current one
    assert text.count('name="csrf_token"') >= 1 and "style=" not in text
    assert "/admin/rules/0751/pas/history" in client.get("/admin/rules/0751/pas").text
    assert "/admin/rules/0751/pas/history" in client.get("/admin/rules").text


def test_restore_route_restores_and_conflicts(session, login, aarhus_pas):
    client = login(aarhus_pas)
    token = client.headers["X-CSRF-Token"]

    stale = client.post(
        "/admin/rules/0751/pas/restore/1",
        data={"csrf_token": token, "expected_version": "1"},
        follow_redirects=False,
    )
    done = client.post(
        "/admin/rules/0751/pas/restore/1",
        data={"csrf_token": token, "expected_version": "2"},
        follow_redirects=False,
    )

    assert stale.status_code == 409 and "Nogen har gemt en nyere version" in stale.text
    assert done.status_code == 303
    assert done.headers["location"].startswith("/admin/rules/0751/pas/history")
    assert "gendannet som version 3" in client.get(done.headers["location"]).text
    session.expire_all()
    newest = get_rule_history(session=session, topic_slug="pas", municipality_code="0751")[0]
    assert (newest.version, newest.body_md) == (3, "Første <b>tekst</b>.")


def test_edit_page_shows_stale_warning_and_review_clears_it(
    session, kb, imported, login, aarhus_pas
):
    _change_national(kb, imported)
    client = login(aarhus_pas)

    page = client.get("/admin/rules/0751/pas").text
    assert "Markér som gennemgået" in page and 'action="/admin/rules/0751/pas/review"' in page
    assert f"Linje <del>{REMOVED}to.</del><ins>{ADDED}tre.</ins>" in page

    token = client.headers["X-CSRF-Token"]
    stale = client.post(
        "/admin/rules/0751/pas/review", data={"csrf_token": token, "expected_version": "1"}
    )
    done = client.post(
        "/admin/rules/0751/pas/review",
        data={"csrf_token": token, "expected_version": "2"},
        follow_redirects=False,
    )

    assert stale.status_code == 409
    assert (
        done.status_code == 303
        and "markeret som gennemgået" in client.get(done.headers["location"]).text
    )
    session.expire_all()
    resolved = resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=ON)
    assert not resolved.stale and resolved.sections[0].body_md == "Anden tekst."
    assert "Markér som gennemgået" not in client.get("/admin/rules/0751/pas").text


class _ChangeRows(HTMLParser):
    """The rows of the change tables on a page: (part, before, after) as their text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, ...]] = []
        self._cells: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr" and "hl-change" in (dict(attrs).get("class") or "").split():
            self._cells = []
        elif tag in ("th", "td") and self._cells is not None:
            self._cells.append("")

    def handle_endtag(self, tag):
        if tag == "tr" and self._cells is not None:
            self.rows.append(tuple(" ".join(cell.split()) for cell in self._cells))
            self._cells = None

    def handle_data(self, data):
        if self._cells:
            self._cells[-1] += data


def _change_rows(html: str) -> set[tuple[str, ...]]:
    parser = _ChangeRows()
    parser.feed(html)
    return set(parser.rows)


def _entries(page: str) -> list[str]:
    """The HTML of each version on the history page, newest first."""
    return page.split('<li class="hl-rule-history-entry')[1:]


def test_history_page_shows_changed_fields_rendered_text_and_who(
    session, kb, imported, login, make_user
):
    write_rule(kb, "national/pas.md", "National.", title="Pas", fields=NATIONAL_FIELDS)
    write_rule(kb, "local/0751/pas.md", "Bestil **tid** på Dokk1.", mode="replace", fields=FEE)
    imported()
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Jensen")
    fields = {"fee_dkk": 1105, "self_service_url": "https://aarhus.dk/pas"}
    body = "Bestil **tid** i Borgerservice.\n\n- Medbring dit gamle pas"
    _save(session, admin, 1, body, fields=fields, valid_to=date(2027, 1, 1))

    page = login(admin).get("/admin/rules/0751/pas/history")

    assert page.status_code == 200
    newest, first = _entries(page.text)
    assert {
        ("Gebyr", "1.006 kr.", "1.105 kr."),
        ("Selvbetjening", "Ikke angivet", "https://aarhus.dk/pas"),
        ("Gældende til", "Indtil videre", "1. januar 2027"),
        ("Gebyr", "891 kr.", "1.105 kr."),  # compared with the national rule
    } <= _change_rows(newest)
    # The text is rendered Markdown, the changed words marked with words as well as colour.
    assert "Bestil <strong>tid</strong> " in newest and "**" not in newest
    assert f"<del>{REMOVED}på Dokk1.</del><ins>{ADDED}i Borgerservice.</ins>" in newest
    assert f"<li><ins>{ADDED}Medbring dit gamle pas</ins></li>" in newest
    assert "Sofie Jensen" in newest and "Indlæst fra kb_rules" in first
    assert "local/0751/pas.md" not in page.text and "style=" not in page.text


def test_edit_page_shows_the_national_changes_fields_included(
    session, kb, imported, login, aarhus_pas
):
    write_rule(kb, "national/pas.md", "Linje et.\nLinje to.", title="Pas", fields={"fee_dkk": 1105})
    imported()

    page = login(aarhus_pas).get("/admin/rules/0751/pas").text

    assert "Markér som gennemgået" in page
    assert ("Gebyr", "Ikke angivet", "1.105 kr.") in _change_rows(page)
    assert "Tekst til borgeren" not in page.split('id="rule-form"')[0]  # the text is the same


@pytest.mark.parametrize("who", ["other_admin", "agent"])
def test_history_restore_and_review_refuse_others(
    session, kb, imported, login, make_user, aarhus_pas, who
):
    _change_national(kb, imported)
    user = (
        make_user(Role.MUNICIPALITY_ADMIN, "0851")
        if who == "other_admin"
        else make_user(Role.AGENT)
    )
    client = login(user)
    data = {"csrf_token": client.headers["X-CSRF-Token"], "expected_version": "2"}

    assert client.get("/admin/rules/0751/pas/history").status_code == 403
    assert client.post("/admin/rules/0751/pas/restore/1", data=data).status_code == 403
    assert client.post("/admin/rules/0751/pas/review", data=data).status_code == 403

    session.expire_all()
    assert (
        get_rule(session=session, topic_slug="pas", municipality_code="0751").current_version == 2
    )
    assert _audit(session, "rule.restore") == [] and _audit(session, "rule.review") == []


def test_a_restored_text_is_found_by_search(session, make_user, national_pas):
    from tests.rules.conftest import search_rules

    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _save(session, admin, 0, "Bestil tid på Dokk1.")
    _save(session, admin, 1, "Ring til Borgerservice.")
    restore_local_version(
        session=session,
        user=admin,
        municipality_code="0751",
        topic_slug="pas",
        version=1,
        expected_version=2,
    )
    session.commit()

    found = search_rules(session=session, municipality_code="0751", query="Dokk1")

    assert [t.slug for t in found] == ["pas"]

"""A local rule's history: diffs, restoring an old version, reviewing a stale rule."""

from datetime import date

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.kit.errors import Conflict, NotFound, PermissionDenied
from hotline.rules.history import (
    DiffLine,
    diff_html,
    local_rule_history,
    national_change,
    restore_local_version,
    review_local_rule,
    text_diff,
)
from hotline.rules.resolve import resolve_rule
from hotline.rules.schemas import LocalRuleIn
from hotline.rules.service import get_rule, get_rule_history, save_local_rule
from tests.rules.conftest import write_rule

ON = date(2026, 6, 1)


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


# --- diffs ---


def test_text_diff_marks_added_and_removed_lines():
    diff = text_diff("a\nb\nc", "a\nB\nc")
    assert DiffLine("removed", "b") in diff and DiffLine("added", "B") in diff
    assert DiffLine("same", "a") in diff
    assert text_diff("same", "same") == []


def test_diff_html_escapes_text_and_uses_classes():
    html = str(diff_html(text_diff("", "<script>alert(1)</script>")))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'class="hl-diff-added"' in html and "style=" not in html


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
    assert DiffLine("removed", "Lokal linje.") in newest.to_previous
    assert DiffLine("added", "Rettet lokal linje.") in newest.to_previous
    assert first.to_previous == []
    assert DiffLine("removed", "Linje to.") in first.to_national
    assert DiffLine("added", "Lokal linje.") in first.to_national
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
    assert DiffLine("removed", "Linje to.") in change.diff
    assert DiffLine("added", "Linje tre.") in change.diff

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
    assert 'class="hl-diff-added"' in text and 'class="hl-diff-removed"' in text
    assert "Første &lt;b&gt;tekst&lt;/b&gt;." in text
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
    assert "Linje tre." in page and 'class="hl-diff-added"' in page

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

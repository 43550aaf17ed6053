"""Drafts of local rules: saving, two admins on one draft, preview, publishing, scoping, audit."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.i18n import t
from hotline.kit.errors import Conflict, PermissionDenied
from hotline.rules.drafts import (
    discard_draft,
    get_draft,
    preview_draft,
    publish_draft,
    save_draft,
)
from hotline.rules.models import RuleDraft, RuleVersion
from hotline.rules.resolve import resolve_rule, today_in_denmark
from hotline.rules.schemas import LocalRuleIn
from hotline.rules.service import get_rule, save_local_rule
from tests.conftest import log_in_client
from tests.rules.conftest import write_rule

DRAFT = "/api/rules/local/0751/pas/draft"
CONTENT = {
    "mode": "append",
    "title": "",
    "body_md": "Husk at bestille tid på **Dokk1**.",
    "agent_notes_md": "Spørg efter sagsnummeret.",
    "fields": {"fee_dkk": 1006, "phone": "+45 89 40 20 00"},
    "valid_from": "2026-01-01",
}


@pytest.fixture
def rules(kb, imported):
    write_rule(
        kb,
        "national/pas.md",
        "National pastekst.",
        notes="Nationale noter.",
        title="Pas",
        fields={"fee_dkk": 891, "deadline": "4 uger"},
    )
    write_rule(kb, "local/0751/pas.md", "Gå til Borgerservice.", mode="replace")
    imported()


@pytest.fixture
def admins(make_user):
    return (
        make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Anne Aarhus"),
        make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Bo Aarhus"),
    )


def _save(session, user, revision, base=None, **changes):
    draft = save_draft(
        session=session,
        user=user,
        municipality_code="0751",
        topic_slug="pas",
        data=LocalRuleIn(**{**CONTENT, **changes}),
        expected_revision=revision,
        base_version=base,
    )
    session.commit()
    return draft


def _versions(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(RuleVersion.id)))


def _audit(session, action):
    return session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


# --- the service ---


def test_save_and_load_a_draft_without_publishing(session, admins, rules):
    anne, _ = admins
    before = resolve_rule(session=session, topic_slug="pas", municipality_code="0751")

    first = _save(session, anne, 0)
    second = _save(session, anne, 1, body_md="Rettet kladde.")
    unchanged = _save(session, anne, 2, body_md="Rettet kladde.")  # no new revision

    draft = get_draft(session=session, user=anne, municipality_code="0751", topic_slug="pas")
    assert draft.id == first.id == second.id == unchanged.id
    assert len(_audit(session, "rule.draft.save")) == 2
    assert (draft.revision, draft.base_version) == (2, 1)
    assert draft.content["body_md"] == "Rettet kladde." and draft.updated_by_name == "Anne Aarhus"
    assert LocalRuleIn.model_validate(draft.content).fields.fee_dkk == 1006
    after = resolve_rule(session=session, topic_slug="pas", municipality_code="0751")
    assert after == before  # agents still see the published rule


def test_two_admins_on_one_draft_get_a_conflict_naming_who_saved(session, admins, rules):
    anne, bo = admins
    _save(session, anne, 0)

    with pytest.raises(Conflict) as started:
        _save(session, bo, 0, body_md="Bos egen kladde.")  # Bo thought there was none
    session.rollback()
    _save(session, bo, 1, body_md="Bos rettelse.")
    with pytest.raises(Conflict) as stale:
        _save(session, anne, 1, body_md="Annes rettelse.")
    session.rollback()

    assert started.value.key == "rules.drafts.conflict"
    message = t(stale.value.key, **stale.value.params)
    assert message.startswith("Bo Aarhus har gemt kladden den ") and "(revision 2)" in message
    assert " kl. " in message
    draft = get_draft(session=session, user=anne, municipality_code="0751", topic_slug="pas")
    assert (draft.revision, draft.content["body_md"]) == (2, "Bos rettelse.")


def test_a_draft_based_on_an_old_version_is_a_conflict(session, admins, rules):
    anne, bo = admins
    _save(session, bo, 0, base=1)

    with pytest.raises(Conflict) as error:
        _save(session, anne, 1, base=0)

    assert error.value.key == "rules.conflict"


@pytest.mark.parametrize("mode", ["replace", "append", "not_offered"])
def test_preview_is_what_agents_see_after_publishing(session, admins, rules, mode):
    anne, _ = admins
    _save(session, anne, 0, mode=mode, title="Pas i Aarhus", tags=["dokk1"])

    preview = preview_draft(session=session, user=anne, municipality_code="0751", topic_slug="pas")
    publish_draft(session=session, user=anne, municipality_code="0751", topic_slug="pas")
    session.commit()
    resolved = resolve_rule(session=session, topic_slug="pas", municipality_code="0751")

    assert _content(preview) == _content(resolved)
    assert preview.local.version == resolved.local.version == 2
    assert "Husk at bestille tid på <strong>Dokk1</strong>." in preview.sections[-1].body_html


def test_preview_of_a_future_draft_shows_its_first_day(session, admins, rules):
    anne, _ = admins
    start = today_in_denmark() + timedelta(days=30)
    _save(session, anne, 0, valid_from=start.isoformat(), body_md="Ny ordning.")

    preview = preview_draft(session=session, user=anne, municipality_code="0751", topic_slug="pas")
    today = preview_draft(
        session=session,
        user=anne,
        municipality_code="0751",
        topic_slug="pas",
        on=today_in_denmark(),
    )
    publish_draft(session=session, user=anne, municipality_code="0751", topic_slug="pas")
    session.commit()

    assert preview.on == start and preview.sections[-1].body_md == "Ny ordning."
    assert "Ny ordning." not in [s.body_md for s in today.sections]
    on_start = resolve_rule(session=session, topic_slug="pas", municipality_code="0751", on=start)
    assert _content(preview) == _content(on_start)


def test_preview_changes_nothing(session, admins, rules):
    anne, _ = admins
    _save(session, anne, 0)
    versions, audit = _versions(session), session.scalar(select(func.count(AuditEntry.id)))

    preview_draft(session=session, user=anne, municipality_code="0751", topic_slug="pas")
    session.commit()

    assert _versions(session) == versions
    assert session.scalar(select(func.count(AuditEntry.id))) == audit
    assert (
        get_rule(session=session, topic_slug="pas", municipality_code="0751").current_version == 1
    )


def test_publish_adds_exactly_one_version_and_removes_the_draft(session, admins, rules):
    anne, _ = admins
    _save(session, anne, 0)
    versions = _versions(session)

    version = publish_draft(
        session=session, user=anne, municipality_code="0751", topic_slug="pas", expected_revision=1
    )
    session.commit()

    assert _versions(session) == versions + 1
    assert (version.version, version.body_md, version.author_name) == (
        2,
        CONTENT["body_md"],
        "Anne Aarhus",
    )
    assert session.scalars(select(RuleDraft)).all() == []
    [saved] = _audit(session, "rule.save")
    assert saved.after["version"] == 2 and saved.entity_id == "0751/pas"


def test_publish_after_someone_else_published_is_a_conflict_and_keeps_the_draft(
    session, admins, rules
):
    anne, bo = admins
    _save(session, anne, 0)
    data = LocalRuleIn(mode="replace", body_md="Bos direkte rettelse.")
    save_local_rule(
        session=session,
        user=bo,
        municipality_code="0751",
        topic_slug="pas",
        expected_version=1,
        data=data,
    )
    session.commit()
    versions = _versions(session)

    with pytest.raises(Conflict) as error:
        publish_draft(session=session, user=anne, municipality_code="0751", topic_slug="pas")
    session.rollback()

    assert error.value.key == "rules.drafts.published_meanwhile"
    assert t(error.value.key, **error.value.params).startswith("Bo Aarhus har udgivet version 2")
    assert _versions(session) == versions
    draft = get_draft(session=session, user=anne, municipality_code="0751", topic_slug="pas")
    assert draft is not None and draft.base_version == 1
    # Rebased deliberately on the newest version, the draft publishes over it.
    _save(session, anne, 1, base=2)
    assert publish_draft(
        session=session, user=anne, municipality_code="0751", topic_slug="pas"
    ).version == (3)


def test_draft_save_and_discard_are_audited(session, admins, rules):
    anne, bo = admins
    _save(session, anne, 0)
    _save(session, bo, 1, body_md="Bos rettelse.")

    discard_draft(
        session=session, user=bo, municipality_code="0751", topic_slug="pas", expected_revision=2
    )
    session.commit()

    created, changed = _audit(session, "rule.draft.save")
    [discarded] = _audit(session, "rule.draft.discard")
    assert created.before is None and created.after["revision"] == 1
    assert changed.before["content"]["body_md"] == CONTENT["body_md"]
    assert changed.after["content"]["body_md"] == "Bos rettelse."
    assert (discarded.before["revision"], discarded.after) == (2, None)
    assert {e.entity_type for e in (created, changed, discarded)} == {"rule_draft"}
    assert discarded.actor_id == bo.id and discarded.municipality_code == "0751"
    assert session.scalars(select(RuleDraft)).all() == []


def test_other_municipalities_admins_and_agents_may_not_touch_a_draft(
    session, make_user, admins, rules
):
    anne, _ = admins
    _save(session, anne, 0)
    for user in (make_user(Role.MUNICIPALITY_ADMIN, "0851"), make_user(Role.AGENT)):
        args = dict(session=session, user=user, municipality_code="0751", topic_slug="pas")
        with pytest.raises(PermissionDenied):
            get_draft(**args)
        with pytest.raises(PermissionDenied):
            save_draft(**args, data=LocalRuleIn(**CONTENT), expected_revision=1)
        with pytest.raises(PermissionDenied):
            preview_draft(**args)
        with pytest.raises(PermissionDenied):
            publish_draft(**args)
        with pytest.raises(PermissionDenied):
            discard_draft(**args)


# --- the JSON API ---


def test_api_saves_previews_and_publishes_a_draft(session, api_client, admins, rules):
    client = api_client(admins[0])

    assert client.get(DRAFT).status_code == 404
    saved = client.put(DRAFT, json={**CONTENT, "expected_revision": 0})
    loaded = client.get(DRAFT)
    preview = client.get(f"{DRAFT}/preview")
    published = client.post(f"{DRAFT}/publish", params={"revision": 1})
    resolved = client.get("/api/rules/resolve", params={"municipality": "0751", "topic": "pas"})

    assert saved.status_code == 200, saved.text
    assert saved.json()["revision"] == 1 and saved.json()["base_version"] == 1
    assert loaded.json()["content"]["body_md"] == CONTENT["body_md"]
    assert loaded.json()["updated_by"] == "Anne Aarhus"
    assert preview.status_code == 200 and published.status_code == 200
    assert published.json()["version"] == 2
    assert _content_json(preview.json()) == _content_json(resolved.json())
    assert client.get(DRAFT).status_code == 404


def test_api_conflicts_keep_the_draft(session, api_client, admins, rules):
    anne, bo = (api_client(admin) for admin in admins)
    anne.put(DRAFT, json={**CONTENT, "expected_revision": 0})
    direct = bo.put(
        "/api/rules/local/0751/pas",
        json={"mode": "replace", "body_md": "Direkte.", "expected_version": 1},
    )
    assert direct.status_code == 200

    stale_save = bo.put(DRAFT, json={**CONTENT, "expected_revision": 0})
    stale_publish = anne.post(f"{DRAFT}/publish")
    stale_discard = bo.delete(DRAFT, params={"revision": 7})

    assert stale_save.status_code == 409 and "Anne Aarhus har gemt kladden" in stale_save.text
    assert stale_publish.status_code == 409
    assert stale_publish.json()["error"] == "rules.drafts.published_meanwhile"
    assert stale_discard.status_code == 409
    assert anne.get(DRAFT).json()["revision"] == 1
    assert bo.delete(DRAFT, params={"revision": 1}).status_code == 204
    assert anne.get(DRAFT).status_code == 404


def test_api_refuses_other_municipalities_agents_and_bad_input(
    session, api_client, make_user, admins, rules
):
    api_client(admins[0]).put(DRAFT, json={**CONTENT, "expected_revision": 0})
    aalborg = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0851"))
    agent = api_client(make_user(Role.AGENT))
    body = {**CONTENT, "body_md": "Overtaget.", "expected_revision": 1}

    for client in (aalborg, agent):
        assert client.get(DRAFT).status_code == 403
        assert client.put(DRAFT, json=body).status_code == 403
        assert client.get(f"{DRAFT}/preview").status_code == 403
        assert client.post(f"{DRAFT}/publish").status_code == 403
        assert client.delete(DRAFT).status_code == 403
    bad = api_client(admins[0]).put(DRAFT, json={**body, "body_md": " "})

    assert bad.status_code == 422
    session.expire_all()
    [draft] = session.scalars(select(RuleDraft)).all()
    assert (draft.revision, draft.content["body_md"]) == (1, CONTENT["body_md"])
    assert _versions(session) == 2  # the national and the local version, nothing published


# --- the HTML pages ---


def _form(**values):
    form = {
        "expected_version": "1",
        "draft_revision": "0",
        "mode": "append",
        "title": "",
        "category": "",
        "tags": "",
        "body_md": "Husk at bestille tid på Dokk1.",
        "agent_notes_md": "",
        "fee_dkk": "1006",
        "deadline": "",
        "phone": "",
        "self_service_url": "",
        "legal_basis": "",
        "valid_from": "2026-01-01",
        "valid_to": "",
    }
    return {**form, **values}


def test_admin_saves_previews_and_publishes_through_the_edit_page(session, login, admins, rules):
    client = login(admins[0])
    page = client.get("/admin/rules/0751/pas").text
    assert 'formaction="/admin/rules/0751/pas/draft/publish"' in page
    assert 'hx-post="/admin/rules/0751/pas/draft/preview"' in page

    saved = client.post("/admin/rules/0751/pas/draft", data=_form(), follow_redirects=False)
    edit = client.get(saved.headers["location"]).text
    listing = client.get("/admin/rules", params={"municipality": "0751"}).text
    preview = client.post(
        "/admin/rules/0751/pas/draft/preview",
        data=_form(draft_revision="1", body_md="Forhåndsvist tekst."),
        headers={"HX-Request": "true"},
    )
    published = client.post(
        "/admin/rules/0751/pas/draft/publish",
        data=_form(draft_revision="1", body_md="Forhåndsvist tekst."),
        follow_redirects=False,
    )

    assert saved.status_code == 303
    assert "Kladden er gemt" in edit and "Husk at bestille tid på Dokk1." in edit
    assert "Anne Aarhus" in edit and 'name="draft_revision" value="1"' in edit
    assert "hl-draft-badge" in listing
    assert preview.status_code == 200 and "<html" not in preview.text
    assert "Forhåndsvisning" in preview.text and 'class="hl-rule"' in preview.text
    assert "Forhåndsvist tekst." in preview.text and "National pastekst." in preview.text
    assert published.status_code == 303 and "version=2" in published.headers["location"]
    console = client.get("/console/rules/pas", params={"municipality": "0751"}).text
    assert "Forhåndsvist tekst." in console
    assert session.scalars(select(RuleDraft)).all() == []


def test_preview_without_javascript_is_the_edit_page_with_the_preview(
    session, login, admins, rules
):
    client = login(admins[0])

    page = client.post("/admin/rules/0751/pas/draft/preview", data=_form(body_md="Uden htmx."))

    assert page.status_code == 200 and "<html" in page.text
    assert page.text.count("Uden htmx.") == 2  # in the form and in the preview
    assert 'id="draft-preview"' in page.text and 'class="hl-rule"' in page.text
    assert session.scalars(select(RuleDraft)).all() == []


def test_edit_page_conflicts_and_errors_keep_the_admins_text(app, session, login, admins, rules):
    anne = login(admins[0])
    with TestClient(app) as other:
        bo = log_in_client(other, admins[1])
        bo.post("/admin/rules/0751/pas/draft", data=_form(body_md="Bos kladde."))

    lost = anne.post("/admin/rules/0751/pas/draft", data=_form(body_md="Annes tekst."))
    invalid = anne.post("/admin/rules/0751/pas/draft/publish", data=_form(body_md=" "))
    bad_preview = anne.post(
        "/admin/rules/0751/pas/draft/preview",
        data=_form(fee_dkk="gratis"),
        headers={"HX-Request": "true"},
    )

    assert lost.status_code == 409
    assert "Annes tekst." in lost.text and "Bos kladde." in lost.text
    assert "Bo Aarhus har gemt kladden den" in lost.text
    assert 'name="draft_revision" value="1"' in lost.text
    assert invalid.status_code == 422 and "Reglen blev ikke udgivet" in invalid.text
    assert bad_preview.status_code == 422
    assert "Skriv gebyret som et helt antal kroner" in bad_preview.text
    assert "alert-error" in bad_preview.text and 'class="hl-rule"' not in bad_preview.text
    session.expire_all()
    [draft] = session.scalars(select(RuleDraft)).all()
    assert (draft.revision, draft.content["body_md"]) == (1, "Bos kladde.")


def test_edit_page_publish_conflict_saves_the_draft_and_keeps_the_text(
    session, login, admins, rules
):
    client = login(admins[0])
    data = LocalRuleIn(mode="replace", body_md="Bos direkte rettelse.")
    save_local_rule(
        session=session,
        user=admins[1],
        municipality_code="0751",
        topic_slug="pas",
        expected_version=1,
        data=data,
    )
    session.commit()

    response = client.post("/admin/rules/0751/pas/draft/publish", data=_form(body_md="Min tekst."))
    again = client.post(
        "/admin/rules/0751/pas/draft/publish",
        data=_form(body_md="Min tekst.", expected_version="2", draft_revision="1"),
        follow_redirects=False,
    )

    assert response.status_code == 409
    assert "Bo Aarhus har udgivet version 2" in response.text
    assert "Min tekst." in response.text and "Bos direkte rettelse." in response.text
    assert 'name="expected_version" value="2"' in response.text
    assert again.status_code == 303 and "version=3" in again.headers["location"]


def test_discard_through_the_edit_page(session, login, admins, rules):
    client = login(admins[0])
    client.post("/admin/rules/0751/pas/draft", data=_form(body_md="Kasseres."))

    done = client.post(
        "/admin/rules/0751/pas/draft/discard", data={"draft_revision": "1"}, follow_redirects=False
    )
    page = client.get(done.headers["location"]).text

    assert done.status_code == 303 and "Kladden er kasseret" in page
    assert "Kasseres." not in page and "Gå til Borgerservice." in page
    [entry] = _audit(session, "rule.draft.discard")
    assert entry.before["content"]["body_md"] == "Kasseres."


def test_other_municipalities_admins_may_not_use_the_draft_pages(
    session, login, make_user, admins, rules
):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0851"))
    for path in ("draft", "draft/preview", "draft/publish", "draft/discard"):
        assert client.post(f"/admin/rules/0751/pas/{path}", data=_form()).status_code == 403
    assert session.scalars(select(RuleDraft)).all() == []
    assert _versions(session) == 2


def _content(rule) -> dict:
    """What agents read of a resolved rule (provenance ids and dates left out)."""
    return {
        "title": rule.title,
        "mode": rule.mode,
        "not_offered": rule.not_offered,
        "tags": rule.tags,
        "sections": [
            (s.body_html, s.provenance.scope, s.provenance.version) for s in rule.sections
        ],
        "notes": [n.body_html for n in rule.agent_notes],
        "fields": [(f.key, f.value, f.provenance.scope) for f in rule.fields],
        "stale": rule.stale,
    }


def _content_json(rule: dict) -> dict:
    return {
        "title": rule["title"],
        "mode": rule["mode"],
        "sections": [s["body_html"] for s in rule["sections"]],
        "fields": [(f["key"], f["value"]) for f in rule["fields"]],
    }

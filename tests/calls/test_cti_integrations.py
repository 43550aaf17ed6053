"""CTI integrations: a token per phone system, created, rotated with a grace period, revoked."""

import hashlib
import json
import logging
from datetime import timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.calls import integrations
from hotline.calls.integrations import (
    accept_token,
    create_integration,
    legacy_token_matches,
    list_integrations,
    revoke_integration,
    rotate_integration,
)
from hotline.calls.models import CtiIntegration
from hotline.cli import main
from hotline.config import DEFAULT_CTI_TOKEN, Settings
from hotline.db import utcnow
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from hotline.main import create_app

DAY = timedelta(hours=24)


def _new_call_event(call_id: str, line: str) -> dict[str, str]:
    return {"event": "newCall", "callId": call_id, "from": "+4520123456", "to": line}


def _states(session, now=None) -> list[tuple[str, str]]:
    session.expire_all()
    return [(r.name, r.state) for r in list_integrations(session=session, now=now)]


def _audit(session) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_create_returns_the_token_once_and_stores_only_its_hash(session):
    integration, token = create_integration(session=session, actor=None, name="Telia Touchpoint")
    session.commit()
    assert token.startswith("cti_") and len(token) == 4 + 43
    assert integration.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    [entry] = _audit(session)
    assert entry.action == "cti_integration.create" and entry.actor_name == "system"
    assert entry.after["name"] == "Telia Touchpoint"
    assert token not in json.dumps(entry.after) and integration.token_sha256 not in str(entry.after)
    assert _states(session) == [("Telia Touchpoint", "active")]


@pytest.mark.parametrize("name", ["", "  ", "Telia (ny)", "Telia #2", "x" * 61, "-start"])
def test_names_are_checked(session, name):
    with pytest.raises(InvalidInput) as exc:
        create_integration(session=session, actor=None, name=name)
    assert exc.value.key == "cti.name_invalid"


def test_names_are_unique_until_revoked(session):
    create_integration(session=session, actor=None, name="Telia")
    with pytest.raises(Conflict):
        create_integration(session=session, actor=None, name="Telia")
    revoke_integration(session=session, actor=None, name="Telia")
    create_integration(session=session, actor=None, name="Telia")
    session.commit()
    assert _states(session) == [("Telia", "active"), ("Telia", "revoked")]


def test_a_token_is_accepted_and_its_use_recorded_at_most_once_a_minute(session):
    integration, token = create_integration(session=session, actor=None, name="Telia")
    t0 = utcnow()
    assert accept_token(session=session, token=token, now=t0).id == integration.id
    assert integration.last_used_at == t0
    accept_token(session=session, token=token, now=t0 + timedelta(seconds=59))
    assert integration.last_used_at == t0
    accept_token(session=session, token=token, now=t0 + timedelta(seconds=61))
    assert integration.last_used_at == t0 + timedelta(seconds=61)


def test_rotation_keeps_the_old_token_working_for_the_grace_period(session):
    t0 = utcnow()
    old, old_token = create_integration(session=session, actor=None, name="Telia", now=t0)
    new, new_token = rotate_integration(
        session=session, actor=None, name="Telia", grace=DAY, now=t0 + timedelta(hours=1)
    )
    session.commit()
    assert new_token != old_token and new.name == "Telia" and new.id != old.id
    ends = t0 + timedelta(hours=25)
    for token in (old_token, new_token):
        accept_token(session=session, token=token, now=ends - timedelta(seconds=1))
    with pytest.raises(NotFound):
        accept_token(session=session, token=old_token, now=ends)
    accept_token(session=session, token=new_token, now=ends + DAY * 365)
    soon = t0 + timedelta(hours=2)
    assert _states(session, now=soon) == [("Telia", "active"), ("Telia", "grace")]
    assert _states(session, now=ends) == [("Telia", "active"), ("Telia", "replaced")]

    [_, entry] = _audit(session)
    assert entry.action == "cti_integration.rotate" and entry.entity_id == str(new.id)
    assert entry.before["revoked_at"] is None
    assert entry.after["old_token"]["revoked_at"] == ends.isoformat()
    assert old_token not in json.dumps([entry.before, entry.after])


def test_rotating_twice_keeps_each_old_token_to_its_own_deadline(session):
    t0 = utcnow()
    _, first = create_integration(session=session, actor=None, name="Telia", now=t0)
    _, second = rotate_integration(session=session, actor=None, name="Telia", grace=DAY, now=t0)
    rotate_integration(
        session=session, actor=None, name="Telia", grace=DAY, now=t0 + timedelta(hours=12)
    )
    accept_token(session=session, token=second, now=t0 + timedelta(hours=30))
    with pytest.raises(NotFound):
        accept_token(session=session, token=first, now=t0 + timedelta(hours=30))


def test_a_zero_grace_stops_the_old_token_at_once(session):
    t0 = utcnow()
    _, old_token = create_integration(session=session, actor=None, name="Telia", now=t0)
    rotate_integration(session=session, actor=None, name="Telia", grace=timedelta(0), now=t0)
    with pytest.raises(NotFound):
        accept_token(session=session, token=old_token, now=t0)


def test_revoke_stops_the_token_and_any_old_one_in_its_grace_period(session):
    t0 = utcnow()
    _, old_token = create_integration(session=session, actor=None, name="Telia", now=t0)
    _, token = rotate_integration(session=session, actor=None, name="Telia", grace=DAY, now=t0)
    _, other = create_integration(session=session, actor=None, name="Telia 2", now=t0)
    revoke_integration(session=session, actor=None, name="Telia", now=t0 + timedelta(hours=1))
    session.commit()
    later = t0 + timedelta(hours=1)
    for gone in (token, old_token):
        with pytest.raises(NotFound):
            accept_token(session=session, token=gone, now=later)
    accept_token(session=session, token=other, now=later)  # another integration is untouched
    assert _states(session, now=later) == [
        ("Telia", "revoked"),
        ("Telia", "replaced"),
        ("Telia 2", "active"),
    ]
    assert _audit(session)[-1].action == "cti_integration.revoke"
    with pytest.raises(NotFound):
        revoke_integration(session=session, actor=None, name="Telia")


def test_revoking_or_rotating_an_unknown_integration_is_not_found(session):
    with pytest.raises(NotFound):
        revoke_integration(session=session, actor=None, name="Ukendt")
    with pytest.raises(NotFound):
        rotate_integration(session=session, actor=None, name="Ukendt", grace=DAY)


# --- the webhook ---


def test_the_webhook_takes_an_integrations_token(client, session, aarhus_line):
    _, token = create_integration(session=session, actor=None, name="Telia")
    session.commit()
    response = client.post(f"/api/cti/{token}", json=_new_call_event("int-1", aarhus_line))
    assert response.status_code == 200 and response.json()["reference"].startswith("DH-")
    session.expire_all()
    assert session.scalar(select(CtiIntegration.last_used_at)) is not None


def test_rotation_and_revocation_over_the_webhook(client, session, aarhus_line):
    _, old_token = create_integration(session=session, actor=None, name="Telia")
    _, new_token = rotate_integration(session=session, actor=None, name="Telia", grace=DAY)
    session.commit()
    for n, token in enumerate((old_token, new_token)):
        event = _new_call_event(f"rot-{n}", aarhus_line)
        assert client.post(f"/api/cti/{token}", json=event).status_code == 200
    revoke_integration(session=session, actor=None, name="Telia")
    session.commit()
    for n, token in enumerate((old_token, new_token)):
        event = _new_call_event(f"gone-{n}", aarhus_line)
        assert client.post(f"/api/cti/{token}", json=event).status_code == 404


def test_an_ended_grace_period_is_a_404_at_the_webhook(client, session, aarhus_line, monkeypatch):
    t0 = utcnow()
    _, old_token = create_integration(session=session, actor=None, name="Telia", now=t0)
    rotate_integration(session=session, actor=None, name="Telia", grace=DAY, now=t0)
    session.commit()
    monkeypatch.setattr(integrations, "utcnow", lambda: t0 + DAY)
    response = client.post(f"/api/cti/{old_token}", json=_new_call_event("late", aarhus_line))
    assert response.status_code == 404


def test_unknown_tokens_are_404_and_logged_without_the_token(client, aarhus_line, caplog):
    caplog.set_level(logging.WARNING, logger="hotline.calls.integrations")
    for token in ("cti_guessed-token-value", "no-prefix-guess"):
        response = client.post(f"/api/cti/{token}", json=_new_call_event("x", aarhus_line))
        assert response.status_code == 404
        assert response.json()["error"] == "calls.cti_not_found"
        assert token not in caplog.text
    assert caplog.text.count("CTI event refused") == 2


def test_the_legacy_setting_token_still_works(client, aarhus_line):
    event = _new_call_event("legacy-1", aarhus_line)
    assert client.post("/api/cti/test-cti-token", json=event).status_code == 200


def test_the_legacy_token_is_off_when_empty_and_the_demo_token_only_in_demo_mode():
    assert not legacy_token_matches("", settings=Settings(cti_token=""))
    assert legacy_token_matches(DEFAULT_CTI_TOKEN, settings=Settings(demo_mode=True))
    assert not legacy_token_matches(DEFAULT_CTI_TOKEN, settings=Settings(demo_mode=False))
    assert legacy_token_matches("own-secret", settings=Settings(cti_token="own-secret"))
    assert not legacy_token_matches("own-secreT", settings=Settings(cti_token="own-secret"))


def test_an_empty_legacy_token_leaves_only_integrations(settings, session, aarhus_line):
    app = create_app(settings.model_copy(update={"cti_token": ""}))
    _, token = create_integration(session=session, actor=None, name="Telia")
    session.commit()
    with TestClient(app) as client:
        legacy = client.post("/api/cti/test-cti-token", json=_new_call_event("l", aarhus_line))
        assert legacy.status_code == 404
        event = _new_call_event("only-1", aarhus_line)
        assert client.post(f"/api/cti/{token}", json=event).status_code == 200


def test_the_grace_setting(monkeypatch):
    assert Settings().cti_rotation_grace_hours == 24
    monkeypatch.setenv("HOTLINE_CTI_ROTATION_GRACE_HOURS", "-1")
    with pytest.raises(ValueError):
        Settings()


# --- the command line ---


def test_the_cti_commands(session, settings, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_CTI_ROTATION_GRACE_HOURS", "2")
    runner = CliRunner()
    created = runner.invoke(main, ["cti", "create", "Telia"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("cti_")
    rotated = runner.invoke(main, ["cti", "rotate", "Telia"])
    assert rotated.exit_code == 0, rotated.output
    assert "The old token works for 2 more hours." in rotated.stderr
    new_token = rotated.stdout.strip()
    listed = runner.invoke(main, ["cti", "list"])
    assert listed.stdout.count("Telia\t") == 2 and "\tgrace\t" in listed.stdout
    assert token not in listed.output and new_token not in listed.output
    assert runner.invoke(main, ["cti", "revoke", "Telia"]).exit_code == 0
    again = runner.invoke(main, ["cti", "revoke", "Telia"])
    assert again.exit_code == 1 and "Der er ingen aktiv integration" in again.output
    assert [e.action for e in _audit(session)] == [
        "cti_integration.create",
        "cti_integration.rotate",
        "cti_integration.revoke",
    ]


# --- the system admins' page ---


def test_the_admin_page_shows_a_token_once(login, make_user, session):
    client = login(make_user(Role.SYSTEM_ADMIN))
    page = client.get("/admin/cti")
    assert page.status_code == 200 and "Der er ingen integrationer endnu." in page.text
    assert 'href="/admin/cti"' in page.text
    created = client.post("/admin/cti", data={"name": "Telia"})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "private, no-store"
    token = created.text.split('id="cti-token">')[1].split("<")[0]
    assert token.startswith("cti_") and "vises kun denne ene gang" in created.text
    assert token not in client.get("/admin/cti").text
    rotated = client.post("/admin/cti/rotate", data={"name": "Telia"})
    new_token = rotated.text.split('id="cti-token">')[1].split("<")[0]
    assert new_token != token and "Den gamle nøgle virker i 24 timer endnu." in rotated.text
    taken = client.post("/admin/cti", data={"name": "Telia"})
    assert taken.status_code == 409 and "Der er allerede en integration" in taken.text
    revoked = client.post("/admin/cti/revoke", data={"name": "Telia"}, follow_redirects=False)
    assert revoked.status_code == 303 and revoked.headers["location"] == "/admin/cti?done=revoked"
    page = client.get(revoked.headers["location"])
    assert "Integrationen er spærret." in page.text and "Spærret" in page.text
    assert client.post("/admin/cti/revoke", data={"name": "Telia"}).status_code == 404
    assert "<script>" not in page.text and "style=" not in page.text
    assert len(_audit(session)) == 3


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_only_system_admins_see_the_page(login, make_user, role):
    client = login(make_user(role))
    assert client.get("/admin/cti").status_code == 403
    assert 'href="/admin/cti"' not in client.get("/").text

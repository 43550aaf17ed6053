"""User management by system admins: the service's rules, the audit log, the pages, the CLI."""

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth import users
from hotline.auth.models import Role, User
from hotline.auth.service import create_user
from hotline.cli import main
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from tests.conftest import TEST_PASSWORD, _csrf_from, log_in_client

NEW_PASSWORD = "tre grønne frøer på Åen"


def _add(session, username="maren", role=Role.AGENT, *codes, **fields):
    user = users.add_user(
        session=session,
        actor=fields.pop("actor", None),
        username=username,
        full_name=fields.pop("full_name", "Maren Ørsted"),
        role=role,
        password=fields.pop("password", TEST_PASSWORD),
        email=fields.pop("email", None),
        municipality_codes=codes,
    )
    session.commit()
    return user


def _audit(session, user_id=None) -> list[AuditEntry]:
    session.expire_all()
    query = select(AuditEntry).where(AuditEntry.entity_type == "user").order_by(AuditEntry.id)
    if user_id is not None:
        query = query.where(AuditEntry.entity_id == str(user_id))
    return list(session.scalars(query))


def _login_status(app, username: str, password: str) -> int:
    browser = TestClient(app)
    token = _csrf_from(browser.get("/login").text)
    form = {"username": username, "password": password, "csrf_token": token, "next": "/"}
    return browser.post("/login", data=form, follow_redirects=False).status_code


# --- the service ---


def test_adding_a_user_checks_the_policy_and_audits_without_the_hash(session, make_user):
    admin = make_user(Role.SYSTEM_ADMIN)
    user = _add(session, "aarhus.admin", Role.MUNICIPALITY_ADMIN, "0751", "0730", actor=admin,
                email=" sofie@aarhus.example ")  # fmt: skip
    assert user.municipality_codes == {"0751", "0730"} and user.email == "sofie@aarhus.example"
    assert user.password_hash.startswith("$argon2id$")
    [entry] = _audit(session)
    assert (entry.action, entry.actor_name, entry.entity_id) == ("user.create", admin.username,
                                                                 str(user.id))  # fmt: skip
    assert entry.before is None
    assert entry.after == {
        "username": "aarhus.admin",
        "full_name": "Maren Ørsted",
        "email": "sofie@aarhus.example",
        "role": "municipality_admin",
        "municipalities": ["0730", "0751"],
        "is_active": True,
    }
    assert "$argon2" not in str(entry.after)


@pytest.mark.parametrize(
    ("username", "role", "codes", "fields", "key"),
    [
        ("Maren", Role.AGENT, (), {}, "users.username_invalid"),
        ("m", Role.AGENT, (), {}, "users.username_invalid"),
        ("maren ørsted", Role.AGENT, (), {}, "users.username_invalid"),
        ("-maren", Role.AGENT, (), {}, "users.username_invalid"),
        ("maren", "boss", (), {}, "users.role_invalid"),
        ("maren", Role.MUNICIPALITY_ADMIN, (), {}, "users.admin_needs_municipality"),
        ("maren", Role.SUPERVISOR, ("0751",), {}, "users.municipalities_only_for_admins"),
        ("maren", Role.MUNICIPALITY_ADMIN, ("9999",), {}, "users.unknown_municipality"),
        ("maren", Role.AGENT, (), {"email": "maren@"}, "users.email_invalid"),
        ("maren", Role.AGENT, (), {"email": "maren @x.dk"}, "users.email_invalid"),
        ("maren", Role.AGENT, (), {"full_name": "   "}, "users.full_name_invalid"),
        ("maren", Role.AGENT, (), {"password": "kort"}, "users.password.too_short"),
        ("maren", Role.AGENT, (), {"password": "Sommer2024!!"}, "users.password.common"),
        ("maren", Role.AGENT, (), {"password": "maren er den bedste"},
         "users.password.contains_username"),
    ],
)  # fmt: skip
def test_a_bad_field_refuses_the_new_user(session, username, role, codes, fields, key):
    with pytest.raises(InvalidInput) as raised:
        _add(session, username, role, *codes, **fields)
    assert raised.value.key == key
    session.rollback()
    assert session.scalar(select(User.id)) is None and _audit(session) == []


def test_usernames_are_unique_whatever_their_case(session):
    # Accounts made before the username rule (tests, demo) may have capitals.
    create_user(session=session, username="Karen", full_name="K", password="x", role=Role.AGENT)
    with pytest.raises(Conflict) as raised:
        _add(session, "karen")
    assert raised.value.key == "users.username_taken" and raised.value.status_code == 409


def test_listing_filters_by_role_municipality_state_and_text(session):
    _add(session, "karen", full_name="Karen Ærbødig", email="karen@hotline.example")
    _add(session, "sofie", Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Jensen")
    _add(session, "peter", Role.MUNICIPALITY_ADMIN, "0851", "0751", full_name="Peter Larsen")
    old = _add(session, "gamle", Role.SUPERVISOR, full_name="Gamle Gert")
    users.deactivate_user(session=session, actor=None, user=old)
    session.commit()

    def names(**filters) -> list[str]:
        return [u.username for u in users.list_users(session=session, **filters)]

    assert names() == ["gamle", "karen", "peter", "sofie"]
    assert names(role=Role.MUNICIPALITY_ADMIN) == ["peter", "sofie"]
    assert names(municipality_code="0851") == ["peter"]
    assert names(municipality_code="0751", role=Role.MUNICIPALITY_ADMIN) == ["peter", "sofie"]
    assert names(active=False) == ["gamle"]
    assert names(active=True) == ["karen", "peter", "sofie"]
    assert names(text="ærbødig") == ["karen"]  # Danish letters in any case
    assert names(text="HOTLINE.EXAMPLE") == ["karen"]
    assert names(text="e", role=Role.SUPERVISOR) == ["gamle"]
    assert names(text="%") == []


def test_updating_a_user_is_audited_with_before_and_after(session, make_user):
    admin = make_user(Role.SYSTEM_ADMIN)
    user = _add(session, "karen")
    users.update_user(session=session, actor=admin, user=user, full_name="Karen  Ærbødig",
                      email="karen@aarhus.example", role=Role.MUNICIPALITY_ADMIN,
                      municipality_codes=["0751"])  # fmt: skip
    session.commit()
    assert user.role == Role.MUNICIPALITY_ADMIN and user.municipality_codes == {"0751"}
    create, update = _audit(session, user.id)
    assert update.action == "user.update" and update.actor_name == admin.username
    assert update.before["role"] == "agent" and update.before["municipalities"] == []
    assert update.after["full_name"] == "Karen Ærbødig"
    assert update.after["role"] == "municipality_admin" and update.after["municipalities"] == [
        "0751"
    ]
    # Saving the same values again changes nothing and records nothing.
    users.update_user(session=session, actor=admin, user=user, full_name="Karen Ærbødig",
                      email="karen@aarhus.example", role="municipality_admin",
                      municipality_codes=["0751"])  # fmt: skip
    session.commit()
    assert len(_audit(session, user.id)) == 2


def test_a_system_admin_cannot_demote_or_deactivate_themselves(session, make_user):
    admin, other = make_user(Role.SYSTEM_ADMIN), make_user(Role.SYSTEM_ADMIN)
    with pytest.raises(Conflict) as raised:
        users.update_user(session=session, actor=admin, user=admin, full_name="A", email=None,
                          role=Role.SUPERVISOR)  # fmt: skip
    assert raised.value.key == "users.cannot_demote_self"
    with pytest.raises(Conflict) as raised:
        users.deactivate_user(session=session, actor=admin, user=admin)
    assert raised.value.key == "users.cannot_deactivate_self"
    session.rollback()
    assert admin.is_active and admin.role == Role.SYSTEM_ADMIN
    # Another system admin may.
    users.update_user(session=session, actor=other, user=admin, full_name="A", email=None,
                      role=Role.SUPERVISOR)  # fmt: skip
    session.commit()
    assert admin.role == Role.SUPERVISOR


def test_the_last_active_system_admin_stays(session, make_user):
    admin = make_user(Role.SYSTEM_ADMIN)
    retired = make_user(Role.SYSTEM_ADMIN)
    users.deactivate_user(session=session, actor=None, user=retired)
    session.commit()
    # The command line has no actor to protect, but still keeps the last admin.
    with pytest.raises(Conflict) as raised:
        users.deactivate_user(session=session, actor=None, user=admin)
    assert raised.value.key == "users.last_system_admin"
    with pytest.raises(Conflict):
        users.update_user(session=session, actor=None, user=admin, full_name="A", email=None,
                          role=Role.AGENT)  # fmt: skip
    session.rollback()
    # An inactive system admin is no one's last admin: demoting them is fine.
    users.update_user(session=session, actor=None, user=retired, full_name="R", email=None,
                      role=Role.AGENT)  # fmt: skip
    session.commit()
    assert admin.is_active and admin.role == Role.SYSTEM_ADMIN


def test_deactivating_ends_sessions_and_tokens_and_keeps_everything(
    app, session, make_user, api_client
):
    user = make_user(Role.SUPERVISOR)
    api = api_client(user)
    browser = log_in_client(TestClient(app), user)
    assert api.get("/api/municipalities/0751").status_code == 200
    assert browser.get("/api/municipalities/0751").status_code == 200
    epoch = user.session_epoch

    users.deactivate_user(session=session, actor=None, user=user)
    session.commit()
    assert user.session_epoch == epoch + 1 and not user.is_active
    assert api.get("/api/municipalities/0751").status_code == 401
    assert browser.get("/api/municipalities/0751").status_code == 401
    assert _login_status(app, user.username, TEST_PASSWORD) == 401
    # Doing it again is a no-op, not a second audit entry.
    users.deactivate_user(session=session, actor=None, user=user)
    session.commit()
    assert [e.action for e in _audit(session, user.id)] == ["user.deactivate"]
    assert [e.after["is_active"] for e in _audit(session, user.id)] == [False]

    users.reactivate_user(session=session, actor=None, user=user)
    session.commit()
    assert api.get("/api/municipalities/0751").status_code == 200  # the token was never revoked
    assert _login_status(app, user.username, TEST_PASSWORD) == 303
    assert [e.action for e in _audit(session, user.id)] == ["user.deactivate", "user.reactivate"]


def test_setting_a_password_checks_the_policy_and_ends_sessions(app, client, session, make_user):
    user = make_user(Role.AGENT)
    browser = log_in_client(TestClient(app), user)
    assert browser.get("/api/municipalities/0751").status_code == 200
    old_hash = user.password_hash
    with pytest.raises(InvalidInput):
        users.set_password(session=session, actor=None, user=user, password="kodeord123")
    users.set_password(session=session, actor=None, user=user, password=NEW_PASSWORD)
    session.commit()
    assert user.password_hash != old_hash
    assert browser.get("/api/municipalities/0751").status_code == 401
    assert _login_status(app, user.username, TEST_PASSWORD) == 401
    assert _login_status(app, user.username, NEW_PASSWORD) == 303
    [entry] = _audit(session, user.id)
    assert entry.action == "user.set_password" and entry.after["password_changed"] is True
    assert "$argon2" not in str(entry.before) + str(entry.after)


def test_unknown_users_are_not_found(session):
    with pytest.raises(NotFound):
        users.get_user(session=session, user_id=4711)
    with pytest.raises(NotFound):
        users.find_user(session=session, username="ingen")


# --- the pages ---


def test_the_list_page_shows_and_filters_users(login, make_user, session):
    admin = make_user(Role.SYSTEM_ADMIN, username="sys", full_name="Sys Admin")
    _add(session, "sofie", Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Jensen")
    client = login(admin)
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert "<td>Sofie Jensen</td>" in page.text and "<td>Sys Admin</td>" in page.text
    assert "<td>Aarhus</td>" in page.text
    assert 'href="/admin/users"' in page.text  # the nav link
    page = client.get("/admin/users", params={"role": "system_admin"})
    assert "<td>Sys Admin</td>" in page.text and "<td>Sofie Jensen</td>" not in page.text
    page = client.get("/admin/users", params={"municipality": "0751", "q": "sofie"})
    assert "<td>Sofie Jensen</td>" in page.text and "<td>Sys Admin</td>" not in page.text
    assert client.get("/admin/users", params={"role": "boss"}).status_code == 422


def test_only_system_admins_see_the_pages_or_the_link(login, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    client = login(supervisor)
    assert client.get("/admin/users").status_code == 403
    assert 'href="/admin/users"' not in client.get("/supervisor").text


def test_creating_a_user_with_the_form(login, make_user, session):
    client = login(make_user(Role.SYSTEM_ADMIN))
    assert client.get("/admin/users/new").status_code == 200
    form = {"username": "maren", "full_name": "Maren Ørsted", "email": "", "role":
            "municipality_admin", "municipalities": ["0751", "0851"], "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD}  # fmt: skip
    response = client.post("/admin/users", data=form, follow_redirects=False)
    assert response.status_code == 303
    user = session.scalar(select(User).where(User.username == "maren"))
    assert response.headers["location"] == f"/admin/users/{user.id}?done=created"
    assert user.municipality_codes == {"0751", "0851"} and user.email is None
    page = client.get(response.headers["location"])
    assert "Brugeren er oprettet." in page.text and "Maren Ørsted" in page.text


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"password_repeat": "noget helt andet"}, 422, "De to adgangskoder er ikke ens."),
        ({"password": "kodeord12345", "password_repeat": "kodeord12345"}, 422, "for almindelig"),
        ({"role": "supervisor"}, 422, "Kun kommuneadministratorer har kommuner"),
        ({"username": "sys"}, 409, "Brugernavnet sys er optaget."),
    ],
)
def test_a_refused_new_user_keeps_the_form_but_not_the_password(
    login, make_user, session, change, status, message
):
    client = login(make_user(Role.SYSTEM_ADMIN, username="sys"))
    form = {"username": "maren", "full_name": "Maren Ørsted", "email": "maren@aarhus.example",
            "role": "municipality_admin", "municipalities": ["0751"], "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD} | change  # fmt: skip
    response = client.post("/admin/users", data=form)
    assert response.status_code == status
    assert message in response.text
    assert 'value="maren@aarhus.example"' in response.text
    assert '<option value="0751" selected>' in response.text
    assert form["password"] not in response.text
    assert session.scalar(select(User.id).where(User.username == "maren")) is None


def test_a_form_without_the_csrf_token_is_refused(login, make_user, session):
    client = login(make_user(Role.SYSTEM_ADMIN))
    client.headers.pop("X-CSRF-Token")
    form = {"username": "maren", "full_name": "Maren", "role": "agent",
            "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}  # fmt: skip
    assert client.post("/admin/users", data=form).status_code == 403
    form["csrf_token"] = "forged"
    assert client.post("/admin/users", data=form).status_code == 403
    assert session.scalar(select(User.id).where(User.username == "maren")) is None


def test_editing_deactivating_and_reactivating_with_the_pages(app, login, make_user, session):
    admin = make_user(Role.SYSTEM_ADMIN)
    agent = make_user(Role.AGENT, username="karen")
    agent_browser = log_in_client(TestClient(app), agent)
    assert agent_browser.get("/api/municipalities/0751").status_code == 200
    client = login(admin)
    page = client.get(f"/admin/users/{agent.id}")
    assert page.status_code == 200 and "Deaktivér bruger" in page.text
    form = {"full_name": "Karen Ærbødig", "email": "karen@aarhus.example", "role":
            "municipality_admin", "municipalities": ["0751"]}  # fmt: skip
    response = client.post(f"/admin/users/{agent.id}", data=form, follow_redirects=False)
    assert response.headers["location"] == f"/admin/users/{agent.id}?done=updated"
    session.expire_all()
    assert agent.role == Role.MUNICIPALITY_ADMIN and agent.municipality_codes == {"0751"}

    response = client.post(f"/admin/users/{agent.id}/deactivate", follow_redirects=False)
    assert response.headers["location"] == f"/admin/users/{agent.id}?done=deactivated"
    assert agent_browser.get("/api/municipalities/0751").status_code == 401
    page = client.get(f"/admin/users/{agent.id}")
    assert "Aktivér bruger igen" in page.text and "Deaktivér bruger" not in page.text
    response = client.post(f"/admin/users/{agent.id}/reactivate", follow_redirects=False)
    assert response.headers["location"] == f"/admin/users/{agent.id}?done=reactivated"
    session.expire_all()
    assert agent.is_active
    actions = [e.action for e in _audit(session, agent.id)]
    assert actions == ["user.update", "user.deactivate", "user.reactivate"]
    assert {e.actor_name for e in _audit(session, agent.id)} == {admin.username}
    assert client.get("/admin/users/4711").status_code == 404


def test_an_admin_cannot_deactivate_or_demote_themselves_in_the_pages(login, make_user, session):
    admin = make_user(Role.SYSTEM_ADMIN, full_name="Sys Admin")
    client = login(admin)
    page = client.get(f"/admin/users/{admin.id}")
    assert "Du kan ikke deaktivere dig selv" in page.text and "Deaktivér bruger" not in page.text
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 409 and "Du kan ikke deaktivere dig selv." in response.text
    form = {"full_name": "Sys Admin", "email": "", "role": "supervisor"}
    response = client.post(f"/admin/users/{admin.id}", data=form)
    assert response.status_code == 409 and "din egen rolle" in response.text
    session.expire_all()
    assert admin.is_active and admin.role == Role.SYSTEM_ADMIN
    assert client.get("/admin/users").status_code == 200  # still signed in, still an admin


def test_setting_passwords_with_the_page(app, login, make_user, session):
    admin = make_user(Role.SYSTEM_ADMIN)
    agent = make_user(Role.AGENT)
    client = login(admin)
    url = f"/admin/users/{agent.id}/password"
    response = client.post(url, data={"password": "kort", "password_repeat": "kort"})
    assert response.status_code == 422 and "mindst 12 tegn" in response.text
    form = {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    response = client.post(url, data=form, follow_redirects=False)
    assert response.headers["location"] == f"/admin/users/{agent.id}?done=password"
    assert _login_status(app, agent.username, NEW_PASSWORD) == 303
    # An admin changing their own password stays signed in here (and nowhere else).
    other_browser = log_in_client(TestClient(app), admin)
    response = client.post(f"/admin/users/{admin.id}/password", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/admin/users").status_code == 200
    response = other_browser.get("/admin/users", headers={"Accept": "text/html"})
    assert response.url.path == "/login"


# --- the command line ---


@pytest.fixture
def cli(settings, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    return lambda *args, **kwargs: runner.invoke(main, ["users", *args], **kwargs)


def test_the_users_commands(cli, session, make_user):
    make_user(Role.SYSTEM_ADMIN, username="sys")
    created = cli("create", "maren", "--name", "Maren Ørsted", "--role", "agent",
                  input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")  # fmt: skip
    assert created.exit_code == 0, created.output
    weak = cli("create", "bo", "--name", "Bo", "--role", "agent", "--password", "kodeord123")
    assert weak.exit_code == 1 and "Adgangskoden skal være mindst 12 tegn." in weak.output
    promoted = cli("set-role", "maren", "municipality_admin", "--municipality", "0751")
    assert promoted.exit_code == 0, promoted.output
    assert cli("set-role", "maren", "municipality_admin").exit_code == 0  # keeps Aarhus
    listed = cli("list", "--role", "municipality_admin").stdout.splitlines()
    assert listed == ["maren\tmunicipality_admin\tactive\t0751\tMaren Ørsted\t"]
    assert cli("deactivate", "maren").exit_code == 0
    assert cli("list", "--status", "inactive").stdout.startswith("maren\t")
    assert cli("reactivate", "maren").exit_code == 0
    assert cli("set-password", "maren", "--password", NEW_PASSWORD + "!").exit_code == 0
    last = cli("deactivate", "sys")
    assert last.exit_code == 1 and "mindst én aktiv systemadministrator" in last.output
    missing = cli("deactivate", "ingen")
    assert missing.exit_code == 1 and "ingen bruger med brugernavnet ingen" in missing.output
    token = cli("token", "maren")
    assert token.exit_code == 0 and token.stdout.startswith("hl_")

    entries = _audit(session)
    assert [e.action for e in entries] == [
        "user.create",
        "user.update",
        "user.deactivate",
        "user.reactivate",
        "user.set_password",
    ]
    assert {e.actor_name for e in entries} == {"system"}
    assert {e.actor_id for e in entries} == {None}

"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when configured), the app, users.

Set HOTLINE_TEST_DATABASE_URL to run the suite against PostgreSQL; CI does both.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from hotline.auth import service as auth_service
from hotline.auth.models import Role, User
from hotline.auth.service import create_user
from hotline.auth.token_cache import forget_all as forget_token_owners
from hotline.config import Settings
from hotline.db import make_engine, make_sessionmaker
from hotline.main import create_app
from hotline.migrate import upgrade_database
from hotline.models import install_listeners
from hotline.municipalities.service import load_municipalities
from hotline.rules.cache import clear as clear_rule_cache
from hotline.rules.search.synonyms import clear as clear_synonyms
from hotline.rules.search.vocabulary import clear as clear_vocabulary
from tests.hashing import CHEAP_HASHER
from tests.live import free_port
from tests.smtp import Inbox
from tests.tables import empty_tables

IN_CI = os.environ.get("CI") == "true"
# PostgreSQL's own pool (db_postgres) exists only on PostgreSQL: its module is collected in the
# suite's PostgreSQL pass only (not skipped on SQLite: there is nothing there to test).
if not os.environ.get("HOTLINE_TEST_DATABASE_URL", "").startswith("postgresql"):
    collect_ignore = ["test_db_postgres.py"]
TEST_PASSWORD = "correct horse battery staple"

install_listeners()  # as every process of the product does at its start


def require(condition: bool, what: str) -> None:
    """Skip when a real part is missing on a developer machine; under CI=true, fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing, and under CI=true a missing part fails the test")
    pytest.skip(f"{what} is missing (under CI this fails)")


def require_executable(name: str) -> str:
    """The path of an executable the test needs (see require)."""
    path = shutil.which(name)
    require(path is not None, f"the executable {name!r}")
    return path


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 at minimal cost in this process: at full cost each new user and login takes 0.25 s."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_service, "_hasher", CHEAP_HASHER)
        yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A migrated, empty database for the whole run."""
    url = os.environ.get("HOTLINE_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        _drop_everything(url)
    upgrade_database(url)
    return url


def _drop_everything(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of the test database, with the municipalities loaded."""
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        load_municipalities(session=session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request) -> Iterator[None]:
    """Empty every table but the reference data after each test that used the database."""
    yield
    if "engine" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("engine")
    with engine.begin() as connection:
        empty_tables(connection)
    # Emptied tables reuse ids: rules cached by (id, version, created_at) must not outlive them.
    clear_rule_cache()
    clear_vocabulary()
    clear_synonyms()
    forget_token_owners()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for arranging and checking data; commit what the app must see."""
    with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path, engine: Engine) -> Settings:
    """Settings for one test: its own data dir and Maildir, demo mode on, no background workers."""
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret_key="test-secret",
        demo_mode=True,
        outbox_worker=False,
        purge_worker=False,
        cti_token="test-cti-token",
    )


@pytest.fixture
def app(settings: Settings):
    """The application."""
    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    """An anonymous client; the lifespan runs around it."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def make_session(engine):
    """A sessionmaker, as the background workers get it."""
    return make_sessionmaker(engine)


@pytest.fixture
def smtp_inbox() -> Iterator[Inbox]:
    """A real SMTP server on loopback for the test: send to .url, read .messages."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()


@pytest.fixture
def mail_settings(database_url, tmp_path):
    """Settings with a mail URL and no background workers: mail_settings("smtp://…", **more)."""

    def factory(mail_url: str = "", **changes) -> Settings:
        return Settings(
            data_dir=tmp_path / "var",
            database_url=database_url,
            mail_url=mail_url,
            secret_key="test-secret",
            outbox_worker=False,
            purge_worker=False,
            **changes,
        )

    return factory


@pytest.fixture
def make_user(session: Session):
    """Create a user: make_user(Role.AGENT) or make_user(Role.MUNICIPALITY_ADMIN, "0751")."""
    counter = iter(range(1, 10_000))

    def factory(
        role: Role, *codes: str, username: str | None = None, full_name: str = "Test Bruger"
    ) -> User:
        name = username or f"{role.value}-{next(counter)}"
        user = create_user(
            session=session,
            username=name,
            full_name=full_name,
            password=TEST_PASSWORD,
            role=role,
            municipality_codes=codes,
        )
        session.commit()
        return user

    return factory


def log_in_client(client: TestClient, user: User) -> TestClient:
    """Log the client in as the user through the real login form; sets the CSRF header."""
    page = client.get("/login")
    token = _csrf_from(page.text)
    response = client.post(
        "/login",
        data={
            "username": user.username,
            "password": TEST_PASSWORD,
            "csrf_token": token,
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/login")
    client.headers["X-CSRF-Token"] = _csrf_from(home.text)
    return client


def ready(client: TestClient) -> TestClient:
    """The logged-in call taker says "Klar" in the console, as at the start of a shift."""
    response = client.post("/console/state", data={"state": "available"})
    assert response.status_code == 200, response.text
    return client


def _csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture
def login(client: TestClient):
    """Log the shared client in as a user: login(user) -> client."""
    return lambda user: log_in_client(client, user)


@pytest.fixture
def api_client(app, client: TestClient, session: Session):
    """A client authenticated with a bearer token: api_client(user) -> TestClient.

    It talks to the app `client` runs, as a second browser would: its own cookies and headers,
    the same running app (one lifespan, not one per client).
    """
    from hotline.auth.service import issue_api_token

    clients: list[TestClient] = []

    def factory(user: User) -> TestClient:
        token = issue_api_token(session=session, user=user, name="test")
        session.commit()
        c = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        c.portal = client.portal  # the event loop the app's lifespan runs in
        clients.append(c)
        return c

    yield factory
    for c in clients:
        c.close()

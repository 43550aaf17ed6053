"""Login lockout: failures slow down, then lock, one username from one address; a flooding
address is locked for every username; in every process."""

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.auth.lockout import LockoutPolicy, locked_for, record_failure
from hotline.auth.models import LoginFailure, Role, User
from hotline.db import utcnow
from hotline.main import create_app
from tests.conftest import TEST_PASSWORD, _csrf_from

WRONG = "not-the-password-7"
LOCKED = "For mange mislykkede forsøg på at logge ind. Prøv igen om"
WAIT = "Forkert brugernavn eller adgangskode for mange gange. Vent"
ELSEWHERE = ("198.51.100.20", 50000)  # another client address


@pytest.fixture(autouse=True)
def no_slowdown(settings):
    """The lock tests fail five times in a row; the slowdown has tests of its own."""
    settings.login_slowdown_s = 0


def _log_in(client: TestClient, username: str, password: str, **headers):
    token = _csrf_from(client.get("/login").text)
    form = {"username": username, "password": password, "csrf_token": token, "next": "/"}
    return client.post("/login", data=form, headers=headers, follow_redirects=False)


def _fail(client: TestClient, username: str, times: int) -> None:
    for _ in range(times):
        assert _log_in(client, username, WRONG).status_code == 401


def _age_failures(session, by: timedelta) -> None:
    for failure in session.scalars(select(LoginFailure)):
        failure.failed_at -= by
    session.commit()


def test_five_failures_lock_the_username_from_that_address_without_checking_the_password(
    client, make_user, session
):
    user = make_user(Role.AGENT)
    _fail(client, user.username, 5)

    right, wrong = (
        _log_in(client, user.username, TEST_PASSWORD),
        _log_in(client, user.username, WRONG),
    )
    assert right.status_code == wrong.status_code == 429
    assert f"{LOCKED} 15 minutter." in right.text
    # A locked account can't be probed: the right password gets the very refusal a wrong one gets.
    assert _without_csrf(right.text) == _without_csrf(wrong.text)
    assert client.get("/api/municipalities/0751").status_code == 401
    session.expire_all()
    assert session.get(User, user.id).last_login_at is None
    # Refused attempts are not failures: they don't extend the lock.
    assert session.scalar(select(LoginFailure.id).offset(5)) is None


def test_the_right_password_from_an_address_without_failures_gets_in(
    app, client, make_user, session
):
    admin = make_user(Role.SYSTEM_ADMIN)
    _fail(client, admin.username, 5)  # an outsider tries to lock the system admin out
    assert _log_in(client, admin.username, TEST_PASSWORD).status_code == 429
    with TestClient(app, client=ELSEWHERE) as own_browser:
        assert _log_in(own_browser, admin.username, TEST_PASSWORD).status_code == 303
        assert own_browser.get("/admin/users").status_code == 200
    assert _log_in(client, admin.username, TEST_PASSWORD).status_code == 429  # still locked there


def test_a_successful_login_clears_only_its_own_addresses_failures(app, client, make_user):
    user = make_user(Role.AGENT)
    _fail(client, user.username, 5)
    with TestClient(app, client=ELSEWHERE) as own_browser:
        _fail(own_browser, user.username, 4)
        assert _log_in(own_browser, user.username, TEST_PASSWORD).status_code == 303
        _fail(own_browser, user.username, 4)  # counted afresh there
        assert _log_in(own_browser, user.username, TEST_PASSWORD).status_code == 303
    assert _log_in(client, user.username, TEST_PASSWORD).status_code == 429


def test_failures_slow_down_the_next_attempt_before_they_lock(client, make_user, settings):
    settings.login_slowdown_s = 30
    user = make_user(Role.AGENT)
    assert _log_in(client, user.username, WRONG).status_code == 401
    assert _log_in(client, user.username, WRONG).status_code == 401  # one failure: no wait
    slowed = _log_in(client, user.username, TEST_PASSWORD)
    assert slowed.status_code == 429 and f"{WAIT} 30 sekunder" in slowed.text
    assert slowed.headers["Retry-After"] == "30"
    assert _log_in(client, "someone-else", WRONG).status_code == 401  # only that username


def test_the_waits_double_up_to_a_minute_and_refusals_do_not_lengthen_them(session):
    policy = LockoutPolicy(
        max_failures=10, max_failures_per_ip=100, window=timedelta(minutes=15),
        slowdown=timedelta(seconds=2),
    )  # fmt: skip
    start = utcnow()
    waits = []
    ole = {"session": session, "policy": policy, "username": "ole", "client_ip": "::1"}
    for _failure in range(8):
        record_failure(**ole, now=start)
        wait = locked_for(**ole, now=start)
        waits.append(wait and wait.total_seconds())
    assert waits == [None, 2, 4, 8, 16, 32, 60, 60]
    later = start + timedelta(seconds=59)
    again = locked_for(session=session, policy=policy, username="ole", client_ip="::1", now=later)
    assert again == timedelta(seconds=1)
    assert (
        locked_for(session=session, policy=policy, username="ole", client_ip="::2", now=start)
        is None
    )


def _without_csrf(html: str) -> str:
    return html.replace(_csrf_from(html), "")


def test_the_username_is_counted_whatever_its_case(client, make_user):
    user = make_user(Role.AGENT, username="karen")
    for spelling in ("Karen", "KAREN", "karen", "kAREN", "KaReN"):
        assert _log_in(client, spelling, WRONG).status_code == 401
    assert _log_in(client, "karen", TEST_PASSWORD).status_code == 429
    assert user.username == "karen"


def test_the_lock_lifts_when_the_failures_are_older_than_the_window(client, make_user, session):
    user = make_user(Role.AGENT)
    _fail(client, user.username, 5)
    _age_failures(session, timedelta(minutes=14, seconds=30))
    response = _log_in(client, user.username, TEST_PASSWORD)
    assert response.status_code == 429
    assert f"{WAIT} 30 sekunder" in response.text

    _age_failures(session, timedelta(seconds=31))
    assert _log_in(client, user.username, TEST_PASSWORD).status_code == 303
    session.expire_all()
    assert session.scalars(select(LoginFailure)).all() == []  # cleared by the login


def test_a_successful_login_clears_the_failures_it_had_from_there(client, make_user):
    user = make_user(Role.AGENT)
    _fail(client, user.username, 4)
    assert _log_in(client, user.username, TEST_PASSWORD).status_code == 303
    _fail(client, user.username, 4)
    assert _log_in(client, user.username, TEST_PASSWORD).status_code == 303


def test_unknown_usernames_lock_too_so_a_lock_says_nothing_about_existence(client):
    _fail(client, "nobody-here", 5)
    assert LOCKED in _log_in(client, "nobody-here", WRONG).text


def test_the_lock_holds_in_every_process(settings, make_user):
    user = make_user(Role.AGENT)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        _fail(first, user.username, 3)
        _fail(second, user.username, 2)
        assert _log_in(first, user.username, TEST_PASSWORD).status_code == 429
        assert _log_in(second, user.username, TEST_PASSWORD).status_code == 429


def test_an_address_with_too_many_failures_is_locked_for_every_username(
    client, make_user, settings
):
    settings.login_max_failures_per_ip = 3
    user = make_user(Role.AGENT)
    for name in ("anna", "bent", "carl"):
        _fail(client, name, 1)
    response = _log_in(client, user.username, TEST_PASSWORD)
    assert response.status_code == 429 and LOCKED in response.text


def test_x_forwarded_for_does_not_choose_the_address(client, session, settings):
    settings.login_max_failures_per_ip = 3
    for n in range(3):
        response = _log_in(client, f"user{n}", WRONG, **{"X-Forwarded-For": f"203.0.113.{n}"})
        assert response.status_code == 401
    assert set(session.scalars(select(LoginFailure.client_ip))) == {"testclient"}
    spoofed = {"X-Forwarded-For": "198.51.100.7"}
    assert _log_in(client, "someone", WRONG, **spoofed).status_code == 429


def test_a_lock_is_logged_without_the_password(client, make_user, caplog):
    user = make_user(Role.AGENT)
    with caplog.at_level(logging.INFO, logger="hotline.auth.lockout"):
        _fail(client, user.username, 5)
        _log_in(client, user.username, TEST_PASSWORD)
    messages = [r.getMessage() for r in caplog.records if r.name == "hotline.auth.lockout"]
    assert len(messages) == 2
    assert messages[0].startswith("login locked") and user.username in messages[0]
    assert messages[1].startswith("login refused") and "testclient" in messages[1]
    assert WRONG not in caplog.text and TEST_PASSWORD not in caplog.text


def test_the_wait_is_until_the_oldest_counted_failure_leaves_the_window(session):
    policy = LockoutPolicy(max_failures=3, max_failures_per_ip=100, window=timedelta(minutes=15))
    start = utcnow()
    for minute in (0, 2, 4, 6):
        now = start + timedelta(minutes=minute)
        record_failure(session=session, policy=policy, username="Ole", client_ip="::1", now=now)
    at = start + timedelta(minutes=6)
    # Failures at 2, 4 and 6 count (the three newest): the lock lifts when the one at 2 is old.
    wait = locked_for(session=session, policy=policy, username="ole", client_ip="::1", now=at)
    assert wait == timedelta(minutes=11)
    just_before = start + timedelta(minutes=16, seconds=59)
    assert locked_for(
        session=session, policy=policy, username="ole", client_ip="::1", now=just_before
    )
    after = start + timedelta(minutes=17, seconds=1)
    assert (
        locked_for(session=session, policy=policy, username="ole", client_ip="::1", now=after)
        is None
    )
    # Another address and another username are not locked by these.
    for username, address in (("eva", "::1"), ("ole", "::2")):
        assert (
            locked_for(session=session, policy=policy, username=username, client_ip=address, now=at)
            is None
        )


def test_failures_older_than_the_window_are_deleted_when_another_is_recorded(session):
    policy = LockoutPolicy(max_failures=5, max_failures_per_ip=30, window=timedelta(minutes=15))
    now = utcnow()
    record_failure(
        session=session,
        policy=policy,
        username="old",
        client_ip="::1",
        now=now - timedelta(hours=2),
    )
    record_failure(session=session, policy=policy, username="new", client_ip="::1", now=now)
    session.commit()
    assert list(session.scalars(select(LoginFailure.username))) == ["new"]

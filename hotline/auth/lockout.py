"""Login lockout: one username from one address slowed, then locked; a flooding address locked.

A failed login is a row in login_failures (username lowercased, client address, time), so every
process sees the same count. Failures are counted per username *and address*: after the n-th
failure of a username from an address (n >= 2), that pair's next login is refused without its
password being checked until `login_slowdown_s` x 2^(n-2) seconds have passed since it (capped at
a minute); at `login_max_failures` the pair is locked until the oldest failure that makes the count
is `login_lockout_minutes` old. An address with `login_max_failures_per_ip` failures over all
usernames is locked the same way for every username. Refused attempts are not failures: they
neither extend a lock nor lengthen a wait. A successful login clears that pair's failures. Rows
older than the window are deleted whenever a failure is recorded or cleared.

Why per pair: counted per username alone, anyone could lock out any named user (the system admin
too) with five wrong passwords. Now a user with the right password from an address without
failures for them always gets in. The limit of this choice: an attacker with many addresses gets
`login_max_failures` guesses per address and window (a username collecting failures from many
addresses is logged as a warning); the password policy (12+ characters, not a common password) is
what holds against that. Someone behind the same address as the user (a shared NAT) can still
lock the user there, not elsewhere.

The client address is `request.client.host`. Behind a reverse proxy that is the proxy's address
unless uvicorn trusts the proxy's X-Forwarded-For: `hotline serve` trusts it only from the
addresses in FORWARDED_ALLOW_IPS (uvicorn's setting; default 127.0.0.1 and ::1, a proxy on the
same host), so a client can't choose its own address.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hotline.auth.models import LoginFailure
from hotline.config import Settings

log = logging.getLogger(__name__)
MAX_ADDRESS_LENGTH = 45  # the column; an IPv6 address with an IPv4 tail fits
MAX_DELAY = timedelta(minutes=1)
# A username failing from this many addresses within the window is logged (once) as a warning.
MANY_ADDRESSES = 10


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures lock a username or an address, within how long."""

    max_failures: int
    max_failures_per_ip: int
    window: timedelta
    slowdown: timedelta = timedelta(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> "LockoutPolicy":
        """The policy the settings give."""
        return cls(
            max_failures=settings.login_max_failures,
            max_failures_per_ip=settings.login_max_failures_per_ip,
            window=timedelta(minutes=settings.login_lockout_minutes),
            slowdown=timedelta(seconds=settings.login_slowdown_s),
        )

    def delay_after(self, failures: int) -> timedelta:
        """How long after the last of this many failures the next login may be checked."""
        if failures < 2:
            return timedelta(0)
        return min(self.slowdown * 2 ** (failures - 2), MAX_DELAY)


def client_address(request: Request) -> str:
    """The address a login comes from (see the module docstring about proxies)."""
    host = request.client.host if request.client else ""
    return (host or "unknown")[:MAX_ADDRESS_LENGTH]


def locked_for(
    *, session: Session, policy: LockoutPolicy, username: str, client_ip: str, now: datetime
) -> timedelta | None:
    """How long logins for this username from this address stay refused, or None."""
    by_pair, by_address = _counted(username, client_ip)
    waits = [
        _wait(session, by_pair, policy.max_failures, policy.window, now),
        _wait(session, by_address, policy.max_failures_per_ip, policy.window, now),
        _slowed_for(session, by_pair, policy, now),
    ]
    waits = [wait for wait in waits if wait is not None]
    return max(waits) if waits else None


def _counted(username: str, client_ip: str):
    """The failures that count against this username from this address, and against the address."""
    by_address = LoginFailure.client_ip == client_ip
    return (LoginFailure.username == _key(username)) & by_address, by_address


def _wait(session, condition, limit: int, window: timedelta, now: datetime) -> timedelta | None:
    # The limit-th newest failure in the window: when it leaves the window, fewer than the limit
    # remain and the lock lifts.
    oldest_that_counts = session.scalar(
        select(LoginFailure.failed_at)
        .where(condition, LoginFailure.failed_at > now - window)
        .order_by(LoginFailure.failed_at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if oldest_that_counts is None:
        return None
    return oldest_that_counts + window - now


def _slowed_for(session, condition, policy: LockoutPolicy, now: datetime) -> timedelta | None:
    failures, last = session.execute(
        select(func.count(), func.max(LoginFailure.failed_at)).where(
            condition, LoginFailure.failed_at > now - policy.window
        )
    ).one()
    if not failures:
        return None
    wait = last + policy.delay_after(failures) - now
    return wait if wait > timedelta(0) else None


def record_failure(
    *, session: Session, policy: LockoutPolicy, username: str, client_ip: str, now: datetime
) -> None:
    """Count a failed login; log when it locks the username or the address. Flushes."""
    _prune(session, policy, now)
    session.add(LoginFailure(username=_key(username), client_ip=client_ip, failed_at=now))
    session.flush()
    by_pair, by_address = _counted(username, client_ip)
    if _wait(session, by_pair, policy.max_failures, policy.window, now) or _wait(
        session, by_address, policy.max_failures_per_ip, policy.window, now
    ):
        log.warning("login locked after failed logins: username=%r address=%s", username, client_ip)
    addresses = session.scalar(
        select(func.count(LoginFailure.client_ip.distinct())).where(
            LoginFailure.username == _key(username)
        )
    )
    if addresses == MANY_ADDRESSES:
        log.warning("failed logins for username=%r from %d addresses", username, addresses)


def clear_failures(
    *, session: Session, policy: LockoutPolicy, username: str, client_ip: str, now: datetime
) -> None:
    """Forget the username's failures from this address after it logged in from there. Flushes."""
    _prune(session, policy, now)
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.username == _key(username), LoginFailure.client_ip == client_ip
        )
    )


def log_refusal(username: str, client_ip: str, wait: timedelta) -> None:
    """Note a login refused because of a lock (never with a password)."""
    seconds = int(wait.total_seconds())
    log.info("login refused, locked %ds more: username=%r address=%s", seconds, username, client_ip)


def _prune(session: Session, policy: LockoutPolicy, now: datetime) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - policy.window))


def _key(username: str) -> str:
    return username.strip().lower()

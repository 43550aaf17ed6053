"""Login lockout: too many failed logins for a username, or from one address, locks it a while.

A failed login is a row in login_failures (username lowercased, client address, time), so every
process sees the same count. A username with `login_max_failures` failures in the last
`login_lockout_minutes`, or an address with `login_max_failures_per_ip`, is refused without its
password being checked (a locked account can't be probed) until the oldest failure that makes
the count is that old. Refused attempts are not failures: they don't extend the lock. A
successful login clears its username's failures. Rows older than the window are deleted whenever
a failure is recorded or cleared.

The client address is `request.client.host`. Behind a reverse proxy that is the proxy's address
unless uvicorn trusts the proxy's X-Forwarded-For: `hotline serve` trusts it only from the
addresses in FORWARDED_ALLOW_IPS (uvicorn's setting; default 127.0.0.1 and ::1, a proxy on the
same host), so a client can't choose its own address.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hotline.auth.models import LoginFailure
from hotline.config import Settings

log = logging.getLogger(__name__)
MAX_ADDRESS_LENGTH = 45  # the column; an IPv6 address with an IPv4 tail fits


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures lock a username or an address, within how long."""

    max_failures: int
    max_failures_per_ip: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "LockoutPolicy":
        """The policy the settings give."""
        return cls(
            max_failures=settings.login_max_failures,
            max_failures_per_ip=settings.login_max_failures_per_ip,
            window=timedelta(minutes=settings.login_lockout_minutes),
        )


def client_address(request: Request) -> str:
    """The address a login comes from (see the module docstring about proxies)."""
    host = request.client.host if request.client else ""
    return (host or "unknown")[:MAX_ADDRESS_LENGTH]


def locked_for(
    *, session: Session, policy: LockoutPolicy, username: str, client_ip: str, now: datetime
) -> timedelta | None:
    """How long logins for this username or from this address stay refused, or None."""
    by_name = LoginFailure.username == _key(username)
    by_address = LoginFailure.client_ip == client_ip
    waits = [
        _wait(session, by_name, policy.max_failures, policy.window, now),
        _wait(session, by_address, policy.max_failures_per_ip, policy.window, now),
    ]
    waits = [wait for wait in waits if wait is not None]
    return max(waits) if waits else None


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


def record_failure(
    *, session: Session, policy: LockoutPolicy, username: str, client_ip: str, now: datetime
) -> None:
    """Count a failed login; log when it locks the username or the address. Flushes."""
    _prune(session, policy, now)
    session.add(LoginFailure(username=_key(username), client_ip=client_ip, failed_at=now))
    session.flush()
    if locked_for(session=session, policy=policy, username=username, client_ip=client_ip, now=now):
        log.warning("login locked after failed logins: username=%r address=%s", username, client_ip)


def clear_failures(
    *, session: Session, policy: LockoutPolicy, username: str, now: datetime
) -> None:
    """Forget the username's failures after it logged in. Flushes."""
    _prune(session, policy, now)
    session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))


def log_refusal(username: str, client_ip: str, wait: timedelta) -> None:
    """Note a login refused because of a lock (never with a password)."""
    seconds = int(wait.total_seconds())
    log.info("login refused, locked %ds more: username=%r address=%s", seconds, username, client_ip)


def _prune(session: Session, policy: LockoutPolicy, now: datetime) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - policy.window))


def _key(username: str) -> str:
    return username.strip().lower()

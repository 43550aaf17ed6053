"""CTI integrations: each phone system posts events with its own token, rotatable and revocable.

Only a token's SHA-256 is stored. The table holds one hash per row and names are unique, so a
rotation retires the old row under a new name, "<name> (udskiftet #<id>)", with `revoked_at` set to
the end of the grace period (the old token works until then), and gives the name to a new row. A
revocation renames the row "<name> (spærret #<id>)" and ends it at once, so the name can be reused.
"""

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import User
from hotline.calls.models import CtiIntegration
from hotline.config import DEFAULT_CTI_TOKEN, Settings
from hotline.db import utcnow
from hotline.kit.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

TOKEN_PREFIX = "cti_"
MAX_NAME_LENGTH = 60  # leaves room for the suffix of a retired row in the 100-character column
# No parentheses or "#": a retired row's suffix can never be mistaken for part of a name.
NAME_PATTERN = re.compile(r"^\w[\w .-]*$")
REPLACED, REVOKED = "udskiftet", "spærret"
USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IntegrationRow:
    """One token of an integration as the list shows it."""

    name: str
    state: str  # active | grace (replaced, still accepted) | replaced | revoked
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def new_token() -> str:
    """A fresh random CTI token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def check_name(name: Any) -> str:
    """A valid integration name (letters, digits, space, . _ -), or InvalidInput."""
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.match(name):
        raise InvalidInput("cti.name_invalid", max=MAX_NAME_LENGTH)
    return name


def create_integration(
    *, session: Session, actor: User | None, name: str, now: datetime | None = None
) -> tuple[CtiIntegration, str]:
    """Create an integration; returns it and its token, which is shown this once."""
    name = check_name(name)
    if _current(session, name) is not None:
        raise Conflict("cti.name_taken", name=name)
    integration, token = _add(session, name, now or utcnow())
    _audit(session, actor, "create", integration, before=None)
    return integration, token


def rotate_integration(
    *,
    session: Session,
    actor: User | None,
    name: str,
    grace: timedelta,
    now: datetime | None = None,
) -> tuple[CtiIntegration, str]:
    """Give an integration a new token; the old one keeps working for the grace period."""
    now = now or utcnow()
    old = _get_current(session, name)
    before, base = snapshot(old), old.name
    _retire(old, REPLACED, until=now + max(grace, timedelta(0)))
    session.flush()  # the name is free before the new row takes it
    integration, token = _add(session, base, now)
    _audit(session, actor, "rotate", integration, before=before, old=snapshot(old))
    return integration, token


def revoke_integration(
    *, session: Session, actor: User | None, name: str, now: datetime | None = None
) -> CtiIntegration:
    """Stop an integration's token at once, and any old token still in its grace period."""
    now = now or utcnow()
    current = _get_current(session, name)
    before, base = snapshot(current), current.name
    _retire(current, REVOKED, until=now)
    for old in session.scalars(_retired_rows(base)):
        if old.revoked_at is not None and old.revoked_at > now:
            old.revoked_at = now
    session.flush()
    _audit(session, actor, "revoke", current, before=before)
    return current


def list_integrations(*, session: Session, now: datetime | None = None) -> list[IntegrationRow]:
    """Every token ever issued: by name, the current one first, then the older ones."""
    now = now or utcnow()
    newest_first = select(CtiIntegration).order_by(CtiIntegration.id.desc())
    rows = [_row(i, now) for i in session.scalars(newest_first)]
    return sorted(
        rows, key=lambda r: (r.name.casefold(), r.state != "active", -r.created_at.timestamp())
    )


def legacy_token_matches(token: str, *, settings: Settings) -> bool:
    """Whether this is HOTLINE_CTI_TOKEN (the published demo token only in demo mode)."""
    legacy = settings.cti_token
    if not legacy or (legacy == DEFAULT_CTI_TOKEN and not settings.demo_mode):
        return False
    return hmac.compare_digest(token.encode(), legacy.encode())


def accept_token(
    *, session: Session, token: str, source: str | None = None, now: datetime | None = None
) -> CtiIntegration:
    """The integration owning this token, still valid; else NotFound, logged without the token."""
    now = now or utcnow()
    integration = None
    if token.startswith(TOKEN_PREFIX):
        integration = session.scalar(
            select(CtiIntegration).where(CtiIntegration.token_sha256 == _sha256(token))
        )
    if integration is None or (integration.revoked_at and integration.revoked_at <= now):
        state = "unknown" if integration is None else f"ended ({integration.name})"
        log.warning("CTI event refused from %s: %s token", source or "?", state)
        raise NotFound("calls.cti_not_found")
    # Recorded to the minute, like API tokens: a write on every event would serialise them.
    last = integration.last_used_at
    if last is None or now - last > USE_RESOLUTION:
        integration.last_used_at = now
        session.flush()
    return integration


def snapshot(integration: CtiIntegration) -> dict[str, Any]:
    """An integration for the audit log (never the token or its hash)."""
    return {
        "name": integration.name,
        "created_at": integration.created_at.isoformat(),
        "revoked_at": integration.revoked_at.isoformat() if integration.revoked_at else None,
    }


def _add(session: Session, name: str, now: datetime) -> tuple[CtiIntegration, str]:
    token = new_token()
    integration = CtiIntegration(name=name, token_sha256=_sha256(token), created_at=now)
    try:
        with session.begin_nested():
            session.add(integration)
            session.flush()
    except IntegrityError:  # created at the same moment by someone else
        raise Conflict("cti.name_taken", name=name) from None
    return integration, token


def _current(session: Session, name: str) -> CtiIntegration | None:
    return session.scalar(select(CtiIntegration).where(CtiIntegration.name == name))


def _get_current(session: Session, name: str) -> CtiIntegration:
    integration = _current(session, name.strip()) if isinstance(name, str) else None
    if integration is None or integration.revoked_at is not None:
        raise NotFound("cti.not_found", name=str(name)[:MAX_NAME_LENGTH])
    return integration


def _retire(integration: CtiIntegration, why: str, *, until: datetime) -> None:
    integration.name = f"{integration.name} ({why} #{integration.id})"
    integration.revoked_at = until


def _retired_rows(name: str):
    prefix = f"{name} ({REPLACED} #"
    return select(CtiIntegration).where(
        CtiIntegration.name.startswith(prefix, autoescape=True),
        CtiIntegration.revoked_at.is_not(None),
    )


def _row(integration: CtiIntegration, now: datetime) -> IntegrationRow:
    name, _, suffix = integration.name.partition(" (")
    ended = integration.revoked_at is not None and integration.revoked_at <= now
    if integration.revoked_at is None:
        state = "active"
    elif suffix.startswith(REVOKED):
        state = "revoked"
    else:
        state = "replaced" if ended else "grace"
    return IntegrationRow(
        name=name,
        state=state,
        created_at=integration.created_at,
        last_used_at=integration.last_used_at,
        revoked_at=integration.revoked_at,
    )


def _audit(session, actor, verb, integration, *, before, old=None) -> None:
    after = snapshot(integration) | ({"old_token": old} if old else {})
    record_change(
        session=session,
        actor=actor,
        action=f"cti_integration.{verb}",
        entity_type="cti_integration",
        entity_id=str(integration.id),
        before=before,
        after=after,
    )


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

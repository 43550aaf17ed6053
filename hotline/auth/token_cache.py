"""Who owns an API token, remembered for two seconds per process: most API calls need no query.

A revoked token, a deactivated user or a changed role is seen by this process at once (any ORM
change to a user or a token empties the cache) and by every other process within TOKEN_TTL_S.
Entries are detached copies of the user's columns; a request that needs the user merges one into
its own session without loading it (the merge-for-caching pattern SQLAlchemy documents), so
relationships still load lazily from that session.
"""

import threading
import time
from collections import OrderedDict

from sqlalchemy.orm import Session, make_transient_to_detached

from hotline.auth.models import ApiToken, User
from hotline.db import Listener

TOKEN_TTL_S = 2.0
MAX_ENTRIES = 10_000

_WATCHED = (User, ApiToken)
_entries: OrderedDict[str, tuple[float, User]] = OrderedDict()
_lock = threading.Lock()


def cached_owner(token_sha256: str) -> User | None:
    """The token's owner if this process looked it up just now: a detached copy, only to read."""
    with _lock:
        found = _entries.get(token_sha256)
        if found is None:
            return None
        expires, user = found
        if time.monotonic() >= expires:
            del _entries[token_sha256]
            return None
    return user


def remember_owner(token_sha256: str, user: User) -> None:
    """Remember an active user who owns an unrevoked token, for TOKEN_TTL_S seconds."""
    columns = {attr.key: getattr(user, attr.key) for attr in User.__mapper__.column_attrs}
    copy = User(**columns)
    make_transient_to_detached(copy)
    with _lock:
        _entries[token_sha256] = (time.monotonic() + TOKEN_TTL_S, copy)
        _entries.move_to_end(token_sha256)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def forget_all() -> None:
    """Empty the cache (after any change to users or tokens, and between tests)."""
    with _lock:
        _entries.clear()


def _forget_after_user_or_token_changes(session: Session, _context) -> None:
    changed = (*session.dirty, *session.deleted)
    if any(isinstance(obj, _WATCHED) for obj in changed):
        forget_all()


def _forget_after_bulk_changes(state) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.class_ in _WATCHED:
        forget_all()


LISTENERS = (
    Listener(Session, "after_flush", _forget_after_user_or_token_changes),
    Listener(Session, "do_orm_execute", _forget_after_bulk_changes),
)

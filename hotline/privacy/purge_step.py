"""A kind of personal data that expires, as the domain that owns it declares it.

The domains declare their steps with this type (letters: replies; calls: calls and handled
callbacks; insight: survey comments and rule searches), and hotline/privacy/retention.py runs
them. It is a module of its own, importing no domain, so that declaring a step never imports the
runner, which imports the domains.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute, Session

from hotline.config import Settings


class PurgeBatch(Protocol):
    """Purge those of the ids still expired at the cut-off; flush only; how many were purged."""

    def __call__(self, session: Session, ids: list[int], *, cutoff: datetime, now: datetime) -> int:
        """A row may have changed since it was chosen: the purge checks it again."""


@dataclass(frozen=True)
class PurgeStep:
    """Rows that lose personal data after a retention period: which, when, and how."""

    what: str  # its name in the reports, the log and `hotline purge`: "calls"
    # The audit entry each run writes (the id names the whole table; a purge has no one row).
    action: str
    entity_type: str
    entity_id: str
    retention_days: Callable[[Settings], int]  # how long the data is kept, from the settings
    id: InstrumentedAttribute  # the rows' id: batches are runs of ids in this order
    # The rows past a cut-off that still hold the personal data; a purged row never matches.
    expired: Callable[[datetime], ColumnElement[bool]]
    purge: PurgeBatch

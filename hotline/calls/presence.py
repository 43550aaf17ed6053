"""The consoles open in this process, and the worker that keeps their agents present.

Every open console stream counts here; the presence worker notes them all in one statement, then
makes away the available agents whose consoles have all gone (on every process). One write per
interval for the whole process, instead of one transaction per stream: with 200 consoles the
streams' own notes were a steady stream of small writes competing with the claims.
"""

import logging
from collections import Counter
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.agents import away_when_consoles_gone, note_consoles_open
from hotline.kit.periodic import run_every

log = logging.getLogger(__name__)

# How often the presence worker notes the open consoles and looks for agents whose have gone.
PRESENCE_CHECK_S = 30.0
# Open consoles are noted at least this many times within console_gone_after_s.
NOTES_PER_GONE = 3


class OpenConsoles:
    """The users with a console stream open in this process (a user may have several)."""

    def __init__(self) -> None:
        self._streams: Counter[int] = Counter()

    def opened(self, user_id: int) -> None:
        """A console stream of the user has opened."""
        self._streams[user_id] += 1

    def closed(self, user_id: int) -> None:
        """One of the user's console streams has closed."""
        self._streams[user_id] -= 1
        if self._streams[user_id] <= 0:
            del self._streams[user_id]

    def user_ids(self) -> list[int]:
        """The users with at least one console open, in id order."""
        return sorted(self._streams)


async def run_presence_worker(
    make_session: sessionmaker[Session], gone_after: timedelta, consoles: OpenConsoles
) -> None:
    """Note the open consoles and make away the agents whose consoles have gone, until cancelled."""

    def step() -> None:
        with make_session() as session:
            note_consoles_open(session=session, user_ids=consoles.user_ids())
            if count := away_when_consoles_gone(session=session, gone_after=gone_after):
                log.info("%d agents made away: their consoles had gone", count)
            session.commit()

    interval = min(PRESENCE_CHECK_S, gone_after.total_seconds() / NOTES_PER_GONE)
    await run_every(interval, step, what="the presence check")

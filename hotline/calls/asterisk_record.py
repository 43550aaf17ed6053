"""Recording Asterisk's queue events: each CTI payload in its own transaction, in arrival order."""

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.asterisk_events import AmiEventError, AmiMapping, cti_payloads
from hotline.calls.cti import record_cti_event
from hotline.kit.errors import HotlineError

log = logging.getLogger(__name__)


class CtiRecorder:
    """Takes AMI events as they come and records their CTI payloads one at a time."""

    def __init__(
        self,
        make_session: sessionmaker[Session],
        mapping: AmiMapping,
        *,
        retry_s: float,
        max_retry_s: float,
    ) -> None:
        self.make_session = make_session
        self.mapping = mapping
        self.retry_s, self.max_retry_s = retry_s, max_retry_s
        # What became of the payloads; "recorded" includes repeats Hotline ignored.
        self.counts = {"recorded": 0, "duplicate": 0, "refused": 0, "skipped": 0}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def put(self, event: dict[str, Any]) -> None:
        """Queue one AMI event (its headers) for recording."""
        self._events.put_nowait(event)

    async def drained(self) -> None:
        """Wait until every event queued so far is recorded (or skipped)."""
        await self._events.join()

    async def run(self, stop: asyncio.Event) -> None:
        """Record queued events until finish() is called and all before it are done."""
        while (event := await self._events.get()) is not None:
            try:
                for payload in self._payloads(event):
                    await self._record_until_stored(payload, stop)
            finally:
                self._events.task_done()
        self._events.task_done()

    def finish(self) -> None:
        """Let run() return once the events queued so far are recorded."""
        self._events.put_nowait(None)

    def _payloads(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            return cti_payloads(event, self.mapping)
        except AmiEventError as exc:
            log.warning("%s event skipped: %s", event.get("Event"), exc)
        except Exception:
            log.exception("%s event skipped", event.get("Event"))
        self.counts["skipped"] += 1
        return []

    async def _record_until_stored(self, payload: dict[str, Any], stop: asyncio.Event) -> None:
        """Record one payload; while the database is unreachable, try again (until stopped)."""
        delay = self.retry_s
        while True:
            try:
                outcome = await asyncio.to_thread(self._record, payload)
            except (OperationalError, InterfaceError) as exc:
                # The driver's own message: SQLAlchemy's would show the statement's parameters.
                if stop.is_set():
                    log.error("CTI %s for callId %s lost: %s", *_key(payload), exc.orig)
                    outcome = "skipped"
                else:
                    log.warning("database unavailable (%s); again in %g s", exc.orig, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.max_retry_s)
                    continue
            except DBAPIError as exc:
                log.error("CTI %s for callId %s not recorded: %r", *_key(payload), exc.orig)
                outcome = "skipped"
            except Exception:
                log.exception("CTI %s for callId %s not recorded", *_key(payload))
                outcome = "skipped"
            self.counts[outcome] += 1
            return

    def _record(self, payload: dict[str, Any]) -> str:
        """Record one payload in its own transaction; how it went, as a key of counts."""
        with self.make_session() as session:
            try:
                record_cti_event(session=session, payload=payload)
                session.commit()
            except IntegrityError:
                session.rollback()  # a concurrent copy of the same event won
                return "duplicate"
            except HotlineError as exc:
                session.rollback()
                log.warning("CTI %s for callId %s refused: %s", *_key(payload), exc.key)
                return "refused"
        log.debug("CTI %s for callId %s recorded", *_key(payload))
        return "recorded"


def _key(payload: dict[str, Any]) -> tuple[Any, Any]:
    """What identifies a payload in the log: never the caller's number (personal data)."""
    return payload.get("event"), payload.get("callId")

"""Background work repeated at an interval inside the server process."""

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


async def run_every(interval_s: float, step: Callable[[], None], *, what: str) -> None:
    """Run the blocking step in a thread every interval_s until cancelled; a failure is logged."""
    while True:
        try:
            await asyncio.to_thread(step)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; trying again later", what)
        await asyncio.sleep(interval_s)

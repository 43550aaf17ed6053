"""The outbox worker: delivers queued e-mail replies with retries."""

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from hotline.config import Settings


async def run_outbox_worker(make_session: sessionmaker[Session], settings: Settings) -> None:
    """Deliver due replies every few seconds until cancelled."""
    while True:
        await asyncio.sleep(settings.outbox_interval_s)

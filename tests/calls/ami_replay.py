"""Running the Asterisk adapter against the fake AMI server: the tests' shared steps."""

import asyncio
from datetime import datetime, timedelta

from hotline.calls.asterisk import AsteriskAdapter
from hotline.config import Settings
from hotline.db import utcnow
from tests.calls.ami_server import FakeAsterisk

# Backoffs and timeouts short enough for tests, long enough for a loaded machine.
FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 2.0}


class Clock:
    """Hotline's clock for CTI events, moved on only by the streams' "-- advance" blocks."""

    def __init__(self) -> None:
        self.now_value = utcnow().replace(microsecond=0)
        self.start = self.now_value

    def now(self) -> datetime:
        return self.now_value

    def at(self, seconds: int) -> datetime:
        return self.start + timedelta(seconds=seconds)


def with_manager_user(settings: Settings) -> Settings:
    """The settings with the fake server's manager user, serving the queue "hotline"."""
    return settings.model_copy(
        update={
            "asterisk_username": "hotline",
            "asterisk_secret": "s3cret",
            "asterisk_queues": "hotline",
        }
    )


def adapter_for(port: int, settings: Settings, make_session, **options) -> AsteriskAdapter:
    """An adapter for the fake server on port, with FAST timings unless given others."""
    settings = settings.model_copy(update={"asterisk_port": port})
    return AsteriskAdapter(make_session, settings, **(FAST | options))


async def settle(adapter: AsteriskAdapter, events: int) -> None:
    """Wait until the adapter has received this many events and recorded all it received."""
    async with asyncio.timeout(5):
        while adapter.received < events:
            await asyncio.sleep(0.002)
        await adapter.recorder.drained()


async def replay(
    server: FakeAsterisk, settings: Settings, make_session, clock: Clock | None = None, **options
) -> AsteriskAdapter:
    """Run the adapter against the server until its script is played; the adapter."""
    adapter = adapter_for(await server.start(), settings, make_session, **options)

    async def advance(seconds: int, events: int) -> None:
        await settle(adapter, events)
        clock.now_value += timedelta(seconds=seconds)

    server.on_advance = advance
    stop = asyncio.Event()
    running = asyncio.create_task(adapter.run(stop))
    try:
        async with asyncio.timeout(5):
            await server.finished.wait()
        await settle(adapter, server.events_sent)
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)
        await server.close()
    assert asyncio.all_tasks() == {asyncio.current_task()}, "tasks left running"
    return adapter

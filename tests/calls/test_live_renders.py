"""The streams' shared snapshot: built once per change, again when stale or after a failure."""

import asyncio
import threading

import pytest

from hotline.db import make_sessionmaker
from hotline.web import live_renders
from hotline.web.live_renders import LiveRenders, build_snapshot


class CountingBuild:
    """build_snapshot, counting its calls; slow enough that concurrent askers overlap."""

    def __init__(self, fail: bool = False) -> None:
        self.count, self.fail = 0, fail
        self.running = self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, session, board=True):
        with self.lock:
            self.count += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            threading.Event().wait(0.05)
            if self.fail:
                raise RuntimeError("the database went away")
            return build_snapshot(session, board)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def sessionmaker(engine):
    return make_sessionmaker(engine)


def test_streams_asking_for_the_same_change_share_one_build(sessionmaker):
    build = CountingBuild()
    renders = LiveRenders(sessionmaker, build)

    async def scenario() -> None:
        first = await asyncio.gather(*(renders.latest(1) for _ in range(10)))
        assert build.count == 1 and all(shot is first[0] for shot in first)
        assert await renders.latest(2) is not first[0]  # a new change: a new build
        assert build.count == 2

    asyncio.run(scenario())


def test_a_snapshot_is_not_reused_once_its_clocks_would_lag(sessionmaker, monkeypatch):
    monkeypatch.setattr(live_renders, "MAX_AGE_S", 0.0)
    build = CountingBuild()
    renders = LiveRenders(sessionmaker, build)

    async def scenario() -> None:
        await renders.latest(1)
        await asyncio.sleep(0.01)
        await renders.latest(1)

    asyncio.run(scenario())
    assert build.count == 2


def test_a_failed_build_fails_its_askers_and_the_next_ask_builds_again(sessionmaker):
    build = CountingBuild(fail=True)
    renders = LiveRenders(sessionmaker, build)

    async def scenario() -> None:
        results = await asyncio.gather(renders.latest(1), renders.latest(1), return_exceptions=True)
        assert all(isinstance(r, RuntimeError) for r in results) and build.count == 1
        build.fail = False
        await renders.latest(1)
        assert build.count == 2

    asyncio.run(scenario())


def test_a_surge_of_changes_shares_builds_made_one_at_a_time(sessionmaker):
    build = CountingBuild()
    renders = LiveRenders(sessionmaker, build)

    async def stream(generation: int) -> None:
        await asyncio.sleep(generation * 0.005)  # a change every 5 ms, for half a second
        await renders.latest(generation)

    async def scenario() -> None:
        await asyncio.gather(*(stream(g) for g in range(1, 101)))
        last = await renders.latest(100)  # the last change is shown without another build
        assert await renders.latest(100) is last

    asyncio.run(scenario())
    assert build.most_at_once == 1
    # 100 changes in 0.5 s: builds 0.1 s apart (and 0.05 s long) make about six, not 100.
    assert build.count <= 8

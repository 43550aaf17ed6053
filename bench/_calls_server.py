"""Server processes of bench/calls.py: the real app under uvicorn, with an event-loop lag probe.

`python -m bench._calls_server <port> <database url> <data dir> <lag file>` serves
hotline.main.create_app as `hotline serve` does (one uvicorn process, no access log), wrapped in
a bench-only ASGI layer that starts a probe on the server's own event loop: it sleeps 10 ms at a
time and appends how late each wake-up came (ms) to the lag file, one line per second, with the
process's CPU time so far. Nothing of this is in the product.
"""

import asyncio
import math
import subprocess
import sys
import time
from pathlib import Path

import httpx

try:
    from bench._support import HOST, PROJECT_ROOT, UVICORN_OPTIONS, _real_app, free_port
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _support import HOST, PROJECT_ROOT, UVICORN_OPTIONS, _real_app, free_port

PROBE_INTERVAL_S = 0.010


async def _probe(lag_file: Path) -> None:
    loop = asyncio.get_running_loop()
    samples: list[float] = []
    flushed = time.time()
    with lag_file.open("a", encoding="utf-8") as out:
        while True:
            start = loop.time()
            await asyncio.sleep(PROBE_INTERVAL_S)
            samples.append((loop.time() - start - PROBE_INTERVAL_S) * 1000)
            if time.time() - flushed >= 1.0:
                flushed = time.time()
                lags = " ".join(f"{s:.2f}" for s in samples)
                out.write(f"{flushed:.3f} cpu={time.process_time():.3f} {lags}\n")
                out.flush()
                samples.clear()


def with_lag_probe(app, lag_file: Path):
    """The app, with the probe started on the loop that runs its lifespan."""
    tasks: list[asyncio.Task] = []

    async def wrapped(scope, receive, send) -> None:
        if scope["type"] == "lifespan" and not tasks:
            tasks.append(asyncio.create_task(_probe(lag_file)))
        await app(scope, receive, send)

    return wrapped


def lag_samples(lag_file: Path, start: float, stop: float) -> list[float]:
    """The probe's lags (ms) written between the wall-clock times start and stop."""
    samples: list[float] = []
    if not lag_file.exists():
        return samples
    for line in lag_file.read_text(encoding="utf-8").splitlines():
        stamp, _cpu, *values = line.split()
        if start <= float(stamp) <= stop + 1.0:
            samples.extend(float(v) for v in values)
    return samples


def cpu_share(lag_file: Path, start: float, stop: float) -> float:
    """The server process's CPU time per wall second between the wall-clock times start and stop."""
    marks = []
    if lag_file.exists():
        for line in lag_file.read_text(encoding="utf-8").splitlines():
            stamp, cpu, *_ = line.split()
            if start <= float(stamp) <= stop + 1.0:
                marks.append((float(stamp), float(cpu.removeprefix("cpu="))))
    if len(marks) < 2:
        return math.nan
    (t0, c0), (t1, c1) = marks[0], marks[-1]
    return (c1 - c0) / (t1 - t0)


class CallsServer:
    """One server process on a loopback port; use as a context manager."""

    def __init__(self, url: str, data_dir: Path, lag_file: Path) -> None:
        self.url, self.data_dir, self.lag_file = url, data_dir, lag_file
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "CallsServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "bench._calls_server", str(self.port), self.url]
        self.process = subprocess.Popen(
            [*command, str(self.data_dir), str(self.lag_file)], cwd=PROJECT_ROOT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"server did not start on {self.base_url}")

    def __exit__(self, *_exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _serve(port: int, url: str, data_dir: Path, lag_file: Path) -> None:
    import logging

    import uvicorn

    from hotline.single_server import lock_sqlite_database

    lock = lock_sqlite_database(url)  # as `hotline serve`: one process per SQLite database  # noqa: F841
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    app = with_lag_probe(_real_app(url, data_dir), lag_file)
    uvicorn.run(app, port=port, **UVICORN_OPTIONS)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: python -m bench._calls_server <port> <database url> <data dir> <lag>")
    _serve(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))

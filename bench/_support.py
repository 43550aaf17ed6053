"""Shared benchmark helpers: percentiles, loopback uvicorn servers in a subprocess, PostgreSQL.

`python -m bench._support serve <kind> <port> <arg>` is how a server subprocess starts:
kind "real" serves hotline.main.create_app on the database URL in <arg> (SQLite: data dir next to
the file; a PostgreSQL URL: a temporary data dir),
kind "bare-post" serves POST /api/calls/{id}/replies answering 201 with the dict in the JSON file
<arg>, pre-encoded (a Starlette route: the load generator's check for bench/letters.py),
kind "raw-asgi" answers every request with the bytes of the file <arg> (a plain ASGI app: the load
generator's check for bench/rules.py), kind "rules-floor" serves the floor of bench/_rules_http.py
for the JSON file <arg> holding the database URL and the response body.
"""

import json
import math
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Both servers get exactly these uvicorn settings: one process, no access log.
UVICORN_OPTIONS = {"host": HOST, "workers": 1, "log_level": "warning", "access_log": False}


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of the values."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def free_port() -> int:
    """A currently free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """A uvicorn server in a subprocess on a loopback port; use as a context manager."""

    def __init__(self, kind: str, arg: str, ready_path: str = "/") -> None:
        self.kind, self.arg, self.ready_path = kind, arg, ready_path
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        command = [sys.executable, "-m", "bench._support", "serve", self.kind, str(self.port)]
        self.process = subprocess.Popen([*command, self.arg], cwd=PROJECT_ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited with {self.process.returncode}")
            try:
                httpx.get(self.base_url + self.ready_path, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"{self.kind} server did not start on {self.base_url}")

    def __exit__(self, *_exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully (lifespan)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def postgres_url(database: str) -> str | None:
    """A fresh database of its own on the bench's PostgreSQL server, or None (and why, printed).

    $HOTLINE_BENCH_PG_URL (or $HOTLINE_BENCH_DATABASE_URL) names the server, else the throw-away
    one of scripts/test-postgres; the bench uses `database` on it, never the test database.
    """
    import os

    from sqlalchemy import text

    from hotline.db import make_engine

    base = os.environ.get("HOTLINE_BENCH_PG_URL") or os.environ.get("HOTLINE_BENCH_DATABASE_URL")
    if not base:
        run = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "test-postgres"), "start"],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            print(f"PostgreSQL skipped: {run.stderr.strip() or run.stdout.strip()}")
            return None
        base = run.stdout.strip()
    engine = make_engine(base)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {database}"))
        connection.execute(text(f"CREATE DATABASE {database}"))
    engine.dispose()
    return base.rsplit("/", 1)[0] + "/" + database


def _bare_post_app(payload: dict):
    """A Starlette route that reads the request's body and answers 201 with fixed JSON bytes."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    body = json.dumps(payload).encode()

    async def create_reply(request) -> Response:
        await request.body()
        return Response(body, status_code=201, media_type="application/json")

    route = Route("/api/calls/{call_id:int}/replies", create_reply, methods=["POST"])
    return Starlette(routes=[route])


def _real_app(url: str, data_dir: Path):
    from hotline.config import Settings
    from hotline.main import create_app

    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        demo_mode=True,
        outbox_worker=False,
        purge_worker=False,
        secret_key="bench-secret-key-not-for-production",
        cti_token="bench-cti-token",
    )
    return create_app(settings)


def _serve(kind: str, port: int, arg: str) -> None:
    import logging

    import uvicorn
    from sqlalchemy.engine import make_url

    # The renderer warns once per glyph no font has: thousands of lines for an adversarial reply.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    if kind == "bare-post":
        payload = json.loads(Path(arg).read_text(encoding="utf-8"))
        uvicorn.run(_bare_post_app(payload), port=port, **UVICORN_OPTIONS)
    elif kind == "raw-asgi":
        from bench._http_load import raw_asgi_app

        uvicorn.run(raw_asgi_app(Path(arg).read_bytes()), port=port, **UVICORN_OPTIONS)
    elif kind == "rules-floor":
        from bench._rules_http import serve_floor

        uvicorn.run(serve_floor(arg), port=port, **UVICORN_OPTIONS)
    elif make_url(arg).get_backend_name() == "sqlite":
        data_dir = Path(make_url(arg).database).parent
        uvicorn.run(_real_app(arg, data_dir), port=port, **UVICORN_OPTIONS)
    else:  # a database server has no file to put the app's data beside
        with tempfile.TemporaryDirectory(prefix="hotline-bench-data-") as data_dir:
            uvicorn.run(_real_app(arg, Path(data_dir)), port=port, **UVICORN_OPTIONS)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        _serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        kinds = "real|bare-post|raw-asgi|rules-floor"
        sys.exit(f"usage: python -m bench._support serve <{kinds}> <port> <arg>")

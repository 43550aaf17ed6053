"""A real Hotline server in a subprocess, on its own database, for browser and end-to-end tests."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEMO_PASSWORD = "demo-password-for-tests"
ROOT = Path(__file__).resolve().parents[1]
# The `hotline` command with cheap password hashing (tests/live_cli.py); run in ROOT to find it.
HOTLINE = [sys.executable, "-m", "tests.live_cli"]
CTI_TOKEN = "live-cti-token"


@dataclass
class LiveServer:
    """Where the running server is, and what it was started with."""

    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"

    def hotline(self, *args: str) -> str:
        """Run a `hotline` command against the server's database; returns its output."""
        done = subprocess.run(
            [*HOTLINE, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def api(self, username: str) -> httpx.Client:
        """A JSON API client with a fresh personal token of the user."""
        token = self.hotline("users", "token", username).strip()
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def post_cti(self, **event) -> httpx.Response:
        """Send a telephony event as the platform would (form-encoded)."""
        return httpx.post(f"{self.url}/api/cti/{CTI_TOKEN}", data=event, timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The migrated demo database of this test run, per database server ("" for SQLite): made once,
# then each live server starts on a copy of it (migrating and loading the demo takes seconds).
_demo_databases: dict[str, str] = {}


def new_database(
    test_database_url: str | None, tmp_dir: Path, name: str, *, copy_of: str | None = None
) -> str:
    """A database of its own (a SQLite file, or a sibling PostgreSQL database), empty or a copy."""
    if not test_database_url:
        path = tmp_dir / f"{name}.sqlite3"
        if copy_of:
            source = sqlite3.connect(copy_of.removeprefix("sqlite:///"))
            target = sqlite3.connect(path)
            with closing(source), closing(target):
                source.backup(target)
        return f"sqlite:///{path}"
    url = make_url(test_database_url)
    database = f"{url.database}_{name}"
    template = f' TEMPLATE "{make_url(copy_of).database}"' if copy_of else ""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"{template}'))
    admin.dispose()
    return url.set(database=database).render_as_string(hide_password=False)


def demo_database(test_database_url: str | None, tmp_dir: Path, env: dict[str, str]) -> str:
    """A fresh copy of the run's demo database (migrated, demo loaded), for one live server."""
    key = test_database_url or ""
    if key not in _demo_databases:
        template = new_database(test_database_url, tmp_dir, "demo")
        for step in (["db", "upgrade"], ["demo", "load"]):
            done = subprocess.run(
                [*HOTLINE, *step],
                cwd=ROOT,
                env={**env, "HOTLINE_DATABASE_URL": template},
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise RuntimeError(f"hotline {' '.join(step)} failed:\n{done.stderr}")
        _demo_databases[key] = template
    return new_database(test_database_url, tmp_dir, "live", copy_of=_demo_databases[key])


def start_live_server(tmp_dir: Path, test_database_url: str | None) -> LiveServer:
    """Start a server on a copy of the demo database; returns once /healthz answers."""
    port = free_port()
    data_dir = tmp_dir / "var"
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(data_dir),
        "HOTLINE_DEMO_MODE": "true",
        "HOTLINE_DEMO_PASSWORD": DEMO_PASSWORD,
        "HOTLINE_CTI_TOKEN": CTI_TOKEN,
        "HOTLINE_SECRET_KEY": "live-test-secret",
        "HOTLINE_OUTBOX_INTERVAL_S": "0.5",
        # Last month's 50-odd bill bases cost seconds of CPU at start; tests/reports covers them.
        "HOTLINE_BILL_MAIL_WORKER": "false",
        "HOTLINE_HOST": "127.0.0.1",
        "HOTLINE_PORT": str(port),
        # Reply e-mails carry the survey link only when the public address is known.
        "HOTLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("HOTLINE_MAIL_URL", None)
    env["HOTLINE_DATABASE_URL"] = demo_database(test_database_url, tmp_dir, env)
    log = open(tmp_dir / "server.log", "wb")  # noqa: SIM115  (closed with the process)
    process = subprocess.Popen(
        [*HOTLINE, "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {(tmp_dir / 'server.log').read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(url, data_dir, env, process)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the server did not answer /healthz within 30 s")


def stop_live_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()

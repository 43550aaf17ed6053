"""A second server process on the same SQLite database is refused at start, saying why."""

import os
import subprocess
import sys

from hotline.single_server import lock_sqlite_database


def test_a_second_server_on_one_sqlite_file_is_refused_with_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    held = lock_sqlite_database(url)  # as the first `hotline serve` holds it
    try:
        env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_DATA_DIR": str(tmp_path),
            "HOTLINE_DEMO_MODE": "true",
            "HOTLINE_PORT": "1",  # never reached: the lock is checked first
        }
        second = subprocess.run(
            [sys.executable, "-m", "hotline.cli", "serve"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(held)
    assert second.returncode == 1
    assert f"process {os.getpid()}" in second.stderr
    assert "SQLite takes one server process" in second.stderr
    assert "PostgreSQL" in second.stderr


def test_the_lock_is_free_again_when_the_server_ends_and_postgresql_needs_none(tmp_path):
    url = f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    os.close(lock_sqlite_database(url))
    os.close(lock_sqlite_database(url))  # taken again after the first holder let go
    assert lock_sqlite_database("postgresql+psycopg://hotline@127.0.0.1:1/x") is None

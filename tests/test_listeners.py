"""The ORM listeners: declared by their modules, switched on by every entry point, each once."""

import importlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import hotline
from hotline import db
from hotline.calls.models import Call, CallState
from hotline.main import create_app
from hotline.models import LISTENERS, install_listeners
from hotline.reports.rollup_models import CallDayStats

PACKAGE = Path(hotline.__file__).parent
ROOT = PACKAGE.parent

# Run in a fresh interpreter: nothing imported before has switched a listener on. argv: the
# entry point ("cli", "app" or "migrations"), the database URL, a data directory.
PROBE = """
import json, sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

import hotline.models  # every model and every module that declares listeners
from hotline import db

entry, url, data_dir = sys.argv[1:]
refused = False
if db.installed_listeners():
    sys.exit("importing switched listeners on")
try:
    db.make_sessionmaker(db.make_engine(url))
except db.ListenersNotInstalled:
    refused = True


def probe():
    from hotline.audit.models import AuditEntry, AuditLogIsAppendOnly
    from hotline.calls.models import Call, CallState
    from hotline.reports.rollup_models import CallDayStats

    offered = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    with db.cli_session(url) as session:
        session.add(
            Call(
                reference="DH-PROBE",
                municipality_code="0751",
                state=CallState.DONE,
                offered_at=offered,
                answered_at=offered + timedelta(seconds=30),
                ended_at=offered + timedelta(seconds=300),
                wrapped_up_at=offered + timedelta(seconds=330),
            )
        )
        entry = AuditEntry(actor_name="probe", action="probe", entity_type="probe", entity_id="1")
        session.add(entry)
        session.commit()
        offered_in_rollup = int(session.scalar(select(func.sum(CallDayStats.offered))) or 0)
        entry.action = "rewritten"
        try:
            session.flush()
            audit_protected = False
        except AuditLogIsAppendOnly:
            audit_protected = True
        session.rollback()
    installed = [
        [f"{x.fn.__module__}.{x.fn.__qualname__}", x.event_name, x.target.__name__]
        for x in db.installed_listeners()
    ]
    print(json.dumps({"refused": refused, "offered_in_rollup": offered_in_rollup,
                      "audit_protected": audit_protected, "installed": installed}))


if entry == "cli":
    from hotline.cli import main

    main.command("probe")(probe)  # a command like the others: the group's start runs first
    main(["probe"], standalone_mode=False)
elif entry == "app":
    from hotline.config import Settings
    from hotline.main import create_app

    create_app(Settings(database_url=url, data_dir=data_dir, demo_mode=True, secret_key="s"))
    probe()
else:
    from hotline.migrate import upgrade_database

    upgrade_database(url)
    probe()
"""


def named(listeners) -> list[list[str]]:
    """Listeners as the probe names them."""
    return [
        [f"{x.fn.__module__}.{x.fn.__qualname__}", x.event_name, x.target.__name__]
        for x in listeners
    ]


def declared_listeners() -> set[db.Listener]:
    """Every listener any module of the product declares (a module-level LISTENERS tuple)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if re.search(r"^LISTENERS = ", path.read_text(encoding="utf-8"), re.MULTILINE):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.update(importlib.import_module(module).LISTENERS)
    return found


def test_the_product_list_holds_every_declared_listener():
    declared = declared_listeners()
    assert len(declared) >= 13  # the roll-up's, the calls feed's, the audit log's, ...
    assert set(LISTENERS) == declared
    assert len(LISTENERS) == len(declared)  # none twice


def test_no_module_registers_a_listener_when_imported():
    # Engines get theirs where they are made (db_sqlite, db_postgres); everything else goes
    # through LISTENERS.
    allowed = {PACKAGE / "db.py": 1, PACKAGE / "db_sqlite.py": 3, PACKAGE / "db_postgres.py": 3}
    for path in PACKAGE.rglob("*.py"):
        calls = len(re.findall(r"listens_for\(|event\.listen\(", path.read_text(encoding="utf-8")))
        assert calls == allowed.get(path, 0), path


@pytest.mark.parametrize("entry", ["cli", "app", "migrations"])
def test_a_fresh_process_gets_every_listener_from_its_entry_point(
    entry, database_url, engine, tmp_path
):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, entry, database_url, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HOTLINE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["refused"]  # no sessions before the entry point installed the listeners
    assert found["installed"] == named(LISTENERS)
    assert found["offered_in_rollup"] == 1  # the finished call is in the roll-up
    assert found["audit_protected"]


def test_installing_again_counts_a_finished_call_once(session, settings):
    before = db.installed_listeners()
    install_listeners()
    create_app(settings)
    create_app(settings)
    assert db.installed_listeners() == before
    offered = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    session.add(
        Call(
            reference="DH-TWICE",
            municipality_code="0751",
            state=CallState.ABANDONED,
            offered_at=offered,
            ended_at=offered + timedelta(seconds=45),
        )
    )
    session.commit()
    assert session.scalar(select(func.sum(CallDayStats.offered))) == 1
    assert session.scalar(select(func.sum(CallDayStats.abandoned))) == 1

"""The reports bench's data: millions of synthetic calls over three years, set up once.

The issue's scale: 10 million calls on PostgreSQL, 3 million on SQLite. The calls come from
hotline.reports.synthetic_calls (the demo's generator) with fictitious caller numbers and notes,
which the export must leave out. SQLite data is cached under bench/.cache/ by DATA_VERSION and size;
a PostgreSQL database is filled once (with COPY) and recognised by its supervisor. Either is brought
to the current schema on use, its roll-ups rebuilt when a migration emptied them.
"""

import random
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, update

from hotline.auth.models import Role, User
from hotline.auth.service import create_user, issue_api_token
from hotline.calls.models import Call
from hotline.calls.reasons import seed_contact_reasons
from hotline.db import make_engine, make_sessionmaker
from hotline.migrate import upgrade_database
from hotline.municipalities.demo_lines import demo_dialled_number
from hotline.municipalities.models import Municipality
from hotline.municipalities.service import load_municipalities
from hotline.reports.rates import ensure_default_cost_rate
from hotline.reports.rollup import rebuild_rollup, rebuild_rollup_if_empty
from hotline.reports.synthetic_calls import calls_per_day_for, insert_calls, synthetic_calls

# Bump when the generated data changes: the cached database is keyed by it.
DATA_VERSION = "reports-v4"
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
SEED = 20261204
CALLS = 3_000_000  # on SQLite
POSTGRES_CALLS = 10_000_000
PARTICIPATING = 50
FIRST_DAY, LAST_DAY = date(2023, 12, 1), date(2026, 11, 30)
SUPERVISOR = "bench-reports-supervisor"
REFERENCE_PREFIX = "DH-BENCH-"
INSERT_BATCH = 50_000
# Every column a generated call sets (insert_calls() fills the others' gaps with NULL too).
COPIED_COLUMNS = (
    "reference",
    "direction",
    "state",
    "line_municipality_code",
    "municipality_code",
    "offered_at",
    "answered_at",
    "ended_at",
    "wrapped_up_at",
    "contact_reason_code",
    "outcome",
    "avoidable",
    "avoidable_url",
    "end_cause",
    "from_number",
    "to_number",
    "notes",
)


def data_tag(calls: int) -> str:
    """What names one generated data set: the version and the number of calls asked for."""
    return f"{DATA_VERSION}-{calls}"


def supervisor_name(calls: int) -> str:
    """The bench supervisor's full name, which tells whose data a PostgreSQL database holds."""
    return f"Bench Supervisor ({data_tag(calls)})"


def cached_database(calls: int) -> Path:
    """The generated SQLite database for this version and size, built once and kept."""
    path = CACHE_DIR / f"{data_tag(calls)}.sqlite3"
    if path.exists():
        bring_up_to_date(f"sqlite:///{path}")
        return path
    CACHE_DIR.mkdir(exist_ok=True)
    (CACHE_DIR / ".gitignore").write_text("*\n", encoding="utf-8")
    for stale in CACHE_DIR.glob("reports-*"):  # other versions' data and unfinished builds
        if not stale.name.startswith(f"{DATA_VERSION}-") or stale.suffix != ".sqlite3":
            stale.unlink()
    building = path.with_suffix(".building")
    start = time.perf_counter()
    generated = generate(f"sqlite:///{building}", calls)
    building.rename(path)
    print(f"generated {generated:,} calls into {path.name} in {time.perf_counter() - start:.1f} s")
    return path


def generate(url: str, calls: int) -> int:
    """Migrate, load the reference data, insert about `calls` calls, rebuild the roll-up.

    One transaction, so a failed run leaves nothing behind; returns the exact number of calls.
    """
    rng = random.Random(SEED)
    upgrade_database(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        load_municipalities(session=session)
        seed_contact_reasons(session=session)
        ensure_default_cost_rate(session=session)
        create_user(
            session=session,
            username=SUPERVISOR,
            full_name=supervisor_name(calls),
            password="bench-password-123456",
            role=Role.SUPERVISOR,
        )
        every_code = sorted(session.scalars(select(Municipality.code)))
        codes = sorted(rng.sample(every_code, PARTICIPATING))
        for code in codes:
            session.execute(
                update(Municipality)
                .where(Municipality.code == code)
                .values(participating=True, dialled_number=demo_dialled_number(code))
            )
        per_day = calls_per_day_for(calls, FIRST_DAY, LAST_DAY)
        rows = synthetic_calls(
            rng, codes, FIRST_DAY, LAST_DAY, per_day, prefix=REFERENCE_PREFIX, personal=True
        )
        generated = _insert(session, rows)
        rebuild_rollup(session)
        session.commit()
    engine.dispose()
    return generated


def postgres_database(url: str, calls: int) -> None:
    """Generate the calls into an empty PostgreSQL database, or reuse the bench's own data."""
    upgrade_database(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Call))
        name = connection.scalar(select(User.full_name).where(User.username == SUPERVISOR))
    engine.dispose()
    if name == supervisor_name(calls):
        bring_up_to_date(url)
        return
    if count or name:
        sys.exit(f"{url} holds other data ({count} calls): give the bench an empty database")
    start = time.perf_counter()
    generated = generate(url, calls)
    print(f"generated {generated:,} calls into PostgreSQL in {time.perf_counter() - start:.1f} s")


def _insert(session, rows) -> int:
    """Insert the generated calls: COPY on PostgreSQL (much faster at 10 million), else INSERTs."""
    if session.get_bind().dialect.name != "postgresql":
        return insert_calls(session, rows, batch=INSERT_BATCH)
    cursor = session.connection().connection.driver_connection.cursor()
    inserted = 0
    with cursor.copy(f"COPY calls ({', '.join(COPIED_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row.get(name) for name in COPIED_COLUMNS])
            inserted += 1
    return inserted


def bring_up_to_date(url: str) -> None:
    """Migrate kept data to the current schema; refill roll-ups a migration emptied."""
    upgrade_database(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        start = time.perf_counter()
        if counted := rebuild_rollup_if_empty(session):
            print(f"rolled up {counted:,} calls in {time.perf_counter() - start:.1f} s")
        session.commit()
    engine.dispose()


def supervisor_token(url: str) -> str:
    """A fresh API token of the bench's supervisor."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        user = session.scalars(select(User).where(User.username == SUPERVISOR)).one()
        token = issue_api_token(session=session, user=user, name="bench")
        session.commit()
    engine.dispose()
    return token

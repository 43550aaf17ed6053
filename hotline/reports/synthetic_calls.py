"""Fictitious finished calls with realistic after-hours patterns, for the demo and the bench."""

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hotline.calls.models import Call, CallState, Outcome
from hotline.calls.reasons import CONTACT_REASONS
from hotline.kit.dates import COPENHAGEN
from hotline.municipalities.demo_lines import demo_dialled_number
from hotline.municipalities.models import Municipality
from hotline.reports.rollup import rebuild_rollup

DEMO_PREFIX = "DH-DEMO-"
# Relative call volume by Danish local hour: evenings busiest, nights quiet.
HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4, 5, 7, 10, 12, 12, 10, 8, 6, 4, 3)
WEEKEND_FACTOR = 1.6
AVOIDABLE_SHARE = 0.22
ABANDONED_SHARE = 0.05
# Taken outside Hotline by the phone system (a third of them forwarded before an answer), lost
# while waiting, and agents' calls out to citizens (a quarter of which nobody picks up).
ANSWERED_ELSEWHERE_SHARE = 0.03
LOST_SHARE = 0.005
OUTGOING_SHARE = 0.04
OUTGOING_UNANSWERED_SHARE = 0.25
OUTCOMES = [o.value for o in Outcome]
# Fictitious notes an agent might write, some with the caller's number or a CPR number.
NOTES = (
    "Borger ringede fra {phone} om MitID; CPR {cpr} oplyst, henvist til borger.dk.",
    "Spørgsmål om pasfornyelse, tid bestilt.",
    "Ønsker opringning i morgen på {phone}.",
)
NOTE_SHARE = 0.4
UNKNOWN_SHARE = 0.001
NOT_CHOSEN_SHARE = 0.03
ELSEWHERE_SHARE = 0.08
FICTITIOUS_CPR = "010190-1234"


def synthetic_calls(
    rng: random.Random,
    codes: Sequence[str],
    first: date,
    last: date,
    calls_per_day: float,
    *,
    prefix: str = DEMO_PREFIX,
    until: datetime | None = None,
    personal: bool = False,
) -> Iterator[dict]:
    """Rows for the calls table, day by day from first to last (Danish dates), before `until`.

    Each day's calls come in the order they were offered. `personal` adds fictitious caller and
    dialled numbers and notes (some with a phone or CPR number), which no report may show.
    """
    weights = [rng.uniform(0.3, 3.0) for _ in codes]  # some municipalities call far more
    reasons = [code for code, _, _ in CONTACT_REASONS]
    reason_weights = [1 / (i + 1) for i in range(len(reasons))]
    n, day = 0, first
    while day <= last:
        factor = WEEKEND_FACTOR if day.weekday() >= 5 else 1.0
        count = max(0, round(rng.gauss(calls_per_day * factor, calls_per_day * factor * 0.1)))
        hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
        starts = [datetime.combine(day, time(hour), COPENHAGEN) for hour in hours]
        offered = sorted(
            (s + timedelta(seconds=rng.randrange(3600))).astimezone(UTC) for s in starts
        )
        for at, code in zip(offered, rng.choices(codes, weights=weights, k=count), strict=True):
            if until is not None and at >= until - timedelta(hours=2):
                continue
            n += 1
            row = _call_row(rng, f"{prefix}{n:07d}", code, at, reasons, reason_weights)
            row |= _billed(rng, codes)
            yield (row | _personal_fields(rng, row)) if personal else row
        day += timedelta(days=1)


def _billed(rng: random.Random, codes: Sequence[str]) -> dict:
    """Most callers live where their line is; some live elsewhere, a few are never placed."""
    draw = rng.random()
    if draw < UNKNOWN_SHARE:  # no municipality at all: billed as "Ukendt kommune"
        return {"municipality_code": None, "line_municipality_code": None}
    if draw < UNKNOWN_SHARE + NOT_CHOSEN_SHARE:  # billed to the line's municipality
        return {"municipality_code": None}
    if draw < UNKNOWN_SHARE + NOT_CHOSEN_SHARE + ELSEWHERE_SHARE:
        return {"municipality_code": rng.choice(codes)}
    return {}


def calls_per_day_for(total: int, first: date, last: date) -> float:
    """The calls_per_day for which synthetic_calls gives about `total` calls from first to last."""
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return total / sum(WEEKEND_FACTOR if day.weekday() >= 5 else 1.0 for day in days)


def _call_row(rng, reference, code, offered, reasons, reason_weights) -> dict:
    row = {
        "reference": reference,
        "direction": "in",
        "line_municipality_code": code,
        "municipality_code": code,
        "offered_at": offered,
        "notes": "",
        "avoidable": False,
    }
    wait = timedelta(seconds=int(rng.expovariate(1 / 45)))
    draw = rng.random()
    if draw < ABANDONED_SHARE:
        return {**row, "state": CallState.ABANDONED.value, "ended_at": offered + wait}
    if draw < ABANDONED_SHARE + ANSWERED_ELSEWHERE_SHARE + LOST_SHARE + OUTGOING_SHARE:
        return row | _unanswered(rng, draw - ABANDONED_SHARE, offered, wait)
    answered = offered + wait
    ended = answered + timedelta(seconds=int(rng.lognormvariate(5.3, 0.6)))
    avoidable = rng.random() < AVOIDABLE_SHARE
    return {
        **row,
        "state": CallState.DONE.value,
        "answered_at": answered,
        "ended_at": ended,
        "wrapped_up_at": ended + timedelta(seconds=int(rng.expovariate(1 / 50))),
        "contact_reason_code": rng.choices(reasons, weights=reason_weights)[0],
        "outcome": rng.choice(OUTCOMES),
        "avoidable": avoidable,
        "avoidable_url": "https://www.borger.dk/" if avoidable else None,
    }


def _unanswered(rng: random.Random, draw: float, offered: datetime, wait: timedelta) -> dict:
    """A call no agent answered: taken elsewhere, lost, or (draw highest) an outgoing call."""
    if draw < ANSWERED_ELSEWHERE_SHARE:
        if draw < ANSWERED_ELSEWHERE_SHARE / 3:
            return {
                "state": CallState.ELSEWHERE.value,
                "end_cause": "forwarded",
                "ended_at": offered + wait,
            }
        answered = offered + wait
        talk = timedelta(seconds=int(rng.lognormvariate(5.0, 0.6)))
        return {
            "state": CallState.ELSEWHERE.value,
            "answered_at": answered,
            "ended_at": answered + talk,
        }
    if draw < ANSWERED_ELSEWHERE_SHARE + LOST_SHARE:
        # Closed by the sweep some minutes after the phone system went silent.
        silent = timedelta(minutes=rng.randint(5, 30))
        return {"state": CallState.LOST.value, "end_cause": "lost", "ended_at": offered + silent}
    ring = timedelta(seconds=rng.randint(5, 30))
    row = {"state": CallState.OUTGOING.value, "direction": "out"}
    if rng.random() < OUTGOING_UNANSWERED_SHARE:
        return row | {"end_cause": "noAnswer", "ended_at": offered + ring}
    talk = timedelta(seconds=int(rng.lognormvariate(5.0, 0.5)))
    return row | {"answered_at": offered + ring, "ended_at": offered + ring + talk}


def _personal_fields(rng: random.Random, row: dict) -> dict:
    phone = f"+45{rng.randrange(20_000_000, 100_000_000)}"
    answered = row["state"] == CallState.DONE.value
    note = rng.choice(NOTES) if answered and rng.random() < NOTE_SHARE else ""
    line = demo_dialled_number(row["line_municipality_code"])
    outgoing = row["direction"] == "out"  # an agent called the citizen from the hotline's line
    return {
        "from_number": line if outgoing else phone,
        "to_number": phone if outgoing else line,
        "notes": note.format(phone=phone, cpr=FICTITIOUS_CPR),
    }


def insert_calls(session: Session, rows: Iterator[dict], batch: int = 5000) -> int:
    """Insert rows in batches with plain INSERTs; the roll-up must be rebuilt afterwards."""
    # The ORM's flush listener does not see Core inserts, hence rebuild_rollup() after.
    columns = ("answered_at", "wrapped_up_at", "contact_reason_code", "outcome", "avoidable_url")
    columns += ("end_cause",)
    total, chunk = 0, []
    for row in rows:
        chunk.append({name: None for name in columns} | row)
        if len(chunk) == batch:
            session.execute(insert(Call), chunk)
            total, chunk = total + len(chunk), []
    if chunk:
        session.execute(insert(Call), chunk)
        total += len(chunk)
    return total


def add_demo_call_history(session: Session, *, today: date | None = None) -> int:
    """Three months and this month of fictitious calls for the demo; none if already there."""
    if session.scalar(select(Call.id).where(Call.reference.startswith(DEMO_PREFIX)).limit(1)):
        return 0
    codes = list(session.scalars(select(Municipality.code).where(Municipality.participating)))
    if not codes:
        return 0
    now = datetime.now(UTC)
    today = today or now.astimezone(COPENHAGEN).date()
    first = (today.replace(day=1) - timedelta(days=80)).replace(day=1)
    rows = synthetic_calls(random.Random(2026), codes, first, today, 120, until=now)
    added = insert_calls(session, rows)
    rebuild_rollup(session)
    return added

"""The call-detail export: one CSV row per call, no caller numbers or notes, in constant memory.

Rows are read in batches from a cursor that steps through the result, and each batch is encoded
on its own, so years of calls never sit in memory. What is fastest differs by database (measured
in bench/reports.py): PostgreSQL computes every cell and writes the CSV itself (COPY ... TO
STDOUT, in its own process); on SQLite the rows come from the driver's cursor, with durations
from the very function behind the Call model's properties (SQLAlchemy's rows would cost more than
the rest of the export).
"""

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement, Select

from hotline.calls.models import Call, CallState, ContactReason
from hotline.kit.cpr import MASK, POSTGRES_MASK_PATTERN
from hotline.kit.dates import COPENHAGEN
from hotline.municipalities.models import Municipality
from hotline.reports.call_detail_cells import BatchEncoder, outcome_labels, state_labels, text_cell
from hotline.reports.export import EXCEL_DA, FILE_SUFFIXES
from hotline.reports.facts import UNANSWERED_STATES
from hotline.reports.filters import BILLED_CODE, ReportFilters, calls_of
from hotline.reports.service import UNKNOWN_NAME

BATCH_ROWS = 5_000
HEADER = (
    "reference",
    "tidspunkt",
    "status",
    "kommunekode",
    "kommune",
    "ventetid_sek",
    "samtaletid_sek",
    "efterbehandling_sek",
    "kontaktaarsag_kode",
    "kontaktaarsag",
    "udfald",
    "undgaaelig",
    "undgaaelig_url",
)
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # as export.safe_text
# Counted as the report counts it: a call no agent answered (abandoned, answered elsewhere, lost,
# outgoing) has no wait or after-call work and is never avoidable; an outgoing call's talk time is
# its own (the report's outgoing minutes).
_ANSWERED = and_(Call.state.not_in(UNANSWERED_STATES), Call.answered_at.is_not(None))
_TALKED = or_(_ANSWERED, Call.state == CallState.OUTGOING)
_AVOIDABLE = case((and_(_ANSWERED, Call.avoidable), literal("ja")), else_=literal("nej"))


def call_detail_filename(filters: ReportFilters, dialect: str = EXCEL_DA) -> str:
    """The download's file name, with the period and the dialect."""
    period = f"{filters.start.isoformat()}_{filters.end.isoformat()}"
    return f"opkald_{period}{FILE_SUFFIXES[dialect]}.csv"


def call_detail_csv(
    sessions: sessionmaker[Session],
    filters: ReportFilters,
    dialect: str = EXCEL_DA,
    *,
    part: tuple[datetime | None, datetime | None] = (None, None),
) -> Iterator[bytes]:
    """The export as chunks of bytes: the header first, then one chunk per batch of calls.

    part (UTC, the end excluded) narrows it to the calls offered in that slice of the period,
    with the header only in the slice that starts with the period: consecutive slices' bytes,
    joined, are the whole export's. The generator holds its own session (and so its transaction)
    until it is exhausted or closed: a request's session ends before the response body is sent.
    """
    delimiter = ";" if dialect == EXCEL_DA else ","
    with sessions() as session:
        connection = session.connection()
        header = delimiter.join(HEADER) + "\r\n"
        if part[0] is None:
            yield ((BOM + header) if dialect == EXCEL_DA else header).encode("utf-8")
        if connection.dialect.name == "postgresql":
            yield from _postgres_batches(connection, filters, delimiter, part)
        else:
            yield from _encoded_batches(connection, filters, delimiter, part)


def _calls_in(filters: ReportFilters, part: tuple[datetime | None, datetime | None]):
    """The filters' calls, offered in the slice."""
    since, until = part
    condition = calls_of(filters)
    if since is not None:
        condition &= Call.offered_at >= since
    if until is not None:
        condition &= Call.offered_at < until
    return condition


def _literal_sql(query: Select, connection: Connection) -> str:
    # The only values are dates, codes checked against ^\d{4}$ (filters.py) and the labels of
    # our own text catalogue: safe literals.
    return str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))


def _postgres_batches(
    connection: Connection, filters: ReportFilters, delimiter: str, part
) -> Iterator[bytes]:
    """PostgreSQL's own CSV of the computed cells, BATCH_ROWS lines a chunk."""
    sql = _literal_sql(_postgres_query(filters, part), connection)
    connection.exec_driver_sql("SET LOCAL DateStyle = 'ISO'")
    connection.exec_driver_sql(f"SET LOCAL TimeZone = '{COPENHAGEN.key}'")
    copy = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(copy) as rows:
        # Each line is copied into one buffer at once: psycopg gives it as a memoryview, which
        # the garbage collector tracks, and 5,000 of them kept alive set off its full sweeps of
        # the whole heap (over half the export's CPU).
        batch, lines = bytearray(), 0
        for row in rows:  # one line each
            batch += row
            lines += 1
            if lines == BATCH_ROWS:
                yield bytes(batch).replace(b"\n", b"\r\n")
                batch, lines = bytearray(), 0
        if lines:
            yield bytes(batch).replace(b"\n", b"\r\n")


def _postgres_query(filters: ReportFilters, part) -> Select:
    """Every cell of the export, computed by PostgreSQL."""
    # Free text: a CPR number in it is masked here too (hotline.kit.cpr.mask_cpr). Only a URL
    # with six digits in a row can hold one: the others skip the costly pattern.
    masked = func.regexp_replace(Call.avoidable_url, POSTGRES_MASK_PATTERN, MASK, "g")
    url = case((Call.avoidable_url.regexp_match("[0-9]{6}"), masked), else_=Call.avoidable_url)
    return (
        select(
            Call.reference,
            _local_time(Call.offered_at),
            _label(Call.state, state_labels()),
            func.coalesce(BILLED_CODE, ""),
            func.coalesce(Municipality.name, UNKNOWN_NAME),
            case((_ANSWERED, _whole_seconds(Call.offered_at, Call.answered_at))),
            case((_TALKED, _whole_seconds(Call.answered_at, Call.ended_at))),
            case((_ANSWERED, _whole_seconds(Call.ended_at, Call.wrapped_up_at))),
            Call.contact_reason_code,
            _defused(ContactReason.label),
            _label(Call.outcome, outcome_labels()),
            _AVOIDABLE,
            _defused(url),
        )
        .outerjoin(Municipality, Municipality.code == BILLED_CODE)
        .outerjoin(ContactReason, ContactReason.code == Call.contact_reason_code)
        .where(_calls_in(filters, part))
        .order_by(Call.offered_at, Call.id)
    )


def _local_time(column) -> ColumnElement[str]:
    """A time as Danish local time to the second, "2026-11-10T19:00:00", in SQL."""
    # A timestamp's own text output costs a third of to_char's; its form is fixed by DateStyle,
    # and the cast to a timestamp without zone is local by TimeZone: the export sets both in its
    # transaction (naming the zone in every row cost a sixth of the export's time).
    local = func.date_trunc("second", cast(column, DateTime(timezone=False)))
    return func.replace(cast(local, String), " ", "T")


def _label(column, labels: dict[str, str]) -> ColumnElement[str]:
    """A code column as its Danish label, in SQL (a code without a label as itself)."""
    whens = [(column == code, literal(label)) for code, label in labels.items()]
    return case(*whens, else_=cast(column, String))


def _defused(text) -> ColumnElement[str]:
    """Free text a spreadsheet shows as text, in SQL (as export.safe_text)."""
    return case((func.left(text, 1).in_(_FORMULA_START), literal("'") + text), else_=text)


def _whole_seconds(start, end) -> ColumnElement[int]:
    """seconds_between in SQL: whole seconds, a half to the even one (as Python's round), >= 0."""
    # round() of a double is C's rint(): a half goes to the even one, as in Python. A span's
    # seconds as a double are exact at every half second of a span under 285 years.
    seconds = cast(func.greatest(0, func.round(func.date_part("epoch", end - start))), BigInteger)
    return case((and_(start.is_not(None), end.is_not(None)), seconds))  # greatest skips NULL


def _encoded_batches(
    connection: Connection, filters: ReportFilters, delimiter: str, part
) -> Iterator[bytes]:
    """SQLite's rows through the driver's cursor, encoded BATCH_ROWS at a time."""
    names = {"": UNKNOWN_NAME} | {
        code: text_cell(name, delimiter)
        for code, name in connection.execute(select(Municipality.code, Municipality.name))
    }
    query = select(
        Call.reference,
        type_coerce(Call.offered_at, String),  # stored as UTC text "YYYY-MM-DD HH:MM:SS.ffffff"
        Call.state,
        func.coalesce(BILLED_CODE, ""),
        type_coerce(Call.answered_at, String),
        type_coerce(Call.ended_at, String),
        type_coerce(Call.wrapped_up_at, String),
        Call.contact_reason_code,
        Call.outcome,
        _AVOIDABLE,
        Call.avoidable_url,
    )
    query = query.where(_calls_in(filters, part)).order_by(Call.offered_at, Call.id)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(_literal_sql(query, connection))  # SQLite steps as rows are fetched
        reasons = connection.execute(select(ContactReason.code, ContactReason.label)).all()
        encoder = BatchEncoder(names, dict(reasons), delimiter)
        while rows := cursor.fetchmany(BATCH_ROWS):
            yield encoder.encode(rows)
    finally:
        cursor.close()

"""The call-detail export: one CSV row per call, no caller numbers or notes, in constant memory.

Rows are read in batches from a cursor that steps through the result, and each batch is encoded
on its own, so years of calls never sit in memory. What is fastest differs by database (measured
in bench/reports.py): PostgreSQL computes every cell and writes the CSV itself (COPY ... TO
STDOUT, in its own process); on SQLite the rows come from the driver's cursor, with durations
from the very function behind the Call model's properties (SQLAlchemy's rows would cost more than
the rest of the export).
"""

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Integer,
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

from hotline.calls.models import Call, CallState, ContactReason, Outcome, seconds_between
from hotline.i18n import t
from hotline.kit.cpr import MASK, POSTGRES_MASK_PATTERN, mask_cpr
from hotline.kit.dates import COPENHAGEN
from hotline.municipalities.models import Municipality
from hotline.reports.export import EXCEL_DA, FILE_SUFFIXES, safe_text
from hotline.reports.facts import UNANSWERED_STATES
from hotline.reports.filters import BILLED_CODE, ReportFilters, calls_of
from hotline.reports.service import UNKNOWN_NAME

BATCH_ROWS = 5_000
URL_CELLS = 10_000
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
_NEEDS_QUOTES = ('"', "\r", "\n")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # as export.safe_text
# Counted as the report counts it: a call no agent answered (abandoned, answered elsewhere, lost,
# outgoing) has no wait or after-call work and is never avoidable; an outgoing call's talk time is
# its own (the report's outgoing minutes).
_ANSWERED = and_(Call.state.not_in(UNANSWERED_STATES), Call.answered_at.is_not(None))
_TALKED = or_(_ANSWERED, Call.state == CallState.OUTGOING)
_UNANSWERED = frozenset(state.value for state in UNANSWERED_STATES)
_AVOIDABLE = case((and_(_ANSWERED, Call.avoidable), literal("ja")), else_=literal("nej"))


def call_detail_filename(filters: ReportFilters, dialect: str = EXCEL_DA) -> str:
    """The download's file name, with the period and the dialect."""
    period = f"{filters.start.isoformat()}_{filters.end.isoformat()}"
    return f"opkald_{period}{FILE_SUFFIXES[dialect]}.csv"


def state_labels() -> dict[str, str]:
    """Each call state's Danish label, as the pages show it."""
    return {state.value: t(f"calls.state.{state.value}") for state in CallState}


def outcome_labels() -> dict[str, str]:
    """Each outcome's Danish label, as the pages show it."""
    return {outcome.value: t(f"calls.outcome.{outcome.value}") for outcome in Outcome}


def call_detail_csv(
    sessions: sessionmaker[Session], filters: ReportFilters, dialect: str = EXCEL_DA
) -> Iterator[bytes]:
    """The export as chunks of bytes: the header first, then one chunk per batch of calls.

    The generator holds its own session (and so its transaction) until it is exhausted or closed:
    a request's session ends before the response body is sent.
    """
    delimiter = ";" if dialect == EXCEL_DA else ","
    with sessions() as session:
        connection = session.connection()
        header = delimiter.join(HEADER) + "\r\n"
        yield ((BOM + header) if dialect == EXCEL_DA else header).encode("utf-8")
        if connection.dialect.name == "postgresql":
            yield from _postgres_batches(connection, filters, delimiter)
        else:
            yield from _encoded_batches(connection, filters, delimiter)


def _literal_sql(query: Select, connection: Connection) -> str:
    # The only values are dates, codes checked against ^\d{4}$ (filters.py) and the labels of
    # our own text catalogue: safe literals.
    return str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))


def _postgres_batches(
    connection: Connection, filters: ReportFilters, delimiter: str
) -> Iterator[bytes]:
    """PostgreSQL's own CSV of the computed cells, BATCH_ROWS lines a chunk."""
    sql = _literal_sql(_postgres_query(filters), connection)
    copy = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(copy) as rows:
        batch = []
        for row in rows:  # one line each
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                yield b"".join(batch).replace(b"\n", b"\r\n")
                batch = []
        if batch:
            yield b"".join(batch).replace(b"\n", b"\r\n")


def _postgres_query(filters: ReportFilters) -> Select:
    """Every cell of the export, computed by PostgreSQL."""
    # Free text: a CPR number in it is masked here too (hotline.kit.cpr.mask_cpr). Only a URL
    # with six digits in a row can hold one: the others skip the costly pattern.
    masked = func.regexp_replace(Call.avoidable_url, POSTGRES_MASK_PATTERN, MASK, "g")
    url = case((Call.avoidable_url.regexp_match("[0-9]{6}"), masked), else_=Call.avoidable_url)
    return (
        select(
            Call.reference,
            func.to_char(func.timezone(COPENHAGEN.key, Call.offered_at), 'YYYY-MM-DD"T"HH24:MI:SS'),
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
        .where(calls_of(filters))
        .order_by(Call.offered_at, Call.id)
    )


def _label(column, labels: dict[str, str]) -> ColumnElement[str]:
    """A code column as its Danish label, in SQL (a code without a label as itself)."""
    whens = [(column == code, literal(label)) for code, label in labels.items()]
    return case(*whens, else_=cast(column, String))


def _defused(text) -> ColumnElement[str]:
    """Free text a spreadsheet shows as text, in SQL (as export.safe_text)."""
    return case((func.left(text, 1).in_(_FORMULA_START), literal("'") + text), else_=text)


def _whole_seconds(start, end) -> ColumnElement[int]:
    """seconds_between in SQL: whole seconds, a half to the even one (as Python's round), >= 0."""
    # Microseconds as a double are exact for any span under 285 years.
    micro = cast(func.round(func.date_part("epoch", end - start) * 1_000_000), BigInteger)
    even_half = cast(func.mod(micro, 2_000_000) == 500_000, Integer)
    seconds = func.greatest(0, (micro + 500_000 - even_half) // 1_000_000)
    return case((and_(start.is_not(None), end.is_not(None)), seconds))  # greatest skips NULL


def _encoded_batches(
    connection: Connection, filters: ReportFilters, delimiter: str
) -> Iterator[bytes]:
    """SQLite's rows through the driver's cursor, encoded BATCH_ROWS at a time."""
    names = {"": UNKNOWN_NAME} | {
        code: _text_cell(name, delimiter)
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
    query = query.where(calls_of(filters)).order_by(Call.offered_at, Call.id)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(_literal_sql(query, connection))  # SQLite steps as rows are fetched
        reasons = connection.execute(select(ContactReason.code, ContactReason.label)).all()
        encoder = _BatchEncoder(names, dict(reasons), delimiter)
        while rows := cursor.fetchmany(BATCH_ROWS):
            yield encoder.encode(rows)
    finally:
        cursor.close()


class _BatchEncoder:
    """Rows of the SQLite query to CSV lines; keeps the last hour's local time between batches."""

    def __init__(self, names: dict[str, str], reasons: dict[str, str], delimiter: str) -> None:
        self.names, self.delimiter = names, delimiter
        # Code columns as their cells: the reason's code and label, the Danish state and outcome.
        self.reasons = {None: delimiter} | {
            code: f"{code}{delimiter}{_text_cell(label, delimiter)}"
            for code, label in reasons.items()
        }
        self.states = {code: _text_cell(label, delimiter) for code, label in state_labels().items()}
        self.outcomes = {None: ""} | {
            code: _text_cell(label, delimiter) for code, label in outcome_labels().items()
        }
        self.utc_hour, self.local_hour = "", ""
        self.url_cells: dict[str, str] = {}  # the same few pages are named again and again

    def url_cell(self, url: str) -> str:
        """The avoidable-URL cell, made once per distinct URL (at most URL_CELLS kept)."""
        cell = self.url_cells.get(url)
        if cell is None:
            if len(self.url_cells) >= URL_CELLS:
                self.url_cells.clear()
            cell = self.url_cells[url] = _text_cell(url, self.delimiter)
        return cell

    def encode(self, rows: list[tuple]) -> bytes:
        """One batch as UTF-8 CSV lines."""
        d, names, parse = self.delimiter, self.names, datetime.fromisoformat
        unanswered, outgoing = _UNANSWERED, CallState.OUTGOING.value
        states, reasons, outcomes = self.states, self.reasons, self.outcomes
        lines = []
        for (
            reference, offered, state, code, answered, ended, wrapped, reason, outcome,
            avoidable, url,
        ) in rows:  # fmt: skip
            if offered[:13] != self.utc_hour:  # rows come in time order: a new hour
                self.utc_hour, self.local_hour = offered[:13], _local_hour(offered[:13])
            wait = talk = after_call = ""
            # seconds_between, written out: a function call per cell costs a tenth of the export.
            if answered is not None and state not in unanswered:
                picked_up = parse(answered)
                wait = max(0, round((picked_up - parse(offered)).total_seconds()))
                if ended is not None:
                    hung_up = parse(ended)
                    talk = max(0, round((hung_up - picked_up).total_seconds()))
                    if wrapped is not None:
                        after_call = max(0, round((parse(wrapped) - hung_up).total_seconds()))
            elif state == outgoing and answered is not None and ended is not None:
                talk = seconds_between(parse(answered), parse(ended))
            lines.append(
                f"{reference}{d}{self.local_hour}{offered[13:19]}{d}{states.get(state, state)}{d}"
                f"{code}{d}{names.get(code, '')}{d}{wait}{d}{talk}{d}{after_call}{d}"
                f"{reasons.get(reason) or f'{reason}{d}'}{d}{outcomes.get(outcome, outcome)}{d}"
                f"{avoidable}{d}{self.url_cell(url) if url else ''}\r\n"
            )
        return "".join(lines).encode("utf-8")


def _local_hour(utc_hour: str) -> str:
    """An hour "YYYY-MM-DD HH" in UTC as "YYYY-MM-DDTHH" in Danish time (whole-hour offsets)."""
    moment = datetime.fromisoformat(f"{utc_hour}:00").replace(tzinfo=UTC)
    return moment.astimezone(COPENHAGEN).strftime("%Y-%m-%dT%H")


def _text_cell(value: str, delimiter: str) -> str:
    """A free-text cell: no formula, CPR numbers masked, quoted when it needs to be."""
    value = safe_text(mask_cpr(value))
    if delimiter in value or any(char in value for char in _NEEDS_QUOTES):
        return '"' + value.replace('"', '""') + '"'
    return value

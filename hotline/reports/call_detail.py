"""The call-detail export: one CSV row per call, no caller numbers or notes, in constant memory.

The rows are read with a server-side cursor in batches and each batch is encoded to bytes on its
own, so a year of calls never sits in memory. The cursor is the driver's own: SQLAlchemy's rows
cost more than the whole rest of the export (measured in bench/reports.py), so the query is built
with SQLAlchemy and run on the DBAPI cursor. Timestamps are read as UTC text and durations come
from the very function behind the Call model's properties, so every dialect gives the same cells.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import String, and_, case, func, literal, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement, Select

from hotline.calls.models import Call, CallState, seconds_between
from hotline.kit.dates import COPENHAGEN
from hotline.municipalities.models import Municipality
from hotline.reports.export import EXCEL_DA, safe_text
from hotline.reports.filters import ReportFilters
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
    "kontaktaarsag",
    "udfald",
    "undgaaelig",
    "undgaaelig_url",
)
BOM = "\ufeff"
_NEEDS_QUOTES = ('"', "\r", "\n")


def call_detail_filename(filters: ReportFilters) -> str:
    """The download's file name, with the period."""
    return f"opkald_{filters.start.isoformat()}_{filters.end.isoformat()}.csv"


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
        names = {"": UNKNOWN_NAME} | {
            code: _text_cell(name, delimiter)
            for code, name in session.execute(select(Municipality.code, Municipality.name))
        }
        header = delimiter.join(HEADER) + "\r\n"
        yield ((BOM + header) if dialect == EXCEL_DA else header).encode("utf-8")
        cursor = _server_side_cursor(connection, call_detail_query(filters, connection))
        try:
            encoder = _BatchEncoder(names, delimiter)
            while rows := cursor.fetchmany(BATCH_ROWS):
                yield encoder.encode(rows)
        finally:
            cursor.close()


def call_detail_query(filters: ReportFilters, connection: Connection) -> Select:
    """The calls of the period in offered order, as the plain columns the encoder reads."""
    billed = func.coalesce(Call.municipality_code, Call.line_municipality_code)
    answered = and_(Call.state != CallState.ABANDONED, Call.answered_at.is_not(None))
    dialect = connection.dialect.name
    query = select(
        Call.reference,
        _utc_text(Call.offered_at, dialect),
        Call.state,
        func.coalesce(Call.municipality_code, Call.line_municipality_code, ""),
        _utc_text(Call.answered_at, dialect),
        _utc_text(Call.ended_at, dialect),
        _utc_text(Call.wrapped_up_at, dialect),
        Call.contact_reason_code,
        Call.outcome,
        # Counted as the report counts it: only an answered call can be an avoidable contact.
        case((and_(answered, Call.avoidable), literal("ja")), else_=literal("nej")),
        Call.avoidable_url,
    ).where(
        Call.offered_at >= _utc_midnight(filters.start),
        Call.offered_at < _utc_midnight(filters.end + timedelta(days=1)),
    )
    if filters.municipalities:
        query = query.where(billed.in_(filters.municipalities))
    if filters.region:
        in_region = select(Municipality.code).where(Municipality.region_code == filters.region)
        query = query.where(billed.in_(in_region.scalar_subquery()))
    return query.order_by(Call.offered_at, Call.id)


def _utc_text(column, dialect: str) -> ColumnElement[str]:
    """A timestamp as UTC text "YYYY-MM-DD HH:MM:SS.ffffff" (SQLite stores it so)."""
    if dialect == "postgresql":
        return func.to_char(column.op("AT TIME ZONE")(literal("UTC")), "YYYY-MM-DD HH24:MI:SS.US")
    return type_coerce(column, String)


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), COPENHAGEN).astimezone(UTC)


def _server_side_cursor(connection: Connection, query: Select):
    """The driver's cursor over the query; on PostgreSQL a named (server-side) one."""
    # The parameters are dates, and codes checked against ^\d{4}$ (filters.py): safe as literals.
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor(name="call_detail_export")
        cursor.itersize = BATCH_ROWS
    else:  # SQLite steps through the result as it is fetched
        cursor = driver.cursor()
    cursor.execute(sql)
    return cursor


class _BatchEncoder:
    """Rows of the query to CSV lines; keeps the last hour's local time between batches."""

    def __init__(self, names: dict[str, str], delimiter: str) -> None:
        self.names, self.delimiter = names, delimiter
        self.utc_hour, self.local_hour = "", ""

    def encode(self, rows: list[tuple]) -> bytes:
        """One batch as UTF-8 CSV lines."""
        d, names, parse, abandoned = self.delimiter, self.names, datetime.fromisoformat, "abandoned"
        lines = []
        for (
            reference, offered, state, code, answered, ended, wrapped, reason, outcome,
            avoidable, url,
        ) in rows:  # fmt: skip
            if offered[:13] != self.utc_hour:  # rows come in time order: a new hour
                self.utc_hour, self.local_hour = offered[:13], _local_hour(offered[:13])
            wait = talk = after_call = ""
            if answered is not None and state != abandoned:
                start, picked_up = parse(offered), parse(answered)
                wait = seconds_between(start, picked_up)
                if ended is not None:
                    hung_up = parse(ended)
                    talk = seconds_between(picked_up, hung_up)
                    if wrapped is not None:
                        after_call = seconds_between(hung_up, parse(wrapped))
            lines.append(
                f"{reference}{d}{self.local_hour}{offered[13:19]}{d}{state}{d}{code}{d}"
                f"{names.get(code, '')}{d}{wait}{d}{talk}{d}{after_call}{d}{reason or ''}{d}"
                f"{outcome or ''}{d}{avoidable}{d}{_text_cell(url, d) if url else ''}\r\n"
            )
        return "".join(lines).encode("utf-8")


def _local_hour(utc_hour: str) -> str:
    """An hour "YYYY-MM-DD HH" in UTC as "YYYY-MM-DDTHH" in Danish time (whole-hour offsets)."""
    moment = datetime.fromisoformat(f"{utc_hour}:00").replace(tzinfo=UTC)
    return moment.astimezone(COPENHAGEN).strftime("%Y-%m-%dT%H")


def _text_cell(value: str, delimiter: str) -> str:
    """A free-text cell: no formula, and quoted when it holds a delimiter, quote or line break."""
    value = safe_text(value)
    if delimiter in value or any(char in value for char in _NEEDS_QUOTES):
        return '"' + value.replace('"', '""') + '"'
    return value

"""Searching the audit log, a page at a time or streamed whole for an export."""

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.audit.actions import action_label, actions_matching, subject_label
from hotline.audit.models import AuditEntry
from hotline.kit.dates import COPENHAGEN
from hotline.kit.errors import InvalidInput
from hotline.reports.export import safe_text
from hotline.reports.period import utc_midnight

PAGE_SIZE = 50
EXPORT_BATCH = 1000
MAX_TEXT = 100
# Readable Danish labels for people, the codes beside them for programs.
CSV_HEADER = ("id", "tidspunkt", "bruger", "handling", "handling_kode", "type", "type_kode",
              "id_paa_objekt", "kommunekode", "foer", "efter")  # fmt: skip


@dataclass(frozen=True)
class AuditQuery:
    """What to look for: a period (Danish dates), who, what, which municipality, free text."""

    start: date | None = None
    end: date | None = None
    actor: str = ""
    entity_type: str = ""
    municipality: str = ""
    text: str = ""
    action: str = ""

    @property
    def params(self) -> list[tuple[str, str]]:
        """The query as URL parameters (for the next page and the export link)."""
        pairs = [
            ("from", self.start.isoformat() if self.start else ""),
            ("to", self.end.isoformat() if self.end else ""),
            ("actor", self.actor),
            ("type", self.entity_type),
            ("municipality", self.municipality),
            ("q", self.text),
            ("action", self.action),
        ]
        return [(k, v) for k, v in pairs if v]


def audit_query(
    start: str = "", end: str = "", actor: str = "", entity_type: str = "",
    municipality: str = "", text: str = "", action: str = "",
) -> AuditQuery:  # fmt: skip
    """A checked query from raw strings; a bad date or code is refused with a clear message."""
    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise InvalidInput("reports.bad_date") from exc
    if first and last and first > last:
        raise InvalidInput("reports.period_reversed")
    municipality = municipality.strip()
    if municipality and not re.fullmatch(r"\d{4}", municipality):
        raise InvalidInput("reports.bad_municipality", code=municipality[:10])
    return AuditQuery(
        first, last, actor.strip()[:64], entity_type.strip()[:64], municipality,
        text.strip()[:MAX_TEXT], action.strip()[:64],
    )  # fmt: skip


def _select(query: AuditQuery) -> Select:
    statement = select(AuditEntry)
    if query.start:
        statement = statement.where(AuditEntry.at >= utc_midnight(query.start))
    if query.end:
        statement = statement.where(AuditEntry.at < utc_midnight(query.end + timedelta(days=1)))
    if query.actor:
        statement = statement.where(func.lower(AuditEntry.actor_name) == query.actor.lower())
    if query.entity_type:
        statement = statement.where(AuditEntry.entity_type == query.entity_type)
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.municipality:
        statement = statement.where(AuditEntry.municipality_code == query.municipality)
    if query.text:
        like = f"%{_escape_like(query.text.lower())}%"
        # The code or the Danish label of the action, or the thing's id.
        statement = statement.where(
            or_(
                func.lower(AuditEntry.action).like(like, escape="\\"),
                AuditEntry.action.in_(actions_matching(query.text)),
                func.lower(AuditEntry.entity_id).like(like, escape="\\"),
            )
        )
    return statement


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_audit(
    *, session: Session, query: AuditQuery, before_id: int | None = None
) -> tuple[list[AuditEntry], int | None]:
    """The newest entries matching the query (before an id), and the id to continue before."""
    statement = _select(query)
    if before_id is not None:
        statement = statement.where(AuditEntry.id < before_id)
    entries = list(session.scalars(statement.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1)))
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return entries, (entries[-1].id if more else None)


def entity_types(session: Session) -> list[str]:
    """The kinds of things the log has entries about, for the filter's choices."""
    kinds = select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)
    return list(session.scalars(kinds))


def actions(session: Session) -> list[str]:
    """The actions the log has entries of, for the filter's choices."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def changed_keys(entry: AuditEntry) -> list[str]:
    """The fields whose value differs between before and after."""
    before, after = entry.before or {}, entry.after or {}
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def audit_csv(sessions: sessionmaker[Session], query: AuditQuery) -> Iterator[bytes]:
    """The matching entries, oldest first, as CSV for Danish Excel, a batch at a time.

    The generator holds its own session: a request's session ends before a streamed body is sent.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield ("\ufeff" + _take(buffer)).encode("utf-8")
    statement = _select(query).order_by(AuditEntry.id)
    with sessions() as session:
        for entry in session.scalars(statement.execution_options(yield_per=EXPORT_BATCH)):
            writer.writerow(
                [
                    entry.id,
                    entry.at.astimezone(COPENHAGEN).strftime("%Y-%m-%dT%H:%M:%S"),
                    safe_text(entry.actor_name),
                    action_label(entry.action),
                    entry.action,
                    subject_label(entry.entity_type),
                    entry.entity_type,
                    safe_text(entry.entity_id),
                    entry.municipality_code or "",
                    _json(entry.before),
                    _json(entry.after),
                ]
            )
            if buffer.tell() > 64_000:
                yield _take(buffer).encode("utf-8")
    yield _take(buffer).encode("utf-8")


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value is not None else ""

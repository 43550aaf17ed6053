"""JSON API of the audit log: search it, and export it as CSV (supervisors and system admins)."""

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from hotline.audit.actions import action_label, subject_label
from hotline.audit.search import AuditQuery, audit_csv, audit_query, changed_keys, search_audit
from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session
from hotline.kit.streaming import streaming_download

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["audit"])
audit_readers = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)


def query_params(
    start: str = Query("", alias="from", max_length=10),
    end: str = Query("", alias="to", max_length=10),
    actor: str = Query("", max_length=64),
    entity_type: str = Query("", alias="type", max_length=64),
    municipality: str = Query("", max_length=4),
    text: str = Query("", alias="q", max_length=100),
    action: str = Query("", max_length=64),
) -> AuditQuery:
    """The search's filters: ?from=…&to=…&actor=…&type=…&municipality=…&q=…&action=…"""
    return audit_query(start, end, actor, entity_type, municipality, text, action)


@router.get("/audit/entries")
def list_entries(
    user: User = Depends(audit_readers),
    query: AuditQuery = Depends(query_params),
    before: int | None = Query(None, ge=1),
    session: Session = request_session,
):
    """The newest matching entries, 50 at a time; pass next_before as ?before= for more."""
    entries, next_before = search_audit(session=session, query=query, before_id=before)
    return {
        "entries": [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor_name,
                "action": e.action,
                "action_label": action_label(e.action),
                "entity_type": e.entity_type,
                "entity_type_label": subject_label(e.entity_type),
                "entity_id": e.entity_id,
                "municipality_code": e.municipality_code,
                "changed": changed_keys(e),
                "before": e.before,
                "after": e.after,
            }
            for e in entries
        ],
        "next_before": next_before,
    }


@router.get("/audit/entries.csv")
def export_entries(
    request: Request,
    user: User = Depends(audit_readers),
    query: AuditQuery = Depends(query_params),
) -> StreamingResponse:
    """Every matching entry, oldest first, as CSV for Danish Excel (streamed)."""
    chunks = audit_csv(request.app.state.sessionmaker, query)
    return streaming_download(chunks, "revisionslog.csv", media_type="text/csv; charset=utf-8")

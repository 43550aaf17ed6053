"""HTML view of the audit log: search with filters, page back in time, export as CSV."""

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from hotline.audit.actions import action_label, labelled, shown_id, subject_label
from hotline.audit.api import audit_readers
from hotline.audit.search import actions, audit_query, changed_keys, entity_types, search_audit
from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import InvalidInput
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)


@router.get("/admin/audit")
def audit_page(
    request: Request,
    start: str = Query("", alias="from", max_length=10),
    end: str = Query("", alias="to", max_length=10),
    actor: str = Query("", max_length=64),
    entity_type: str = Query("", alias="type", max_length=64),
    municipality: str = Query("", max_length=4),
    text: str = Query("", alias="q", max_length=100),
    action: str = Query("", max_length=64),
    before: int | None = Query(None, ge=1),
    session: Session = request_session,
    user: User = Depends(audit_readers),
):
    """The newest entries matching the filters, 50 at a time."""
    form = {"from": start, "to": end, "actor": actor, "type": entity_type,
            "municipality": municipality, "q": text, "action": action}  # fmt: skip
    entries, next_url, export_url, error = [], None, None, None
    try:
        query = audit_query(start, end, actor, entity_type, municipality, text, action)
    except InvalidInput as exc:
        error = t(exc.key, **exc.params)
    else:
        entries, next_before = search_audit(session=session, query=query, before_id=before)
        if next_before:
            next_url = "/admin/audit?" + urlencode([*query.params, ("before", next_before)])
        export_url = "/api/audit/entries.csv?" + urlencode(query.params)
    return render(
        request,
        "audit/page.html",
        status_code=422 if error else 200,
        user=user,
        nav="audit",
        form=form,
        error=error,
        entries=entries,
        types=labelled(entity_types(session), subject_label),
        actions=labelled(actions(session), action_label),
        action_label=action_label,
        subject_label=subject_label,
        shown_id=shown_id,
        next_url=next_url,
        export_url=export_url,
        changed=changed_keys,
        pretty=lambda value: json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True),
    )

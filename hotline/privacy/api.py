"""JSON API of the right-of-access export (system admins only; every export is audited)."""

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.privacy.access import ACCESS_ROLES, MAX_NUMBER_LENGTH, access_export

router = APIRouter(route_class=TransactionRoute, prefix="/api/privacy", tags=["privacy"])
access_readers = require_roles(*ACCESS_ROLES)


def access_download(export: dict[str, Any]) -> Response:
    """The export as a JSON attachment that no cache keeps."""
    day = export["generated_at"][:10]
    return Response(
        json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8"),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="indsigt_{day}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/access")
def access(
    request: Request,
    number: str = Query(max_length=MAX_NUMBER_LENGTH),
    session: Session = request_session,
    user: User = Depends(access_readers),
) -> Response:
    """Everything stored about a caller number (?number=+4520123456), as a JSON download."""
    export = access_export(
        session=session, user=user, number=number, settings=request.app.state.settings
    )
    return access_download(export)

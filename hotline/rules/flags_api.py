"""JSON API of rule flags: agents flag a rule, a municipality's admins list and close the flags."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.kit.responses import model_json
from hotline.rules.flags import close_flag, flag_rule, list_flags
from hotline.rules.models import FlagKind, RuleFlag

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["rules"])


class RuleFlagIn(BaseModel):
    """An agent's flag: the topic as resolved for a municipality is unclear or wrong."""

    model_config = ConfigDict(extra="forbid")

    municipality_code: str = Field(pattern=r"^\d{4}$", description="kommunekode, e.g. 0751")
    topic_slug: str = Field(max_length=100)
    kind: FlagKind
    # Trimmed and checked by the service (at most 2000 characters, not blank).
    comment: str = Field(max_length=100_000)


class RuleFlagClose(BaseModel):
    """What the admin did about a flag."""

    model_config = ConfigDict(extra="forbid")

    resolution: str = Field(max_length=100_000)


class RuleFlagOut(BaseModel):
    """A flag as the admin sees it."""

    id: int
    municipality_code: str
    topic_slug: str
    rule_version_id: int | None
    kind: FlagKind
    comment: str
    created_by: str
    created_at: datetime
    state: Literal["open", "closed"]
    closed_at: datetime | None
    closed_by: str | None
    resolution: str

    @classmethod
    def of(cls, flag: RuleFlag) -> "RuleFlagOut":
        """The output shape of a stored flag."""
        return cls(
            id=flag.id,
            municipality_code=flag.municipality_code,
            topic_slug=flag.topic_slug,
            rule_version_id=flag.rule_version_id,
            kind=flag.kind,
            comment=flag.comment,
            created_by=flag.created_by_name,
            created_at=flag.created_at,
            state="open" if flag.closed_at is None else "closed",
            closed_at=flag.closed_at,
            closed_by=flag.closed_by_name,
            resolution=flag.resolution,
        )


@router.post("/rules/flags", response_model=RuleFlagOut, status_code=201)
def create_flag(
    body: RuleFlagIn, user: User = Depends(current_user), session: Session = request_session
) -> Response:
    """Flag a topic, as resolved today for a municipality, as unclear or wrong (hotline staff)."""
    flag = flag_rule(
        session=session,
        user=user,
        municipality_code=body.municipality_code,
        topic_slug=body.topic_slug,
        kind=body.kind,
        comment=body.comment,
    )
    return model_json(RuleFlagOut, RuleFlagOut.of(flag), status_code=201)


@router.get("/rules/flags", response_model=list[RuleFlagOut])
def flags(
    municipality: str | None = Query(default=None, pattern=r"^\d{4}$"),
    state: Literal["open", "closed"] = "open",
    topic: str | None = Query(default=None, max_length=100),
    user: User = Depends(current_user),
    session: Session = request_session,
) -> list[RuleFlagOut]:
    """Flags of a municipality the user administers (without municipality: all of theirs)."""
    found = list_flags(
        session=session,
        user=user,
        municipality_code=municipality,
        open_only=state == "open",
        topic_slug=topic,
    )
    return [RuleFlagOut.of(flag) for flag in found]


@router.post("/rules/flags/{flag_id}/close", response_model=RuleFlagOut)
def close(
    flag_id: int,
    body: RuleFlagClose,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> Response:
    """Close a flag with a note (admins of its municipality; 409 if it is already closed)."""
    flag = close_flag(session=session, user=user, flag_id=flag_id, resolution=body.resolution)
    return model_json(RuleFlagOut, RuleFlagOut.of(flag))

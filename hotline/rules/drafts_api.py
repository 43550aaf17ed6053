"""JSON API of local rule drafts: read, save, discard, preview and publish a rule's draft."""

from datetime import date

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.kit.errors import NotFound
from hotline.rules.drafts import (
    discard_draft,
    draft_snapshot,
    get_draft,
    preview_draft,
    publish_draft,
    save_draft,
)
from hotline.rules.models import RuleDraft
from hotline.rules.schemas import LocalRuleIn, ResolvedRule
from hotline.rules.service import version_snapshot

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["rules"])
DRAFT = "/rules/local/{code}/{slug}/draft"
REVISION = Query(default=None, ge=0, description="the draft revision you saw; 409 if it changed")


class DraftSave(LocalRuleIn):
    """The JSON body of PUT /api/rules/local/{code}/{slug}/draft."""

    # 0 starts a new draft; otherwise the revision you loaded (409 if someone saved since).
    expected_revision: int = Field(ge=0)
    # The local version your text is based on: it must be the newest (or the draft's own base).
    base_version: int | None = Field(default=None, ge=0)


@router.get(DRAFT)
def read_draft(
    code: str, slug: str, user: User = Depends(current_user), session: Session = request_session
) -> dict:
    """The draft of a municipality's local rule (404 if there is none)."""
    draft = get_draft(session=session, user=user, municipality_code=code, topic_slug=slug)
    if draft is None:
        raise NotFound("rules.drafts.not_found", topic=slug)
    return _out(draft)


@router.put(DRAFT)
def write_draft(
    code: str,
    slug: str,
    body: DraftSave,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> dict:
    """Create or update the draft (409 if expected_revision or base_version is not current)."""
    data = LocalRuleIn.model_validate(
        body.model_dump(exclude={"expected_revision", "base_version"})
    )
    draft = save_draft(
        session=session,
        user=user,
        municipality_code=code,
        topic_slug=slug,
        data=data,
        expected_revision=body.expected_revision,
        base_version=body.base_version,
    )
    return _out(draft)


@router.delete(DRAFT, status_code=204)
def delete_draft(
    code: str,
    slug: str,
    revision: int | None = REVISION,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> Response:
    """Discard the draft (404 if there is none)."""
    discard_draft(
        session=session,
        user=user,
        municipality_code=code,
        topic_slug=slug,
        expected_revision=revision,
    )
    return Response(status_code=204)


@router.get(DRAFT + "/preview", response_model=ResolvedRule)
def preview(
    request: Request,
    code: str,
    slug: str,
    on: date | None = None,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> ResolvedRule:
    """The rule as agents would see it with the draft published (on a date; default today, or
    the draft's valid_from when later)."""
    return preview_draft(
        session=session,
        user=user,
        municipality_code=code,
        topic_slug=slug,
        on=on,
        verify_after_days=request.app.state.settings.rules_verify_after_days,
    )


@router.post(DRAFT + "/publish")
def publish(
    code: str,
    slug: str,
    revision: int | None = REVISION,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> dict:
    """Publish the draft as the rule's new version and delete it (409, draft kept, if a version
    was published after the draft was started)."""
    version = publish_draft(
        session=session,
        user=user,
        municipality_code=code,
        topic_slug=slug,
        expected_revision=revision,
    )
    return {"topic_slug": slug, "municipality_code": code, **version_snapshot(version)}


def _out(draft: RuleDraft) -> dict:
    return {
        "topic_slug": draft.topic_slug,
        "municipality_code": draft.municipality_code,
        **draft_snapshot(draft),
        "created_at": draft.created_at.isoformat(),
    }

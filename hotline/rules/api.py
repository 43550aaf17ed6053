"""JSON API of the rules domain."""

from contextlib import asynccontextmanager
from datetime import date

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.auth.models import User
from hotline.db import get_session, request_session
from hotline.municipalities.service import get_municipality
from hotline.rules.resolve import list_resolved_topics, today_in_denmark
from hotline.rules.resolved_json import resolve_rule_json
from hotline.rules.schemas import LocalRuleIn, LocalRuleSave, ResolvedRule, TopicSummary
from hotline.rules.search import SearchHit, search_topics
from hotline.rules.service import get_rule_history, save_local_rule, version_snapshot

router = APIRouter(prefix="/api", tags=["rules"])
CODE = Query(pattern=r"^\d{4}$", description="kommunekode, e.g. 0751")


# The session's life and the sign-in check of every other route, entered here rather than by
# FastAPI's dependency solving: on the agents' most frequent call that cost more than the query.
_request_session = asynccontextmanager(get_session)


@router.get("/rules/resolve", response_model=ResolvedRule)
async def resolve(
    request: Request,
    municipality: str = CODE,
    topic: str = Query(max_length=100),
    on: date | None = None,
) -> Response:
    """A topic as it applies in a municipality (on a date, default today); any signed-in user."""
    async with _request_session(request) as session:
        await current_user(request, session)
        # One trip to the thread pool for all the database work; the JSON comes from memory when
        # the rules are in a state this process has resolved before.
        body = await run_in_threadpool(
            _resolve_and_end,
            session=session,
            topic_slug=topic,
            municipality_code=municipality,
            on=on,
            verify_after_days=_verify_after_days(request),
        )
    return Response(body, media_type="application/json")


def _resolve_and_end(*, session: Session, **query) -> bytes:
    body = resolve_rule_json(session=session, **query)
    # Only reads: ending the transaction here spares the session dependency a second trip to
    # the thread pool for it (a COMMIT over the network on PostgreSQL).
    session.commit()
    return body


@router.get("/rules/topics", response_model=list[TopicSummary])
def topics(
    request: Request,
    municipality: str = CODE,
    on: date | None = None,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> list[TopicSummary]:
    """Every topic in force for a municipality."""
    get_municipality(session=session, code=municipality)
    return list_resolved_topics(
        session=session,
        municipality_code=municipality,
        on=on,
        verify_after_days=_verify_after_days(request),
    )


@router.get("/rules/search", response_model=list[SearchHit])
def search(
    request: Request,
    municipality: str = CODE,
    q: str = Query(default="", max_length=200),
    on: date | None = None,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> list[SearchHit]:
    """Topics of a municipality for a query in a caller's words, best first.

    Each has snippet_html (an HTML-escaped stretch of the matching text, matches in <mark>) and
    weak: true when it covers too little of the query to be a confident answer. An empty query
    lists every topic.
    """
    get_municipality(session=session, code=municipality)
    if not q.strip():
        found = list_resolved_topics(
            session=session,
            municipality_code=municipality,
            on=on,
            verify_after_days=_verify_after_days(request),
        )
        return [SearchHit(**topic.model_dump()) for topic in found]
    result = search_topics(
        session=session,
        municipality_code=municipality,
        query=q,
        on=on or today_in_denmark(),
        verify_after_days=_verify_after_days(request),
    )
    return result.hits


@router.put("/rules/local/{code}/{slug}")
def save_local(
    code: str,
    slug: str,
    body: LocalRuleSave,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> dict:
    """Save a new version of a local rule (409 if expected_version is not the newest)."""
    data = LocalRuleIn.model_validate(body.model_dump(exclude={"expected_version"}))
    version = save_local_rule(
        session=session,
        user=user,
        municipality_code=code,
        topic_slug=slug,
        expected_version=body.expected_version,
        data=data,
    )
    return {"topic_slug": slug, "municipality_code": code, **version_snapshot(version)}


@router.get("/rules/local/{code}/{slug}/history")
def history(
    code: str,
    slug: str,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> list[dict]:
    """Every version of a municipality's local rule, newest first."""
    versions = get_rule_history(session=session, topic_slug=slug, municipality_code=code)
    return [
        {**version_snapshot(v), "author": v.author_name, "created_at": v.created_at.isoformat()}
        for v in versions
    ]


def _verify_after_days(request: Request) -> int:
    return request.app.state.settings.rules_verify_after_days

"""JSON API of the rules domain."""

import re
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user, signed_in_by_recent_token
from hotline.auth.models import User
from hotline.db import TransactionRoute, get_session, request_session
from hotline.municipalities.service import get_municipality
from hotline.rules.resolve import list_resolved_topics, today_in_denmark
from hotline.rules.resolved_json import resolve_rule_json
from hotline.rules.schemas import LocalRuleIn, LocalRuleSave, ResolvedRule, TopicSummary
from hotline.rules.search import SearchHit, search_topics
from hotline.rules.service import get_rule_history, save_local_rule, version_snapshot

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["rules"])
CODE = Query(pattern=r"^\d{4}$", description="kommunekode, e.g. 0751")
PLAIN_CODE = re.compile(r"[0-9]{4}")  # what CODE accepts, in ASCII digits only
TOPIC_MAX_LENGTH = 100


# The session's life and the sign-in check of every other route, entered here rather than by
# FastAPI's dependency solving: on the agents' most frequent call that cost more than the query.
_request_session = asynccontextmanager(get_session)


async def resolve(
    request: Request,
    municipality: str = CODE,
    topic: str = Query(max_length=TOPIC_MAX_LENGTH),
    on: date | None = None,
) -> Response:
    """A topic as it applies in a municipality (on a date, default today); any signed-in user."""
    query = {
        "topic_slug": topic,
        "municipality_code": municipality,
        "on": on,
        "verify_after_days": _verify_after_days(request),
    }
    # One trip to the thread pool for all the database work; the JSON comes from memory when the
    # rules are in a state this process has resolved before.
    if signed_in_by_recent_token(request):
        # Nothing to write and no user to load: one query on a pooled connection, no session.
        engine = request.app.state.engine
        body = await run_in_threadpool(_resolve_on_connection, engine, query)
    else:
        async with _request_session(request) as session:
            await current_user(request, session)
            body = await run_in_threadpool(_resolve_and_end, session, query)
    return Response(body, media_type="application/json")


class _ResolveRoute(APIRoute):
    """The resolve route, taking a plain query (a code, a topic, no date) from the query string
    itself: FastAPI's parameter solving cost more than the rest of the request. Any other query
    is solved by FastAPI as before, so its answers (422s included) are FastAPI's own."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        solving = super().get_route_handler()

        async def handler(request: Request) -> Response:
            params = request.query_params
            code, topic = params.get("municipality", ""), params.get("topic")
            if "on" in params or not PLAIN_CODE.fullmatch(code) or not _plain_topic(topic):
                return await solving(request)
            return await resolve(request, municipality=code, topic=topic, on=None)

        return handler


def _plain_topic(topic: str | None) -> bool:
    return topic is not None and len(topic) <= TOPIC_MAX_LENGTH


router.add_api_route(
    "/rules/resolve",
    resolve,
    methods=["GET"],
    response_model=ResolvedRule,
    route_class_override=_ResolveRoute,
)


def _resolve_on_connection(engine: Engine, query: dict) -> bytes:
    with engine.connect() as connection:
        return resolve_rule_json(connection=connection, **query)


def _resolve_and_end(session: Session, query: dict) -> bytes:
    body = resolve_rule_json(connection=session.connection(), **query)
    # Ending the transaction here (with the sign-in check's note of the token's use, if any)
    # spares the session dependency a second trip to the thread pool for it.
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

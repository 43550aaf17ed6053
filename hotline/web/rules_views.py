"""HTML views of the rule store in the agent console: the rules panel and a rule's detail."""

from itertools import groupby

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.auth.models import User
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.insight.consultations import record_consultation
from hotline.insight.search_gaps import record_opened, record_search
from hotline.municipalities.service import get_municipality
from hotline.rules.resolve import list_resolved_topics, resolve_rule, today_in_denmark
from hotline.rules.search import search_topics
from hotline.web.rule_pages import flag_form_context
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
CODE = Query(pattern=r"^\d{4}$")
TOPIC_LIST_TARGET = "rule-topics"


@router.get("/console/rules")
def console_rules(
    request: Request,
    municipality: str = CODE,
    q: str = Query(default="", max_length=200),
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """The rules panel of the console (search + topic list + detail area), or just the list."""
    place = get_municipality(session=session, code=municipality)
    days = request.app.state.settings.rules_verify_after_days
    found, counted = None, False
    if q.strip():
        found = search_topics(
            session=session,
            municipality_code=municipality,
            query=q,
            on=today_in_denmark(),
            verify_after_days=days,
        )
        counted = (
            record_search(
                session=session,
                user=user,
                municipality_code=place.code,
                query=q,
                results=len(found.hits),
                confident=found.confident,
            )
            is not None
        )
        # Search hits keep their rank: one list, not regrouped by category.
        groups = [(t("rules.search_results"), found.hits)] if found.hits else []
    else:
        topics = list_resolved_topics(
            session=session, municipality_code=municipality, verify_after_days=days
        )
        groups = [(c, list(items)) for c, items in groupby(topics, lambda s: s.category)]
    only_list = request.headers.get("HX-Target") == TOPIC_LIST_TARGET
    template = "rules/_topic_list.html" if only_list else "rules/console_panel.html"
    return render(
        request, template, municipality=place, groups=groups, q=q, found=found, counted=counted
    )


@router.get("/console/rules/{slug}")
def console_rule(
    request: Request,
    slug: str,
    municipality: str = CODE,
    user: User = Depends(current_user),
    session: Session = request_session,
):
    """One resolved rule, with provenance, for the console's detail area."""
    place = get_municipality(session=session, code=municipality)
    days = request.app.state.settings.rules_verify_after_days
    rule = resolve_rule(
        session=session, topic_slug=slug, municipality_code=municipality, verify_after_days=days
    )
    record_consultation(session=session, user=user, municipality_code=place.code, topic_slug=slug)
    record_opened(session=session, user=user, municipality_code=place.code, topic_slug=slug)
    return render(
        request,
        "rules/console_detail.html",
        rule=rule,
        municipality=place,
        verify_after_days=days,
        **flag_form_context(session, user, municipality, slug),
    )

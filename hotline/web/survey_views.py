"""The satisfaction survey: the citizen's public page, the console's link, the results pages.

The public page /t/{code} never touches the session (so no cookie is set), renders a page of its
own (base.html would make a CSRF token, and so a session) and loads nothing from other hosts.
"""

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.calls.service import get_own_open_call
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.insight import survey, survey_results
from hotline.insight.classify import load_word_list
from hotline.insight.models import COMMENT_CLASSES
from hotline.kit.dates import COPENHAGEN
from hotline.kit.errors import InvalidInput
from hotline.kit.forms import posted_form
from hotline.municipalities.models import Municipality
from hotline.reports.filters import MAX_CODES, checked_filters
from hotline.web.console_views import FLASH_KEY
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
call_taker = require_roles(Role.AGENT, Role.SUPERVISOR)
reviewer = require_roles(*survey_results.ALL_MUNICIPALITIES)
result_reader = require_roles(*survey_results.ALL_MUNICIPALITIES, Role.MUNICIPALITY_ADMIN)
# The code is a secret in the URL: nothing caches the page or passes the address on.
PUBLIC_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
REVIEW_PAGE = "/supervisor/survey"


def _public(request: Request, name: str, status_code: int, **context):
    response = render(request, name, status_code=status_code, **context)
    response.headers.update(PUBLIC_HEADERS)
    return response


def _form_page(request: Request, invite, status_code=200, errors=None, form=None):
    secret = request.app.state.settings.secret_key
    return _public(
        request,
        "survey/page.html",
        status_code,
        code=invite.code,
        token=survey.answer_token(invite.code, secret),
        scores=list(survey.SCORES),
        errors=errors or {},
        form=form or {},
        max_comment=survey.MAX_COMMENT_LENGTH,
    )


@router.get("/t/{code}")
def survey_page(request: Request, code: str, session: Session = request_session):
    """The one-question survey (no login); a friendly page for a used, expired or wrong link."""
    invite = survey.open_invite(session=session, code=code)
    if invite is None:
        return _public(request, "survey/gone.html", 404)
    if invite.answered_at is not None:
        return _public(request, "survey/thanks.html", 200, already=True)
    return _form_page(request, invite)


@router.post("/t/{code}")
def answer_survey(
    request: Request,
    code: str,
    form: dict[str, str] = Depends(posted_form),
    session: Session = request_session,
):
    """Store the citizen's answer, once; a second answer gets a friendly 409 page."""
    invite = survey.open_invite(session=session, code=code)
    if invite is None:
        return _public(request, "survey/gone.html", 404)
    if invite.answered_at is not None:
        return _public(request, "survey/thanks.html", 409, already=True)
    kept = {"score": form.get("score", ""), "comment": form.get("comment", "")[:5000]}
    secret = request.app.state.settings.secret_key
    if not survey.token_fits(form.get("token", ""), invite.code, secret):
        errors = {"form": t("survey.public.token_error")}
        return _form_page(request, invite, 403, errors, kept)
    score = survey.parse_score(form.get("score"))
    if score is None:
        return _form_page(request, invite, 422, {"score": t("survey.score_required")}, kept)
    stored = survey.answer_survey(
        session=session, invite_id=invite.id, score=score, comment=form.get("comment", "")
    )
    return _public(request, "survey/thanks.html", 200 if stored else 409, already=not stored)


@router.post("/console/calls/{call_id}/survey-link")
def survey_link(
    call_id: int,
    request: Request,
    session: Session = request_session,
    user: User = Depends(call_taker),
):
    """The short survey link of the agent's own open call, to read out or text to the caller."""
    call = get_own_open_call(session=session, call_id=call_id, user=user)
    settings = request.app.state.settings
    invite = survey.ensure_invite(session=session, call_id=call.id, settings=settings)
    # Without HOTLINE_PUBLIC_URL, the address the agent reached the app at (fine for a demo).
    url = survey.survey_url(settings.public_url or str(request.base_url), invite.code)
    grouped = survey.grouped(invite.code)
    if not request.headers.get("HX-Request"):
        text = t("survey.link.flash", url=url, code=grouped)
        request.session[FLASH_KEY] = {"kind": "success", "text": text, "durations": None}
        return RedirectResponse("/console", status_code=303)
    return render(request, "survey/_link.html", call=call, invite=invite, url=url, grouped=grouped)


@router.get("/console/survey")
def agent_page(
    request: Request, session: Session = request_session, user: User = Depends(call_taker)
):
    """The answers to the user's own calls: their average and latest comments."""
    stats, answers = survey_results.agent_results(session=session, user=user)
    return render(
        request, "survey/agent.html", user=user, nav="survey", stats=stats, answers=answers
    )


def _period(start: str | None, end: str | None) -> tuple[str, str]:
    """The period asked for; by default the last six Danish months up to today."""
    today = datetime.now(COPENHAGEN).date()
    first = today.replace(day=1)
    for _ in range(5):
        first = (first - timedelta(days=1)).replace(day=1)
    return start or first.isoformat(), end or today.isoformat()


def _results_context(
    session: Session, user: User, start: str | None, end: str | None, codes: list[str]
) -> dict:
    start, end = _period(start, end)
    results, error = None, None
    try:
        filters = checked_filters(start, end, codes)
        scope = survey_results.readable_municipalities(user, filters.municipalities)
        results = survey_results.survey_results(
            session=session, start=filters.start, end=filters.end, municipalities=scope
        )
    except InvalidInput as exc:
        error = t(exc.key, **exc.params)
    query = select(Municipality.code, Municipality.name).order_by(Municipality.name)
    if user.role not in survey_results.ALL_MUNICIPALITIES:
        query = query.where(Municipality.code.in_(user.municipality_codes))
    return {
        "results": results,
        "error": error,
        "start": start,
        "end": end,
        "chosen": set(codes),
        "municipality_choices": session.execute(query).all(),
        "classes": COMMENT_CLASSES,
    }


@router.get(REVIEW_PAGE)
def review_page(
    request: Request,
    start: str | None = Query(None, alias="from", max_length=10),
    end: str | None = Query(None, alias="to", max_length=10),
    municipality: list[str] = Query(default_factory=list, max_length=MAX_CODES),
    done: str | None = Query(None, pattern=r"^confirmed$"),
    session: Session = request_session,
    user: User = Depends(reviewer),
):
    """Comments to confirm or reclassify, how often the suggestion was right, the results."""
    pending, pending_count = survey_results.review_queue(session=session)
    return render(
        request,
        "survey/review.html",
        user=user,
        nav="survey",
        pending=pending,
        pending_count=pending_count,
        confirmed=survey_results.recently_confirmed(session=session),
        word_list=load_word_list(),
        done=done,
        action=REVIEW_PAGE,
        **_results_context(session, user, start, end, municipality),
    )


@router.post(REVIEW_PAGE + "/{invite_id}/class")
def confirm_class(
    invite_id: int,
    form: dict[str, str] = Depends(posted_form),
    session: Session = request_session,
    user: User = Depends(reviewer),
):
    """Confirm the suggested class of a comment, or change it."""
    survey.confirm_class(
        session=session,
        invite_id=invite_id,
        comment_class=form.get("comment_class", ""),
        user=user,
    )
    return RedirectResponse(f"{REVIEW_PAGE}?done=confirmed#review", status_code=303)


@router.get("/admin/survey")
def results_page(
    request: Request,
    start: str | None = Query(None, alias="from", max_length=10),
    end: str | None = Query(None, alias="to", max_length=10),
    municipality: list[str] = Query(default_factory=list, max_length=MAX_CODES),
    session: Session = request_session,
    user: User = Depends(result_reader),
):
    """The results, read-only; a municipality admin sees only their own municipalities'."""
    context = _results_context(session, user, start, end, municipality)
    return render(
        request,
        "survey/results.html",
        user=user,
        nav="survey",
        action="/admin/survey",
        **context,
    )

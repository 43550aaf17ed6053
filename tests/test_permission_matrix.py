"""The permission matrix: every route of the app, and what each kind of user gets from it.

MATRIX below lists every (method, path template) the app serves, with the expected result for six
actors. A route the app serves but MATRIX lacks fails test_matrix_lists_every_route, and so does an
entry for a route that no longer exists.

Actors: anonymous; the agent who has the call; a supervisor; a system admin; an admin of Aarhus
(0751), whose data every path points at ("admin_own"); an admin of Aalborg (0851) acting on that
same Aarhus data ("admin_other").

Expected values: OK (any 2xx or 3xx), 401, 403, 404. An HTML page that sends an anonymous browser to
the login page (303 to /login?next=...) counts as 401. /api routes are called with a bearer token,
everything else with the session cookie and its CSRF header. Every request has a valid body (no
entry needs a 422 excuse), so a refusal is about who asks, never about what was sent.

Each route is one test on fresh data, and each actor a subtest of it, reported as "<route> as
<actor>". Every answer, allowed or refused, must carry "Cache-Control: no-store" (personal data is
never kept by a browser or proxy). Refused actors go first, and a refused request must leave the
data exactly as it was; before each allowed actor, the case's prepare step restores what the
previous one used up (a waiting call, a failed e-mail, the rule's newest version, an open rule flag,
a draft). The data: Aarhus and Aalborg participate with their own lines; contact reasons and the
default cost rate; two calls offered through the CTI webhook on the Aarhus line, the first answered
by the agent; and, where the route uses them, the shipped knowledge base (settings.kb_rules_dir) and
an e-mail reply citing "pas". Login runs the real form, with a cheap Argon2 cost so the ~250 logins
stay fast.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.routing import Mount, Route

from hotline.audit.models import AuditEntry
from hotline.auth import service as auth_service
from hotline.auth.models import ApiToken, Role, User
from hotline.calls.integrations import create_integration
from hotline.calls.models import Call, CallState, ContactReason, CtiIntegration
from hotline.calls.reasons import CONTACT_REASONS
from hotline.calls.service import OPEN_STATES, seed_contact_reasons, wrap_up_call
from hotline.insight.models import SurveyInvite
from hotline.letters.models import Channel, Reply, ReplyStatus
from hotline.letters.service import ReplyIn, create_reply
from hotline.municipalities.models import Municipality
from hotline.reports.models import CostRate
from hotline.reports.service import current_month, ensure_default_cost_rate
from hotline.rules.flags import flag_rule
from hotline.rules.importer import import_rules
from hotline.rules.models import RuleDraft, RuleFlag, RuleVersion, SearchSynonym
from hotline.rules.service import get_rule
from hotline.rules.synonyms import add_local_synonym
from hotline.web import live_views
from tests.conftest import TEST_PASSWORD

OK = "ok"
ACTORS = ("anonymous", "agent", "supervisor", "system_admin", "admin_own", "admin_other")
AARHUS, AALBORG = "0751", "0851"
LINES = {AARHUS: "+4588000751", AALBORG: "+4588000851"}
SLUG = "pas"
_cti_ids = itertools.count(1)


def expect(anonymous, agent, supervisor, system_admin, admin_own, admin_other) -> dict[str, Any]:
    """One row of the matrix, in the order of ACTORS."""
    row = (anonymous, agent, supervisor, system_admin, admin_own, admin_other)
    return dict(zip(ACTORS, row, strict=True))


# Who gets what; the columns are the ACTORS above.
#                 anon agent superv sysadm own  other
PUBLIC = expect(OK, OK, OK, OK, OK, OK)
SIGNED_IN = expect(401, OK, OK, OK, OK, OK)
# The hotline's own staff see calls, caller numbers and replies; municipality admins do not.
HOTLINE_STAFF = expect(401, OK, OK, OK, 403, 403)
# Taking calls: agents and supervisors (who step in at peaks), not system admins.
CALL_TAKERS = expect(401, OK, OK, 403, 403, 403)
# Changing a call, or writing to the citizen about it: only the agent who has the call.
CALL_OWNER = expect(401, OK, 403, 403, 403, 403)
# The local rules of Aarhus: its own admins and system admins.
AARHUS_RULE_EDITORS = expect(401, 403, 403, OK, OK, 403)
# The reply archive: the author, supervisors, system admins and Aarhus's admins.
AARHUS_ARCHIVE = expect(401, OK, OK, OK, OK, 403)
# Searching the reply archive (here Aarhus's): supervisors, system admins, Aarhus's admins; agents
# find their replies on their calls instead.
AARHUS_ARCHIVE_SEARCH = expect(401, 403, OK, OK, OK, 403)
# The live queue and the cost model and reports.
SUPERVISORS = expect(401, 403, OK, OK, 403, 403)
# Flagging a rule as unclear or wrong: hotline staff; municipality admins edit rules instead.
RULE_FLAGGERS = expect(401, OK, OK, OK, 403, 403)
# The phone systems' CTI tokens: system admins only.
SYSTEM_ADMINS = expect(401, 403, 403, OK, 403, 403)


@dataclass
class World:
    """The data every check runs on: ids to fill path parameters and bodies with."""

    users: dict[str, User]
    call_id: int  # active, claimed by the agent, caller's municipality Aarhus
    waiting_call_id: int  # waiting in the queue
    local_version: int | None = None  # the newest version of Aarhus's local rule of SLUG
    reply_id: int | None = None
    flag_id: int | None = None  # an open flag of Aarhus's rule of SLUG
    draft_revision: int = 0  # the revision of the draft of Aarhus's rule of SLUG
    reason_code: str = "flytning"  # a contact reason no call uses
    callback_id: int | None = None  # an open callback booked for Aarhus on call_id
    rate_id: int | None = None  # a future cost rate, from the 1st of the month after next
    user_id: int | None = None  # an agent the system admins' user pages change
    token_id: int | None = None  # an unrevoked personal API token of the agent's
    survey_id: int | None = None  # the survey invite of call_id
    survey_code: str | None = None  # its code, the key to the public survey page
    survey_token: str | None = None  # the survey form's signed hidden field for that code
    synonym_id: int | None = None  # a line of Aarhus's own search synonyms
    report_job_id: str | None = None  # the supervisor's finished bill-basis zip


Body = dict[str, Any] | Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """A route's expected results, and how to call it validly."""

    expected: dict[str, Any]
    params: Body | None = None
    json: Body | None = None
    data: Body | None = None
    # Path parameters taken from another World attribute than their own name.
    path: dict[str, str] = field(default_factory=dict)
    # The demo knowledge base imported (routes that read, edit or cite rules; a reply cites "pas").
    rules: bool = False
    needs_reply: bool = False
    # Runs before the request, e.g. to free the agent so the claim can succeed.
    prepare: Callable[[World, Any, TestClient], None] | None = None


def _reply_fields(channel: Channel) -> dict[str, Any]:
    return dict(
        channel=channel.value,
        recipient_name="Søren Østergård",
        recipient_address="Åboulevarden 12, 2. th.\n8000 Aarhus C",
        recipient_email="soren@borger.example",
        subject="Svar på din henvendelse til Aarhus Kommune",
        body_md="Kære Søren\n\nTak for din henvendelse om pas. Her er reglerne.",
        topics=[SLUG],
    )


def _offer_a_fresh_call(world: World, session, client) -> None:
    """Finish every open call (the agent's too) and offer a new one, so a claim can succeed."""
    for call in session.scalars(select(Call).where(Call.state.in_(OPEN_STATES))):
        wrap_up_call(
            session=session,
            call=call,
            user=call.agent,
            contact_reason_code="pas",
            outcome="answered",
        )
    session.commit()
    world.waiting_call_id = _offer_call(client, session, f"matrix-fresh-{next(_cti_ids)}")


def _fail_the_reply(world: World, session, client) -> None:
    """The outbox gave up on the e-mail, so it may be retried."""
    reply = session.get(Reply, world.reply_id)
    reply.status = ReplyStatus.FAILED
    reply.last_error = "550 mailbox unavailable"
    session.commit()


def _new_call_event(world: World, actor: str) -> dict[str, Any]:
    return {
        "event": "newCall",
        "callId": f"matrix-new-{next(_cti_ids)}",
        "from": "+4530303030",
        "to": LINES[AARHUS],
        "direction": "in",
    }


def _login_form(world: World, actor: str) -> dict[str, Any]:
    user = world.users["agent" if actor == "anonymous" else actor]
    return {"username": user.username, "password": TEST_PASSWORD, "next": "/"}


def _newest_rule_version(world: World, session, client) -> None:
    """A successful save made a new version; the next editor saves on top of it."""
    session.expire_all()
    world.local_version = get_rule(
        session=session, topic_slug=SLUG, municipality_code=AARHUS
    ).current_version
    session.rollback()


def _local_rule_body(world: World, actor: str) -> dict[str, Any]:
    return {
        "mode": "append",
        "body_md": "Husk at bestille tid på Dokk1.",
        "fields": {"fee_dkk": 1006},
        "expected_version": world.local_version,
    }


def _local_rule_form(world: World, actor: str) -> dict[str, Any]:
    return {
        "mode": "append",
        "title": "",
        "category": "",
        "body_md": "Husk at bestille tid på Dokk1.",
        "agent_notes_md": "",
        "valid_from": "",
        "expected_version": str(world.local_version),
        "fee_dkk": "1006",
        "deadline": "",
        "phone": "",
        "self_service_url": "",
        "legal_basis": "",
    }


def _expected_version_form(world: World, actor: str) -> dict[str, str]:
    return {"expected_version": str(world.local_version)}


def _a_draft(world: World, session, client) -> None:
    """A draft of Aarhus's SLUG on its newest version: created once, again after a publish or a
    discard used it up."""
    _newest_rule_version(world, session, client)
    draft = session.scalar(
        select(RuleDraft).where(RuleDraft.topic_slug == SLUG, RuleDraft.municipality_code == AARHUS)
    )
    if draft is None:
        content = {**_local_rule_body(world, "admin_own"), "valid_from": None}
        content.pop("expected_version")
        draft = RuleDraft(
            topic_slug=SLUG, municipality_code=AARHUS, content=content, updated_by_name="Kladde"
        )
        session.add(draft)
    draft.base_version = world.local_version
    session.commit()
    world.draft_revision = draft.revision


def _draft_body(world: World, actor: str) -> dict[str, Any]:
    body = _local_rule_body(world, actor)
    body.pop("expected_version")
    return {**body, "expected_revision": world.draft_revision, "base_version": world.local_version}


def _draft_form(world: World, actor: str) -> dict[str, str]:
    return {**_local_rule_form(world, actor), "draft_revision": str(world.draft_revision)}


def _draft_revision_form(world: World, actor: str) -> dict[str, str]:
    return {"draft_revision": str(world.draft_revision)}


def _a_local_synonym(world: World, session, client) -> None:
    """A line of Aarhus's synonyms: made again after an allowed actor deleted it."""
    session.expire_all()
    if world.synonym_id is None or session.get(SearchSynonym, world.synonym_id) is None:
        synonym = add_local_synonym(
            session=session,
            user=world.users["admin_own"],
            municipality_code=AARHUS,
            line=f"storskrald, gamle møbler {next(_cti_ids)}",
        )
        world.synonym_id = synonym.id
        session.commit()


def _synonym_line(world: World, actor: str) -> dict[str, Any]:
    return {"line": f"sofa, madras => storskrald {actor}"}


SYNONYM = {"path": {"synonym_id": "synonym_id"}, "prepare": _a_local_synonym}


def _open_flag(world: World, session, client) -> None:
    """An open flag of Aarhus's SLUG: created once, reopened after an allowed actor closed it."""
    session.expire_all()
    flag = session.get(RuleFlag, world.flag_id) if world.flag_id else None
    if flag is None:
        flag = flag_rule(
            session=session,
            user=world.users["agent"],
            municipality_code=AARHUS,
            topic_slug=SLUG,
            kind="unclear",
            comment="Uklart, om man skal bestille tid.",
        )
    flag.closed_at = flag.closed_by_id = flag.closed_by_name = None
    flag.resolution = ""
    session.commit()
    world.flag_id = flag.id


def _this_month(world: World, actor: str) -> dict[str, str]:
    first, last = current_month()
    return {"from": first.isoformat(), "to": last.isoformat()}


RULE_QUERY = {"municipality": AARHUS, "topic": SLUG}
PDF_REPLY_JSON = _reply_fields(Channel.PDF)
PDF_REPLY_FORM = _reply_fields(Channel.PDF)
WRAP_UP = {"contact_reason_code": "pas", "outcome": "answered", "notes": "Pas fornyes på Dokk1."}
CLAIM = {"path": {"call_id": "waiting_call_id"}, "prepare": _offer_a_fresh_call}
RETRY = {"rules": True, "needs_reply": True, "prepare": _fail_the_reply}
REPLIES = {"rules": True, "needs_reply": True}
DRAFT = {"expected": AARHUS_RULE_EDITORS, "rules": True, "prepare": _a_draft}
FLAG_FORM = {"municipality": AARHUS, "kind": "unclear", "comment": "Hvor møder borgeren op?"}
FLAG_JSON = {"municipality_code": AARHUS, "topic_slug": SLUG, "kind": "wrong", "comment": "Gebyr?"}
FLAG_CLOSE = {"rules": True, "path": {"flag_id": "flag_id"}, "prepare": _open_flag}


def _a_spare_reason(world: World, session, client) -> None:
    """An unused contact reason to delete: created again after an allowed actor deleted it."""
    if session.get(ContactReason, "midlertidig") is None:
        session.add(ContactReason(code="midlertidig", label="Midlertidig", sort_order=999))
    session.commit()
    world.reason_code = "midlertidig"


def _a_cti_integration(world: World, session, client) -> None:
    """An active CTI integration named "Telefoni" (again after a revoke)."""
    if session.scalar(select(CtiIntegration).where(CtiIntegration.name == "Telefoni")) is None:
        create_integration(session=session, actor=None, name="Telefoni")
    session.commit()


def _new_reason(world: World, actor: str) -> dict[str, str]:
    return {"code": f"ny-{actor.replace('_', '-')}", "label": f"Ny årsag ({actor})"}


def _renamed_reason(world: World, actor: str) -> dict[str, str]:
    return {"label": f"Flytning ({actor})"}


REASON = {"path": {"code": "reason_code"}}
SPARE_REASON = {"path": {"code": "reason_code"}, "prepare": _a_spare_reason}
REASON_ORDER = {"codes": [code for code, _, _ in reversed(CONTACT_REASONS)]}
CTI_NAME = {"data": {"name": "Telefoni"}, "prepare": _a_cti_integration}
NEW_PASSWORD = "tre grønne frøer på Åen"


def _a_managed_user(world: World, session, client, *, active: bool = True) -> None:
    """The agent Maren, as the user pages found her: created once, put back after each change."""
    user = session.scalar(select(User).where(User.username == "maren"))
    if user is None:
        user = auth_service.create_user(
            session=session, username="maren", full_name="Maren", password=TEST_PASSWORD,
            role=Role.AGENT,
        )  # fmt: skip
    user.role, user.full_name, user.email, user.is_active = Role.AGENT, "Maren", None, active
    user.municipalities = []
    session.commit()
    world.user_id = user.id


def _an_inactive_user(world: World, session, client) -> None:
    _a_managed_user(world, session, client, active=False)


def _new_user_form(world: World, actor: str) -> dict[str, Any]:
    return {
        "username": f"ny-{actor.replace('_', '-')}",
        "full_name": "Ny Bruger",
        "email": "ny@aarhus.example",
        "role": "municipality_admin",
        "municipalities": [AARHUS],
        "password": NEW_PASSWORD,
        "password_repeat": NEW_PASSWORD,
    }


MANAGED_USER = {"path": {"user_id": "user_id"}, "prepare": _a_managed_user}
USER_FORM = {"full_name": "Maren Ørsted", "email": "maren@hotline.example", "role": "supervisor"}
PASSWORD_FORM = {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
# Callbacks: Aarhus's admins (and system admins) handle them; supervisors see every municipality's.
CALLBACK_READERS = expect(401, 403, OK, OK, OK, 403)


def _open_callback(world: World, session, client) -> None:
    """An open callback for Aarhus on the agent's call: booked once, reopened after "done"."""
    from hotline.calls.models import Callback, CallbackStatus, MailStatus

    callback = session.get(Callback, world.callback_id) if world.callback_id else None
    if callback is None:
        callback = Callback(
            call_id=world.call_id,
            municipality_code=AARHUS,
            booked_by_id=world.users["agent"].id,
            caller_phone="+4520123456",
            question="Vil gerne tale med en sagsbehandler om boligstøtte.",
            preferred_time="i morgen mellem 9 og 12",
            mail_status=MailStatus.NONE,
        )
        session.add(callback)
    callback.status, callback.handled_at, callback.handled_note = CallbackStatus.OPEN, None, ""
    session.commit()
    world.callback_id = callback.id


def _callback_rows(session) -> list:
    from hotline.calls.models import Callback

    columns = (Callback.id, Callback.status, Callback.handled_note, Callback.mail_status)
    return session.execute(select(*columns).order_by(Callback.id)).all()


CALLBACK_BOOKING = {
    "caller_phone": "20 12 34 56",
    "question": "Vil gerne tale med en sagsbehandler om boligstøtte.",
    "preferred_time": "i morgen mellem 9 og 12",
}
CALLBACK_DONE = {"path": {"callback_id": "callback_id"}, "prepare": _open_callback}
ESSENTIALS_FORM = {
    **{f"hours_{day}": "10.00-15.00" for day in range(5)},
    "phone": "89 40 00 00",
    "exceptions": "",
    "links": "Selvbetjening på borger.dk | https://www.borger.dk/",
}


def _future_months() -> tuple:
    """The 1st of next month and of the month after (Danish dates): the earliest future rates."""
    from datetime import timedelta

    from hotline.reports.rates import danish_today

    following = (danish_today().replace(day=28) + timedelta(days=4)).replace(day=1)
    return following, (following + timedelta(days=31)).replace(day=1)


def _a_future_rate(world: World, session, client) -> None:
    """Only one future cost rate, from the month after next: made again after a delete, and next
    month left free for the next actor to create a rate in."""
    from sqlalchemy import delete

    from hotline.reports.models import CostRate
    from hotline.reports.schemas import CostRateIn

    session.execute(delete(CostRate).where(CostRate.effective_from >= _future_months()[0]))
    rate = CostRate(**CostRateIn(**_rate_after_next(world, "")).model_dump())
    session.add(rate)
    session.commit()
    world.rate_id = rate.id


_RATE_FIGURES = {
    "agent_cost_per_hour": "475.00",
    "telephony_per_minute": "0.1200",
    "platform_monthly": "26000.00",
    "fixed_allocation": "base_plus_usage",
    "baseline_cost_per_call": "95.00",
    "base_share_pct": "25.00",
}


def _rate_next_month(world: World, actor: str) -> dict[str, str]:
    return {**_RATE_FIGURES, "effective_from": _future_months()[0].isoformat()}


def _rate_after_next(world: World, actor: str) -> dict[str, str]:
    return {**_RATE_FIGURES, "effective_from": _future_months()[1].isoformat()}


FUTURE_RATE = {"path": {"rate_id": "rate_id"}, "prepare": _a_future_rate}
# A personal API token: only its owner sees or revokes it; anyone else gets 404.
TOKEN_OWNER = expect(401, OK, 404, 404, 404, 404)
NOT_BY_TOKEN = expect(401, 403, 403, 403, 403, 403)


def _an_agent_token(world: World, session, client) -> None:
    """An unrevoked API token of the agent's: made once, again after the agent revoked it."""
    session.expire_all()
    token = session.get(ApiToken, world.token_id) if world.token_id else None
    if token is None or token.revoked_at is not None:
        value = auth_service.issue_api_token(session=session, user=world.users["agent"], name="M")
        sha256 = auth_service.token_sha256(value)
        token = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == sha256)).one()
    session.commit()
    world.token_id = token.id


AGENT_TOKEN = {"path": {"token_id": "token_id"}, "prepare": _an_agent_token}


def _an_open_survey(world: World, session, client) -> None:
    """The survey invite of the agent's call, unanswered (again after an actor answered it)."""
    from hotline.insight.survey import answer_token, ensure_invite

    settings = client.app.state.settings
    invite = ensure_invite(session=session, call_id=world.call_id, settings=settings)
    invite.answered_at = invite.score = invite.suggested_class = None
    invite.confirmed_class = invite.confirmed_by_id = invite.confirmed_at = None
    invite.comment = ""
    session.commit()
    world.survey_id, world.survey_code = invite.id, invite.code
    world.survey_token = answer_token(invite.code, settings.secret_key)


def _an_answered_survey(world: World, session, client) -> None:
    """The invite answered with a comment whose class no supervisor has confirmed."""
    from hotline.db import utcnow

    _an_open_survey(world, session, client)
    invite = session.get(SurveyInvite, world.survey_id)
    invite.answered_at, invite.score, invite.suggested_class = utcnow(), 2, "sceptical"
    invite.comment = "Venlig, men lang ventetid."
    session.commit()


def _survey_answer(world: World, actor: str) -> dict[str, str]:
    return {"token": world.survey_token, "score": "4", "comment": "Tak for hjælpen."}


SURVEY_PAGE = {"path": {"code": "survey_code"}, "prepare": _an_open_survey}
# A background download: only the user who started it (the supervisor) gets it; anyone else who
# may read reports gets 404, as if it did not exist.
REPORT_JOB_OWNER = expect(401, 403, OK, 404, 403, 403)


def _a_finished_report_job(world: World, session, client) -> None:
    """A zip the supervisor started, finished: made once."""
    import time
    import zipfile

    if world.report_job_id is not None:
        return
    jobs, owner = client.app.state.report_jobs, world.users["supervisor"].id
    job = jobs.start(
        owner_id=owner, params=[("from", "2026-11-01")], label="", filename="afregning.zip",
        total=1, work=lambda target, progress: zipfile.ZipFile(target, "w").close(),
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not jobs.get(job.id, owner_id=owner).finished and time.monotonic() < deadline:
        time.sleep(0.02)
    world.report_job_id = job.id


REPORT_JOB = {"path": {"job_id": "report_job_id"}, "prepare": _a_finished_report_job}
SURVEY_ANSWER = {"path": {"invite_id": "survey_id"}, "prepare": _an_answered_survey}

MATRIX: dict[tuple[str, str], Case] = {
    # FastAPI's generated API description: public, it holds no data (the HTML routes are left out).
    ("GET", "/openapi.json"): Case(PUBLIC),
    ("GET", "/docs"): Case(PUBLIC),
    ("GET", "/healthz"): Case(PUBLIC),
    # The telephony platform authenticates with the secret in the path, not as a user.
    ("POST", "/api/cti/{token}"): Case(PUBLIC, json=_new_call_event),
    # --- calls (JSON) ---
    ("GET", "/api/calls"): Case(HOTLINE_STAFF, params={"state": "waiting"}),
    ("POST", "/api/calls/next"): Case(CALL_TAKERS, prepare=_offer_a_fresh_call),
    ("POST", "/api/calls/{call_id}/claim"): Case(CALL_TAKERS, **CLAIM),
    ("GET", "/api/calls/{call_id}"): Case(HOTLINE_STAFF),
    ("POST", "/api/calls/{call_id}/municipality"): Case(CALL_OWNER, json={"code": AARHUS}),
    ("POST", "/api/calls/{call_id}/notes"): Case(CALL_OWNER, json={"notes": "Spørger om pas."}),
    ("POST", "/api/calls/{call_id}/wrap-up"): Case(CALL_OWNER, json=WRAP_UP),
    # --- municipalities and rules (JSON): the shared knowledge bank, for everyone signed in ---
    ("GET", "/api/municipalities"): Case(SIGNED_IN, params={"q": "Aarhus"}),
    ("GET", "/api/municipalities/{code}"): Case(SIGNED_IN),
    ("GET", "/api/rules/resolve"): Case(SIGNED_IN, rules=True, params=RULE_QUERY),
    ("GET", "/api/rules/topics"): Case(SIGNED_IN, rules=True, params={"municipality": AARHUS}),
    ("GET", "/api/rules/search"): Case(
        SIGNED_IN, rules=True, params={"municipality": AARHUS, "q": "pas"}
    ),
    ("PUT", "/api/rules/local/{code}/{slug}"): Case(
        AARHUS_RULE_EDITORS, rules=True, json=_local_rule_body, prepare=_newest_rule_version
    ),
    # Past versions of a rule are knowledge-bank text like the resolved rule with its provenance.
    ("GET", "/api/rules/local/{code}/{slug}/history"): Case(SIGNED_IN, rules=True),
    # A draft is not yet knowledge-bank text: only those who may publish it see it.
    ("GET", "/api/rules/local/{code}/{slug}/draft"): Case(**DRAFT),
    ("PUT", "/api/rules/local/{code}/{slug}/draft"): Case(json=_draft_body, **DRAFT),
    ("DELETE", "/api/rules/local/{code}/{slug}/draft"): Case(
        params=lambda w, a: {"revision": w.draft_revision}, **DRAFT
    ),
    ("GET", "/api/rules/local/{code}/{slug}/draft/preview"): Case(**DRAFT),
    ("POST", "/api/rules/local/{code}/{slug}/draft/publish"): Case(
        params=lambda w, a: {"revision": w.draft_revision}, **DRAFT
    ),
    # --- letters (JSON) ---
    ("GET", "/api/replies"): Case(
        HOTLINE_STAFF, params=lambda w, a: {"call_id": w.call_id}, **REPLIES
    ),
    ("POST", "/api/calls/{call_id}/replies"): Case(CALL_OWNER, rules=True, json=PDF_REPLY_JSON),
    ("GET", "/api/replies/{reply_id}.pdf"): Case(AARHUS_ARCHIVE, **REPLIES),
    ("POST", "/api/replies/{reply_id}/retry"): Case(HOTLINE_STAFF, **RETRY),
    ("GET", "/api/archive"): Case(
        AARHUS_ARCHIVE_SEARCH, params={"municipality": AARHUS}, **REPLIES
    ),
    # --- reports (JSON) ---
    ("GET", "/api/reports/cost.csv"): Case(SUPERVISORS, params=_this_month),
    # --- monthly insight: supervisors and system admins see every municipality's, a
    # municipality's admins their own (the index lists each admin's own, so both admins get it) ---
    ("GET", "/api/insight/{code}/report.pdf"): Case(CALLBACK_READERS),
    ("GET", "/insight"): Case(expect(401, 403, OK, OK, OK, OK)),
    ("GET", "/insight/{code}"): Case(CALLBACK_READERS),
    # --- satisfaction survey: the citizen's page needs no login (the code is the key); the
    # call's agent makes the link; results for supervisors and (scoped) municipality admins ---
    ("GET", "/t/{code}"): Case(PUBLIC, **SURVEY_PAGE),
    ("POST", "/t/{code}"): Case(PUBLIC, data=_survey_answer, **SURVEY_PAGE),
    ("POST", "/console/calls/{call_id}/survey-link"): Case(CALL_OWNER),
    ("GET", "/console/survey"): Case(CALL_TAKERS),
    ("GET", "/supervisor/survey"): Case(SUPERVISORS, prepare=_an_answered_survey),
    ("POST", "/supervisor/survey/{invite_id}/class"): Case(
        SUPERVISORS, data={"comment_class": "negative"}, **SURVEY_ANSWER
    ),
    ("GET", "/admin/survey"): Case(CALLBACK_READERS, params={"municipality": AARHUS}),
    ("GET", "/api/survey/results"): Case(
        CALLBACK_READERS, params=lambda w, a: {**_this_month(w, a), "municipality": AARHUS}
    ),
    # --- the user's own account: everyone signed in; a token only for its owner (the agent) ---
    ("GET", "/account"): Case(SIGNED_IN),
    ("POST", "/account/tokens"): Case(SIGNED_IN, data={"name": "Regneark"}),
    ("POST", "/account/tokens/{token_id}/revoke"): Case(TOKEN_OWNER, **AGENT_TOKEN),
    ("POST", "/account/logout-everywhere"): Case(SIGNED_IN),
    ("GET", "/api/account/tokens"): Case(SIGNED_IN),
    # Not with a token (a leaked one could make others and outlive its revocation): a login only.
    ("POST", "/api/account/tokens"): Case(NOT_BY_TOKEN, json={"name": "Regneark"}),
    ("POST", "/api/account/tokens/{token_id}/revoke"): Case(TOKEN_OWNER, **AGENT_TOKEN),
    ("POST", "/api/account/logout-everywhere"): Case(SIGNED_IN),
    # --- right of access: everything stored about a caller number; system admins only ---
    ("GET", "/api/privacy/access"): Case(SYSTEM_ADMINS, params={"number": "+4520123456"}),
    ("GET", "/admin/privacy/access"): Case(SYSTEM_ADMINS),
    ("POST", "/admin/privacy/access"): Case(SYSTEM_ADMINS, data={"number": "20 12 34 56"}),
    # --- the audit log: supervisors and system admins search and export it ---
    ("GET", "/api/audit/entries"): Case(SUPERVISORS),
    ("GET", "/api/audit/entries.csv"): Case(SUPERVISORS),
    ("GET", "/admin/audit"): Case(SUPERVISORS),
    ("GET", "/api/reports/calls.csv"): Case(SUPERVISORS, params=_this_month),
    ("GET", "/api/reports/cost.pdf"): Case(SUPERVISORS, params=_this_month),
    ("GET", "/api/reports/cost-rates"): Case(SUPERVISORS),
    ("POST", "/api/reports/cost-rates"): Case(
        SUPERVISORS, json=_rate_next_month, prepare=_a_future_rate
    ),
    ("GET", "/api/reports/cost-rates/{rate_id}"): Case(SUPERVISORS, **FUTURE_RATE),
    ("PUT", "/api/reports/cost-rates/{rate_id}"): Case(
        SUPERVISORS, json=_rate_after_next, **FUTURE_RATE
    ),
    ("DELETE", "/api/reports/cost-rates/{rate_id}"): Case(SUPERVISORS, **FUTURE_RATE),
    ("GET", "/supervisor/cost-model"): Case(SUPERVISORS),
    ("POST", "/supervisor/cost-model"): Case(
        SUPERVISORS, data=_rate_next_month, prepare=_a_future_rate
    ),
    ("POST", "/supervisor/cost-model/{rate_id}"): Case(
        SUPERVISORS, data=_rate_after_next, **FUTURE_RATE
    ),
    ("POST", "/supervisor/cost-model/{rate_id}/delete"): Case(SUPERVISORS, **FUTURE_RATE),
    ("GET", "/api/reports/cost.xlsx"): Case(SUPERVISORS, params=_this_month),
    # The bill bases zipped in the background: started with the report's filters, then followed
    # and fetched by the one who started it.
    ("POST", "/supervisor/report-jobs"): Case(SUPERVISORS, data=_this_month),
    ("GET", "/supervisor/report-jobs/{job_id}"): Case(REPORT_JOB_OWNER, **REPORT_JOB),
    ("GET", "/supervisor/report-jobs/{job_id}/download"): Case(REPORT_JOB_OWNER, **REPORT_JOB),
    # --- HTML: signing in and out ---
    ("GET", "/"): Case(SIGNED_IN),
    ("GET", "/favicon.ico"): Case(PUBLIC),
    ("GET", "/login"): Case(PUBLIC),
    ("POST", "/login"): Case(PUBLIC, data=_login_form),
    ("POST", "/logout"): Case(PUBLIC),
    # --- HTML: the agent console ---
    ("GET", "/console"): Case(CALL_TAKERS),
    ("GET", "/console/queue"): Case(CALL_TAKERS),
    # The live stream (server-sent events) of the queue and the agent's own state; here it ends
    # after its first render (see _short_live_streams).
    ("GET", "/console/stream"): Case(CALL_TAKERS),
    # Available or away: each call taker for themselves, once their call is wrapped up.
    ("POST", "/console/state"): Case(
        CALL_TAKERS, data={"state": "available"}, prepare=_offer_a_fresh_call
    ),
    ("POST", "/console/calls/next"): Case(CALL_TAKERS, prepare=_offer_a_fresh_call),
    ("POST", "/console/calls/{call_id}/claim"): Case(CALL_TAKERS, **CLAIM),
    ("GET", "/console/municipalities"): Case(
        CALL_TAKERS, params=lambda w, a: {"q": "aarh", "call_id": w.call_id}
    ),
    ("POST", "/console/calls/{call_id}/municipality"): Case(CALL_OWNER, data={"code": AARHUS}),
    ("POST", "/console/calls/{call_id}/notes"): Case(CALL_OWNER, data={"notes": "Spørger om pas."}),
    ("POST", "/console/calls/{call_id}/wrap-up"): Case(CALL_OWNER, data=WRAP_UP),
    ("GET", "/console/rules"): Case(SIGNED_IN, rules=True, params={"municipality": AARHUS}),
    ("GET", "/console/rules/{slug}"): Case(SIGNED_IN, rules=True, params={"municipality": AARHUS}),
    # --- HTML: the reply composer ---
    ("GET", "/console/calls/{call_id}/reply"): Case(HOTLINE_STAFF, rules=True),
    ("GET", "/console/calls/{call_id}/replies"): Case(HOTLINE_STAFF, **REPLIES),
    ("POST", "/console/calls/{call_id}/reply/preview"): Case(
        CALL_OWNER, rules=True, data=PDF_REPLY_FORM
    ),
    ("POST", "/console/calls/{call_id}/reply"): Case(CALL_OWNER, rules=True, data=PDF_REPLY_FORM),
    ("POST", "/console/replies/{reply_id}/retry"): Case(HOTLINE_STAFF, **RETRY),
    # --- HTML: local rules admin (scoped to the admin's municipalities) ---
    ("GET", "/admin/rules"): Case(AARHUS_RULE_EDITORS, rules=True, params={"municipality": AARHUS}),
    ("GET", "/admin/rules/{code}/{slug}"): Case(AARHUS_RULE_EDITORS, rules=True),
    ("GET", "/admin/rules/{code}/{slug}/history"): Case(AARHUS_RULE_EDITORS, rules=True),
    # Restores the newest version (always there) as a new one, on top of the newest version.
    ("POST", "/admin/rules/{code}/{slug}/restore/{version}"): Case(
        AARHUS_RULE_EDITORS,
        rules=True,
        data=_expected_version_form,
        path={"version": "local_version"},
        prepare=_newest_rule_version,
    ),
    ("POST", "/admin/rules/{code}/{slug}/review"): Case(
        AARHUS_RULE_EDITORS, rules=True, data=_expected_version_form, prepare=_newest_rule_version
    ),
    # The edit form's draft buttons: save, preview (saves nothing), publish, discard.
    ("POST", "/admin/rules/{code}/{slug}/draft"): Case(data=_draft_form, **DRAFT),
    ("POST", "/admin/rules/{code}/{slug}/draft/preview"): Case(data=_draft_form, **DRAFT),
    ("POST", "/admin/rules/{code}/{slug}/draft/publish"): Case(data=_draft_form, **DRAFT),
    ("POST", "/admin/rules/{code}/{slug}/draft/discard"): Case(data=_draft_revision_form, **DRAFT),
    # --- HTML: supervisor ---
    ("GET", "/supervisor"): Case(SUPERVISORS),
    # The live board: agents, their states and calls, the waiting calls; and its stream.
    ("GET", "/supervisor/board"): Case(SUPERVISORS),
    # The calls behind the cost report, without personal data.
    ("GET", "/supervisor/calls"): Case(SUPERVISORS, params=_this_month),
    ("GET", "/supervisor/stream"): Case(SUPERVISORS),
    # --- HTML: the reply archive ---
    ("GET", "/arkiv"): Case(AARHUS_ARCHIVE_SEARCH, params={"municipality": AARHUS}, **REPLIES),
    # --- rule flags: staff flag a rule (JSON and console), Aarhus's admins list and close them ---
    ("POST", "/api/rules/flags"): Case(RULE_FLAGGERS, rules=True, json=FLAG_JSON),
    ("GET", "/api/rules/flags"): Case(
        AARHUS_RULE_EDITORS, rules=True, params={"municipality": AARHUS}, prepare=_open_flag
    ),
    ("POST", "/api/rules/flags/{flag_id}/close"): Case(
        AARHUS_RULE_EDITORS, json={"resolution": "Rettet."}, **FLAG_CLOSE
    ),
    ("POST", "/console/rules/{slug}/flags"): Case(RULE_FLAGGERS, rules=True, data=FLAG_FORM),
    ("GET", "/admin/rules/flags"): Case(
        AARHUS_RULE_EDITORS, rules=True, params={"municipality": AARHUS}, prepare=_open_flag
    ),
    ("POST", "/admin/rules/flags/{flag_id}/close"): Case(
        AARHUS_RULE_EDITORS, data={"resolution": "Rettet."}, **FLAG_CLOSE
    ),
    # --- search words: Aarhus's admins keep Aarhus's synonyms and read its knowledge gaps ---
    ("GET", "/api/synonyms/{code}"): Case(AARHUS_RULE_EDITORS),
    ("POST", "/api/synonyms/{code}"): Case(AARHUS_RULE_EDITORS, json=_synonym_line),
    ("DELETE", "/api/synonyms/{code}/{synonym_id}"): Case(AARHUS_RULE_EDITORS, **SYNONYM),
    ("GET", "/admin/search"): Case(AARHUS_RULE_EDITORS, params={"municipality": AARHUS}),
    ("POST", "/admin/search/{code}/synonyms"): Case(AARHUS_RULE_EDITORS, data=_synonym_line),
    ("POST", "/admin/search/{code}/synonyms/{synonym_id}/delete"): Case(
        AARHUS_RULE_EDITORS, **SYNONYM
    ),
    # --- Borgerservice essentials: public facts for everyone signed in; Aarhus's admins edit ---
    ("GET", "/api/municipalities/{code}/essentials"): Case(SIGNED_IN),
    ("GET", "/console/essentials"): Case(SIGNED_IN, params={"municipality": AARHUS}),
    ("GET", "/admin/essentials"): Case(AARHUS_RULE_EDITORS, params={"municipality": AARHUS}),
    ("POST", "/admin/essentials/{code}"): Case(AARHUS_RULE_EDITORS, data=ESSENTIALS_FORM),
    # --- callbacks: the agent books one on their call; Aarhus's admins list and handle them ---
    ("POST", "/api/calls/{call_id}/callbacks"): Case(CALL_OWNER, json=CALLBACK_BOOKING),
    ("GET", "/api/callbacks"): Case(CALLBACK_READERS, params={"municipality": AARHUS}),
    ("POST", "/api/callbacks/{callback_id}/done"): Case(
        AARHUS_RULE_EDITORS, json={"note": "Ringet op."}, **CALLBACK_DONE
    ),
    ("GET", "/console/calls/{call_id}/callback"): Case(CALL_OWNER),
    ("POST", "/console/calls/{call_id}/callback"): Case(CALL_OWNER, data=CALLBACK_BOOKING),
    ("GET", "/admin/callbacks"): Case(
        CALLBACK_READERS, params={"municipality": AARHUS}, prepare=_open_callback
    ),
    ("POST", "/admin/callbacks/{callback_id}/done"): Case(
        AARHUS_RULE_EDITORS, data={"note": "Ringet op."}, **CALLBACK_DONE
    ),
    # --- contact reasons: staff read them, supervisors and system admins keep the taxonomy ---
    ("GET", "/api/contact-reasons"): Case(HOTLINE_STAFF, params={"include_inactive": True}),
    ("POST", "/api/contact-reasons"): Case(SUPERVISORS, json=_new_reason),
    ("PUT", "/api/contact-reasons/order"): Case(SUPERVISORS, json=REASON_ORDER),
    ("PATCH", "/api/contact-reasons/{code}"): Case(SUPERVISORS, json=_renamed_reason, **REASON),
    ("DELETE", "/api/contact-reasons/{code}"): Case(SUPERVISORS, **SPARE_REASON),
    ("GET", "/supervisor/contact-reasons"): Case(SUPERVISORS),
    ("POST", "/supervisor/contact-reasons"): Case(SUPERVISORS, data=_new_reason),
    ("POST", "/supervisor/contact-reasons/{code}/rename"): Case(
        SUPERVISORS, data=_renamed_reason, **REASON
    ),
    ("POST", "/supervisor/contact-reasons/{code}/move"): Case(
        SUPERVISORS, data={"direction": "up"}, **REASON
    ),
    ("POST", "/supervisor/contact-reasons/{code}/active"): Case(
        SUPERVISORS, data={"active": "false"}, **REASON
    ),
    ("POST", "/supervisor/contact-reasons/{code}/delete"): Case(SUPERVISORS, **SPARE_REASON),
    # --- users: system admins manage them (nobody else sees them) ---
    ("GET", "/admin/users"): Case(SYSTEM_ADMINS, params={"role": "agent", "q": "a"}),
    ("GET", "/admin/users/new"): Case(SYSTEM_ADMINS),
    ("POST", "/admin/users"): Case(SYSTEM_ADMINS, data=_new_user_form),
    ("GET", "/admin/users/{user_id}"): Case(SYSTEM_ADMINS, **MANAGED_USER),
    ("POST", "/admin/users/{user_id}"): Case(SYSTEM_ADMINS, data=USER_FORM, **MANAGED_USER),
    ("POST", "/admin/users/{user_id}/deactivate"): Case(SYSTEM_ADMINS, **MANAGED_USER),
    ("POST", "/admin/users/{user_id}/reactivate"): Case(
        SYSTEM_ADMINS, path={"user_id": "user_id"}, prepare=_an_inactive_user
    ),
    ("POST", "/admin/users/{user_id}/password"): Case(
        SYSTEM_ADMINS, data=PASSWORD_FORM, **MANAGED_USER
    ),
    # --- CTI integrations (the webhook's tokens): system admins ---
    ("GET", "/admin/cti"): Case(SYSTEM_ADMINS),
    ("POST", "/admin/cti"): Case(SYSTEM_ADMINS, data={"name": "Ny telefoni"}),
    ("POST", "/admin/cti/rotate"): Case(SYSTEM_ADMINS, **CTI_NAME),
    ("POST", "/admin/cti/revoke"): Case(SYSTEM_ADMINS, **CTI_NAME),
}


def app_routes(app) -> set[tuple[str, str]]:
    """Every (method, path template) the app serves; /static and HEAD twins left out."""
    try:  # FastAPI >= 0.120 keeps included routers as wrappers; this flattens them.
        from fastapi.routing import iter_route_contexts

        contexts = list(iter_route_contexts(app.routes))
    except ImportError:
        contexts = list(app.routes)
    found = set()
    for context in contexts:
        route = getattr(context, "original_route", context)
        path = context.path
        if isinstance(route, Mount) and path == "/static":
            continue
        if not isinstance(route, APIRoute | Route):
            found.add((type(route).__name__, path))  # unknown kind: must be listed deliberately
            continue
        methods = set(context.methods or ())
        if "GET" in methods:
            methods.discard("HEAD")
        found.update((method, path) for method in methods)
    return found


def test_matrix_lists_every_route(app):
    served = app_routes(app)
    missing = sorted(served - MATRIX.keys())
    gone = sorted(MATRIX.keys() - served)
    assert not missing, f"routes without an entry in MATRIX: {missing}"
    assert not gone, f"MATRIX entries for routes the app no longer serves: {gone}"


@pytest.fixture(autouse=True)
def _short_live_streams(monkeypatch):
    """A live stream ends after its first render: it would otherwise run for half an hour."""
    monkeypatch.setattr(live_views, "STREAM_MAX_SECONDS", 0)


def _offer_call(client: TestClient, session, cti_id: str, caller: str = "+4530303030") -> int:
    """The telephony platform offers a call on the Aarhus line; returns its id."""
    event = {"event": "newCall", "callId": cti_id, "from": caller, "to": LINES[AARHUS]}
    response = client.post(f"/api/cti/{client.app.state.settings.cti_token}", json=event)
    assert response.status_code == 200, response.text
    call_id = session.scalar(select(Call.id).where(Call.cti_call_id == cti_id))
    session.rollback()
    return call_id


@pytest.fixture
def world_factory(session, settings, client, make_user):
    """Arrange the data: world_factory(rules=..., needs_reply=...) -> World."""

    def build(rules: bool = False, needs_reply: bool = False) -> World:
        for code, line in LINES.items():
            municipality = session.get(Municipality, code)
            municipality.participating, municipality.dialled_number = True, line
        if rules or needs_reply:
            # Only where a route uses them: parsing the knowledge base is the slowest step here.
            import_rules(session=session, directory=settings.kb_rules_dir)
        seed_contact_reasons(session=session)
        ensure_default_cost_rate(session=session)
        session.commit()
        users = {
            "agent": make_user(Role.AGENT, username="karen", full_name="Karen Ærbødig"),
            "supervisor": make_user(Role.SUPERVISOR, username="sven"),
            "system_admin": make_user(Role.SYSTEM_ADMIN, username="sys"),
            "admin_own": make_user(Role.MUNICIPALITY_ADMIN, AARHUS, username="aarhus-admin"),
            "admin_other": make_user(Role.MUNICIPALITY_ADMIN, AALBORG, username="aalborg-admin"),
        }
        # Two calls on the Aarhus line; the platform reports that Karen answered the first.
        call_id = _offer_call(client, session, "matrix-1", caller="+4520123456")
        answer = {"event": "answer", "callId": "matrix-1", "user": "karen"}
        assert client.post(f"/api/cti/{settings.cti_token}", json=answer).status_code == 200
        waiting_id = _offer_call(client, session, "matrix-2", caller="+4521654321")
        call, waiting = session.get(Call, call_id), session.get(Call, waiting_id)
        assert call.state == CallState.ACTIVE and call.agent_id == users["agent"].id
        assert call.municipality_code == AARHUS and waiting.state == CallState.WAITING
        world = World(users, call_id, waiting_id)
        if rules:
            local = get_rule(session=session, topic_slug=SLUG, municipality_code=AARHUS)
            world.local_version = local.current_version
        if needs_reply:
            # An e-mail reply: it archives the PDF like a letter, and can fail and be retried.
            form = ReplyIn(**_reply_fields(Channel.EMAIL))
            reply = create_reply(
                session=session, call=call, author=users["agent"], form=form, settings=settings
            )
            world.reply_id = reply.id
        session.commit()
        return world

    return build


def actor_client(actor: str, path: str, world: World, client, login, api_client) -> TestClient:
    """A bearer-token client for /api routes, the session cookie (with CSRF) for the rest."""
    # Each actor starts as a fresh browser: no cookie, no CSRF header of the previous one.
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    if actor == "anonymous":
        # A browser that has loaded the login page: a session with a CSRF token, but no user.
        page = client.get("/login")
        marker = 'name="csrf_token" value="'
        start = page.text.index(marker) + len(marker)
        client.headers["X-CSRF-Token"] = page.text[start : page.text.index('"', start)]
        return client
    user = world.users[actor]
    return api_client(user) if path.startswith("/api/") else login(user)


def outcome(response) -> Any:
    """OK for 2xx/3xx, a login redirect counts as 401, otherwise the status code."""
    if response.is_redirect and response.headers["location"].startswith("/login?"):
        return 401
    return OK if 200 <= response.status_code < 400 else response.status_code


def fingerprint(session) -> tuple:
    """What a refused request must not change: calls, replies, rule versions and flags, contact
    reasons, CTI integrations, callbacks, cost rates, users, API tokens, survey invites, the
    audit log."""
    session.expire_all()
    calls = session.execute(
        select(Call.id, Call.state, Call.agent_id, Call.municipality_code, Call.notes).order_by(
            Call.id
        )
    ).all()
    replies = session.execute(select(Reply.id, Reply.status, Reply.attempts)).all()
    versions = session.scalar(select(func.count(RuleVersion.id)))
    audit = session.scalar(select(func.count(AuditEntry.id)))
    flags = session.execute(
        select(RuleFlag.id, RuleFlag.closed_at, RuleFlag.resolution).order_by(RuleFlag.id)
    ).all()
    drafts = session.execute(
        select(RuleDraft.id, RuleDraft.revision, RuleDraft.base_version, RuleDraft.content)
    ).all()
    reasons = session.execute(select(ContactReason.__table__).order_by(ContactReason.code)).all()
    integrations = session.execute(
        select(CtiIntegration.__table__).order_by(CtiIntegration.id)
    ).all()
    callbacks = _callback_rows(session)
    rates = session.execute(select(CostRate.__table__).order_by(CostRate.id)).all()
    users = _user_rows(session)
    tokens = session.execute(select(ApiToken.id, ApiToken.revoked_at).order_by(ApiToken.id)).all()
    surveys = session.execute(select(SurveyInvite.__table__).order_by(SurveyInvite.id)).all()
    session.rollback()  # end the read transaction, so SQLite lets the app write
    return (
        *(calls, replies, versions, audit, flags, drafts, reasons, integrations, callbacks),
        *(rates, users, tokens, surveys),
    )


def _user_rows(session) -> list:
    """Users as the user pages change them (not last_login_at: logging in is no change)."""
    from hotline.auth.models import user_municipalities

    columns = (User.id, User.username, User.full_name, User.email, User.role, User.is_active,
               User.session_epoch, User.password_hash)  # fmt: skip
    rows = session.execute(select(*columns).order_by(User.id)).all()
    return [rows, session.execute(select(user_municipalities).order_by("user_id")).all()]


def _resolve(value: Body | None, world: World, actor: str) -> dict[str, Any] | None:
    return value(world, actor) if callable(value) else value


@pytest.mark.parametrize(("method", "path"), list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_permission(
    method, path, subtests, world_factory, session, client, login, api_client, settings
):
    case = MATRIX[(method, path)]
    world = world_factory(rules=case.rules, needs_reply=case.needs_reply)
    # Refused actors first, on untouched data; then each allowed one, after the prepare step.
    for actor in sorted(ACTORS, key=lambda a: case.expected[a] == OK):
        expected = case.expected[actor]
        with subtests.test(msg=f"{method} {path} as {actor}"):
            if case.prepare:
                case.prepare(world, session, client)
            values = {
                "call_id": world.call_id,
                "reply_id": world.reply_id,
                "code": AARHUS,
                "slug": SLUG,
                "token": settings.cti_token,
            }
            values.update({name: getattr(world, attr) for name, attr in case.path.items()})
            http = actor_client(actor, path, world, client, login, api_client)
            before = fingerprint(session) if expected != OK else None
            response = http.request(
                method,
                path.format(**values),
                params=_resolve(case.params, world, actor),
                json=_resolve(case.json, world, actor),
                data=_resolve(case.data, world, actor),
                headers={"Accept": "application/json" if path.startswith("/api/") else "text/html"},
                follow_redirects=False,
            )
            got = outcome(response)
            assert "no-store" in response.headers.get("cache-control", ""), (
                f"{method} {path} as {actor}: may be stored ({response.headers})"
            )
            assert got == expected, (
                f"{method} {path} as {actor}: expected {expected}, got {response.status_code} "
                f"{response.headers.get('location', '')} {response.text[:300]}"
            )
            if got != OK:
                assert fingerprint(session) == before, f"refused {method} {path} changed data"


def test_cookie_posts_without_the_csrf_token_are_refused(world_factory, session, login):
    world = world_factory()
    client = login(world.users["agent"])
    token = client.headers.pop("X-CSRF-Token")
    html = f"/console/calls/{world.call_id}/notes"
    api = f"/api/calls/{world.call_id}/notes"

    for sent in (None, "forged-token"):
        headers = {"Accept": "text/html"} | ({"X-CSRF-Token": sent} if sent else {})
        response = client.post(html, data={"notes": "Forfalsket."}, headers=headers)
        assert response.status_code == 403, (sent, response.status_code)
        response = client.post(api, json={"notes": "Forfalsket."}, headers=headers)
        assert response.status_code == 403, (sent, response.status_code)
        assert response.json()["error"] == "error.csrf"
    session.expire_all()
    assert session.get(Call, world.call_id).notes in (None, "")

    # The same requests with the session's token go through: the refusal was the CSRF check.
    with_token = {"X-CSRF-Token": token}
    assert client.post(api, json={"notes": "Ægte."}, headers=with_token).status_code == 200
    response = client.post(
        html, data={"notes": "Ægte."}, headers=with_token, follow_redirects=False
    )
    assert response.status_code == 303

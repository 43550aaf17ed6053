"""The one-question satisfaction survey: a call's invite and short code, the citizen's answer.

The code is the only key to a survey: 8 characters from 31 unambiguous ones (about 40 bits),
made with `secrets`. The public page has no session, so its form is protected by the code and a
hidden field signed with the app's secret for that code (see docs/decisions.md).
"""

import secrets
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import User
from hotline.calls.models import Call
from hotline.config import Settings
from hotline.db import utcnow
from hotline.insight.classify import suggest_class
from hotline.insight.models import COMMENT_CLASSES, SurveyInvite
from hotline.kit.cpr import mask_cpr
from hotline.kit.errors import InvalidInput, NotFound

# No 0/O, 1/I/L: a code read out on the phone or typed from a text message is not misread.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MAX_CODE_TRIES = 5
MAX_COMMENT_LENGTH = 1000
SCORES = range(1, 6)
_SALT = "hotline.survey-answer"


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str | None:
    """The code as stored, from what a citizen typed ("k7m2 qx8p"); None if it cannot be one."""
    code = "".join(raw.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def grouped(code: str) -> str:
    """The code in groups of four, for reading out: "K7M2 QX8P"."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def survey_url(base_url: str, code: str) -> str:
    """The short link: <base>/t/<code>."""
    return f"{base_url.rstrip('/')}/t/{code}"


def ensure_invite(
    *, session: Session, call_id: int, settings: Settings, now: datetime | None = None
) -> SurveyInvite:
    """The call's invite, made now if it has none (it expires HOTLINE_SURVEY_DAYS later)."""
    now = now or utcnow()
    for _ in range(MAX_CODE_TRIES):
        invite = session.scalar(select(SurveyInvite).where(SurveyInvite.call_id == call_id))
        if invite is not None:
            return invite
        invite = SurveyInvite(
            call_id=call_id,
            code=new_code(),
            created_at=now,
            expires_at=now + timedelta(days=settings.survey_days),
            comment="",
        )
        try:
            with session.begin_nested():
                session.add(invite)
        except IntegrityError:
            # The code was taken, or another request made this call's invite first: look again.
            continue
        return invite
    raise RuntimeError(f"no free survey code for call {call_id} after {MAX_CODE_TRIES} tries")


def survey_link_for_mail(
    *, session: Session, call_id: int | None, settings: Settings
) -> str | None:
    """The link for a reply e-mail; None without HOTLINE_PUBLIC_URL or when it would not work."""
    if not settings.public_url or call_id is None:
        return None
    invite = ensure_invite(session=session, call_id=call_id, settings=settings)
    if invite.answered_at is not None or invite.expires_at <= utcnow():
        return None
    return survey_url(settings.public_url, invite.code)


def open_invite(*, session: Session, code: str, now: datetime | None = None) -> SurveyInvite | None:
    """The invite of a code that exists and has not expired (answered or not); else None."""
    normalized = normalize_code(code)
    if normalized is None:
        return None
    invite = session.scalar(select(SurveyInvite).where(SurveyInvite.code == normalized))
    if invite is None or invite.expires_at <= (now or utcnow()):
        return None
    return invite


def answer_token(code: str, secret_key: str) -> str:
    """The hidden field of the survey form: the code, signed with the app's secret."""
    return URLSafeSerializer(secret_key, salt=_SALT).dumps(code)


def token_fits(token: str, code: str, secret_key: str) -> bool:
    """Whether a posted hidden field was signed by us for this code."""
    try:
        return URLSafeSerializer(secret_key, salt=_SALT).loads(token) == code
    except BadSignature:
        return False


def parse_score(raw: str | None) -> int | None:
    """The score 1-5 from a form field; None when missing or anything else."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and int(raw) in SCORES else None


def clean_comment(comment: str) -> str:
    """The comment as stored: CPR numbers masked, at most MAX_COMMENT_LENGTH characters."""
    return mask_cpr(comment.replace("\r\n", "\n").strip())[:MAX_COMMENT_LENGTH]


def answer_survey(
    *, session: Session, invite_id: int, score: int, comment: str, now: datetime | None = None
) -> bool:
    """Store the answer unless the survey was answered (or expired) first; True if stored."""
    if score not in SCORES:
        raise InvalidInput("survey.score_required")
    now = now or utcnow()
    comment = clean_comment(comment)
    suggestion = suggest_class(comment, score)
    # One UPDATE guarded by "not answered yet": of two answers at once, exactly one is stored.
    result = session.execute(
        update(SurveyInvite)
        .where(
            SurveyInvite.id == invite_id,
            SurveyInvite.answered_at.is_(None),
            SurveyInvite.expires_at > now,
        )
        .values(
            answered_at=now,
            score=score,
            comment=comment,
            suggested_class=suggestion.comment_class,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def confirm_class(
    *, session: Session, invite_id: int, comment_class: str, user: User
) -> SurveyInvite:
    """A supervisor confirms the suggested class of an answer's comment, or changes it."""
    if comment_class not in COMMENT_CLASSES:
        raise InvalidInput("survey.bad_class")
    invite = session.get(SurveyInvite, invite_id)
    if invite is None or invite.answered_at is None or not invite.comment:
        raise NotFound("survey.answer_not_found")
    before = {"suggested_class": invite.suggested_class, "confirmed_class": invite.confirmed_class}
    invite.confirmed_class = comment_class
    invite.confirmed_by_id = user.id
    invite.confirmed_at = utcnow()
    session.flush()
    call = session.get(Call, invite.call_id)
    record_change(
        session=session,
        actor=user,
        action="survey.classify",
        entity_type="survey_invite",
        entity_id=str(invite.id),
        municipality_code=call.municipality_code or call.line_municipality_code,
        before=before,
        after={"suggested_class": invite.suggested_class, "confirmed_class": comment_class},
    )
    return invite

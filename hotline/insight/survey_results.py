"""Satisfaction results per municipality, reason and month; the review queue; an agent's own.

An answer belongs to its call's billed municipality (the one the agent chose, else the line's),
to its call's contact reason, and to the Danish day and month it was given (as in the monthly
insight report).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.calls.models import Call, ContactReason
from hotline.insight.classify import Suggestion, suggest_class
from hotline.insight.models import COMMENT_CLASSES, SurveyInvite
from hotline.kit.dates import COPENHAGEN, MONTHS
from hotline.kit.errors import InvalidInput, PermissionDenied
from hotline.municipalities.models import Municipality
from hotline.reports.filters import BILLED_CODE
from hotline.reports.period import utc_midnight

ALL_MUNICIPALITIES = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)
MAX_PERIOD_DAYS = 3 * 366
# What a comment counts as: the supervisor's class once confirmed, the suggestion until then.
EFFECTIVE_CLASS = func.coalesce(SurveyInvite.confirmed_class, SurveyInvite.suggested_class)


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Stats:
    """Answers of a group: how many, their scores 1-5, and their comments' classes."""

    answers: int = 0
    score_sum: int = 0
    distribution: list[int] = field(default_factory=lambda: [0] * 5)
    classes: Counter = field(default_factory=Counter)

    def add(self, score: int, comment_class: str | None) -> None:
        """Count one answer."""
        self.answers += 1
        self.score_sum += score
        self.distribution[score - 1] += 1
        if comment_class in COMMENT_CLASSES:
            self.classes[comment_class] += 1

    @property
    def average(self) -> Decimal | None:
        """The average score, with two decimals."""
        if not self.answers:
            return None
        return (Decimal(self.score_sum) / self.answers).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def classified(self) -> int:
        """Answers whose comment has a class (answers without a comment have none)."""
        return sum(self.classes.values())

    def class_share(self, comment_class: str) -> Decimal | None:
        """The class's share of the classified comments, in per cent."""
        return _pct(self.classes[comment_class], self.classified)

    def as_json(self) -> dict:
        """The stats for the JSON API."""
        return {
            "answers": self.answers,
            "average": str(self.average) if self.average is not None else None,
            "distribution": {str(score): n for score, n in enumerate(self.distribution, 1)},
            "classified": self.classified,
            "classes": {name: self.classes[name] for name in COMMENT_CLASSES},
            "class_shares_pct": {
                name: str(share) if (share := self.class_share(name)) is not None else None
                for name in COMMENT_CLASSES
            },
        }


@dataclass
class SurveyResults:
    """The period's answers, grouped three ways, and how often the suggested class was right."""

    start: date
    end: date
    municipalities: tuple[str, ...] | None  # None: all of them
    total: Stats
    by_municipality: list[tuple[str, str, Stats]]
    by_reason: list[tuple[str, str, Stats]]
    by_month: list[tuple[str, str, Stats]]
    suggestions_right: int
    suggestions_confirmed: int

    def as_json(self) -> dict:
        """The results for the JSON API."""

        def groups(rows):
            return [{"key": key, "name": name, **stats.as_json()} for key, name, stats in rows]

        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "municipalities": list(self.municipalities) if self.municipalities else None,
            "total": self.total.as_json(),
            "by_municipality": groups(self.by_municipality),
            "by_reason": groups(self.by_reason),
            "by_month": groups(self.by_month),
            "suggestions": {
                "confirmed": self.suggestions_confirmed,
                "right": self.suggestions_right,
            },
        }


def readable_municipalities(user: User, requested: tuple[str, ...]) -> tuple[str, ...] | None:
    """The municipalities the user asks for and may see; None: all (supervisors, sys admins)."""
    if user.role in ALL_MUNICIPALITIES:
        return requested or None
    own = user.municipality_codes
    if set(requested) - own:
        raise PermissionDenied("error.permission_denied")
    return requested or tuple(sorted(own))


def month_label(key: str) -> str:
    """ "2026-11" as "november 2026"."""
    year, month = key.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def survey_results(
    *, session: Session, start: date, end: date, municipalities: tuple[str, ...] | None
) -> SurveyResults:
    """The answers given start..end (Danish dates, inclusive)."""
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput("survey.period_too_long", days=MAX_PERIOD_DAYS)
    query = (
        select(
            SurveyInvite.score,
            SurveyInvite.suggested_class,
            SurveyInvite.confirmed_class,
            SurveyInvite.answered_at,
            BILLED_CODE,
            Call.contact_reason_code,
        )
        .join(Call, Call.id == SurveyInvite.call_id)
        .where(
            SurveyInvite.answered_at >= utc_midnight(start),
            SurveyInvite.answered_at < utc_midnight(end + timedelta(days=1)),
        )
    )
    if municipalities is not None:
        query = query.where(BILLED_CODE.in_(municipalities))
    total = Stats()
    by_code: dict[str, Stats] = {}
    by_reason: dict[str, Stats] = {}
    by_month: dict[str, Stats] = {}
    right = confirmed = 0
    for score, suggested, confirmed_class, answered_at, code, reason in session.execute(query):
        comment_class = confirmed_class or suggested
        month = answered_at.astimezone(COPENHAGEN).strftime("%Y-%m")
        for stats in (
            total,
            by_code.setdefault(code or "", Stats()),
            by_reason.setdefault(reason or "", Stats()),
            by_month.setdefault(month, Stats()),
        ):
            stats.add(score, comment_class)
        if confirmed_class and suggested:
            confirmed += 1
            right += confirmed_class == suggested
    names = dict(session.execute(select(Municipality.code, Municipality.name)).all())
    labels = dict(session.execute(select(ContactReason.code, ContactReason.label)).all())
    return SurveyResults(
        start=start,
        end=end,
        municipalities=municipalities,
        total=total,
        by_municipality=sorted(
            ((code, names.get(code, ""), stats) for code, stats in by_code.items()),
            key=lambda row: (not row[0], row[1]),
        ),
        by_reason=sorted(
            ((code, labels.get(code, ""), stats) for code, stats in by_reason.items()),
            key=lambda row: (-row[2].answers, row[1]),
        ),
        by_month=[(key, month_label(key), by_month[key]) for key in sorted(by_month)],
        suggestions_right=right,
        suggestions_confirmed=confirmed,
    )


@dataclass(frozen=True)
class Answer:
    """An answer with a comment, as a supervisor or the agent reads it."""

    invite: SurveyInvite
    municipality_name: str
    reason_label: str
    suggestion: Suggestion  # as the word list reads the comment now: its words are the reason


def _answers(session: Session, query) -> list[Answer]:
    names = dict(session.execute(select(Municipality.code, Municipality.name)).all())
    labels = dict(session.execute(select(ContactReason.code, ContactReason.label)).all())
    return [
        Answer(
            invite=invite,
            municipality_name=names.get(code or "", ""),
            reason_label=labels.get(reason or "", ""),
            suggestion=suggest_class(invite.comment, invite.score),
        )
        for invite, code, reason in session.execute(query)
    ]


def _answer_query():
    return (
        select(SurveyInvite, BILLED_CODE, Call.contact_reason_code)
        .join(Call, Call.id == SurveyInvite.call_id)
        .where(SurveyInvite.answered_at.is_not(None), SurveyInvite.comment != "")
    )


def review_queue(*, session: Session, limit: int = 50) -> tuple[list[Answer], int]:
    """Comments whose class no supervisor has confirmed yet (newest first), and how many."""
    pending = SurveyInvite.confirmed_class.is_(None)
    query = _answer_query().where(pending).order_by(SurveyInvite.answered_at.desc()).limit(limit)
    count = session.scalar(
        select(func.count(SurveyInvite.id)).where(
            SurveyInvite.answered_at.is_not(None), SurveyInvite.comment != "", pending
        )
    )
    return _answers(session, query), count or 0


def recently_confirmed(*, session: Session, limit: int = 20) -> list[Answer]:
    """The comments most recently confirmed or changed, to correct a slip."""
    query = (
        _answer_query()
        .where(SurveyInvite.confirmed_class.is_not(None))
        .order_by(SurveyInvite.confirmed_at.desc(), SurveyInvite.id.desc())
        .limit(limit)
    )
    return _answers(session, query)


def agent_results(*, session: Session, user: User, limit: int = 10) -> tuple[Stats, list[Answer]]:
    """The answers to the user's own calls: their stats, and the latest comments."""
    own = Call.agent_id == user.id
    stats = Stats()
    rows = session.execute(
        select(SurveyInvite.score, EFFECTIVE_CLASS)
        .join(Call, Call.id == SurveyInvite.call_id)
        .where(SurveyInvite.answered_at.is_not(None), own)
    )
    for score, comment_class in rows:
        stats.add(score, comment_class)
    query = _answer_query().where(own).order_by(SurveyInvite.answered_at.desc()).limit(limit)
    return stats, _answers(session, query)

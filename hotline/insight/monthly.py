"""One municipality's month as the hotline heard it, next to the month before.

Calls and contact reasons come from the reports' roll-up; avoidable contacts, survey answers, rule
consultations and rule flags from hotline/insight/month_counts.py, which also masks the pages and
comments; what callers asked that the knowledge base lacks from hotline/insight/search_gaps.py.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.calls.models import ContactReason
from hotline.insight.month_counts import (
    TOP,
    Example,
    FlagLine,
    Line,
    avoidable_pages,
    consulted_topics,
    flagged_topics,
    survey_answers,
    topic_titles,
)
from hotline.insight.search_gaps import Gap, knowledge_gaps
from hotline.municipalities.models import Municipality
from hotline.reports.facts import Tally
from hotline.reports.period import month_end, next_month, period_tallies, utc_midnight


@dataclass(frozen=True)
class Figures:
    """A month's key figures for one municipality."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    elsewhere: int = 0
    lost: int = 0
    outgoing: int = 0
    avoidable: int = 0
    answers: int = 0  # survey answers with a score
    score_total: int = 0
    consultations: int = 0
    flags: int = 0

    @property
    def avoidable_pct(self) -> Decimal | None:
        """Avoidable contacts as a share of the answered calls, in per cent."""
        return _pct(self.avoidable, self.answered)

    @property
    def average_score(self) -> Decimal | None:
        """The average survey score (1-5), to one decimal."""
        if not self.answers:
            return None
        return (Decimal(self.score_total) / self.answers).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class InsightMonth:
    """Everything the monthly insight shows for one municipality."""

    code: str
    name: str
    month: date
    figures: Figures
    previous: Figures
    reasons: list[Line] = field(default_factory=list)
    pages: list[Line] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    scores: tuple[int, ...] = (0, 0, 0, 0, 0)  # answers per score 1..5
    comments: dict[str, list[str]] = field(default_factory=dict)  # class -> masked, newest first
    consulted: list[Line] = field(default_factory=list)
    flagged: list[FlagLine] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)  # searches the knowledge base did not answer

    @property
    def previous_month(self) -> date:
        """The first day of the month before."""
        return previous_month(self.month)


def previous_month(month: date) -> date:
    """The first day of the month before the month of the given day."""
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def insight_months(
    session: Session, municipalities: list[Municipality], month: date
) -> list[InsightMonth]:
    """The month's insight of each municipality (the roll-up is read once for all of them)."""
    before = previous_month(month)
    tallies, previous_tallies = _tallies(session, month), _tallies(session, before)
    labels = dict(session.execute(select(ContactReason.code, ContactReason.label)).all())
    return [
        _insight(session, m, month, tallies[m.code], previous_tallies[m.code], labels)
        for m in municipalities
    ]


def insight_month(session: Session, municipality: Municipality, month: date) -> InsightMonth:
    """One municipality's insight for the month."""
    return insight_months(session, [municipality], month)[0]


def _tallies(session: Session, month: date) -> dict[str, Tally]:
    by_month, counters = period_tallies(session, month, month_end(month))
    tallies: dict[str, Tally] = defaultdict(Tally)
    for (_, code), tally in by_month.items():
        tallies[code].add(tally)
    for code, counter in counters.items():
        tallies[code].counts.update(counter)
    return tallies


def _insight(session, municipality, month, tally, previous_tally, labels) -> InsightMonth:
    code, before = municipality.code, previous_month(month)
    bounds = (utc_midnight(before), utc_midnight(month), utc_midnight(next_month(month)))
    pages, previous_pages, examples = avoidable_pages(session, code, bounds, labels)
    scores, previous_scores, comments = survey_answers(session, code, bounds)
    consulted, consultations = consulted_topics(session, code, bounds)
    flagged, flags = flagged_topics(session, code, bounds)
    titles = topic_titles(session, code, [x.label for x in consulted + flagged])
    this_reasons, last_reasons = tally.of_kind("reason"), previous_tally.of_kind("reason")
    reasons = [
        Line(labels.get(key, key), n, last_reasons.get(key, 0))
        for key, n in sorted(this_reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    ]
    return InsightMonth(
        code=code,
        name=municipality.name,
        month=month,
        figures=_figures(tally, scores, consultations[1], flags[1]),
        previous=_figures(previous_tally, previous_scores, consultations[0], flags[0]),
        reasons=reasons,
        pages=[Line(page, n, previous_pages[page]) for page, n in pages.most_common(TOP)],
        examples=examples,
        scores=tuple(scores[score] for score in range(1, 6)),
        comments=comments,
        consulted=[Line(titles[x.label], x.count, x.previous) for x in consulted],
        flagged=[FlagLine(titles[x.label], x.open, x.closed) for x in flagged],
        gaps=knowledge_gaps(
            session=session, municipality_code=code, start=bounds[1], end=bounds[2], limit=2 * TOP
        ),
    )


def _figures(tally: Tally, scores: Counter, consultations: int, flags: int) -> Figures:
    return Figures(
        offered=tally.offered,
        answered=tally.answered,
        abandoned=tally.abandoned,
        elsewhere=tally.elsewhere,
        lost=tally.lost,
        outgoing=tally.outgoing,
        avoidable=tally.avoidable,
        answers=sum(scores.values()),
        score_total=sum(score * n for score, n in scores.items()),
        consultations=consultations,
        flags=flags,
    )


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)

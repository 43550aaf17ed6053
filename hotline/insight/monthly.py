"""One municipality's month as the hotline heard it, next to the month before.

Calls and contact reasons come from the reports' roll-up; avoidable contacts, survey answers, rule
consultations and rule flags are counted here. Only counts, the pages named as causes (host and
path, masked) and survey comments with CPR numbers, phone numbers and e-mail addresses masked: never
a caller's number, name or the agent's notes, nor who took or flagged a call.
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hotline.calls.models import Call, CallState, ContactReason
from hotline.i18n import t
from hotline.insight.models import COMMENT_CLASSES, RuleConsultation, SurveyInvite
from hotline.kit.cpr import mask_cpr
from hotline.municipalities.models import Municipality
from hotline.reports.facts import Tally
from hotline.reports.period import month_end, next_month, period_tallies, utc_midnight
from hotline.rules.models import Rule, RuleFlag, RuleVersion

TOP = 5
EXAMPLES = 3
COMMENTS_PER_CLASS = 5
MAX_COMMENT_CHARS = 300
MAX_PAGE_CHARS = 120
UNCLASSIFIED = "unclassified"
# Phone-number-like: eight or more digits, with single spaces, dots or dashes between them.
_PHONE = re.compile(r"\+?\d(?:[\s.\-]?\d){7,}")
_EMAIL = re.compile(r"[^\s/@]+@[^\s/@]+")
_LONG_DIGITS = re.compile(r"\d{6,}")  # in a page's path: a case number or someone's id


@dataclass(frozen=True)
class Figures:
    """A month's key figures for one municipality."""

    offered: int = 0
    answered: int = 0
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
class Line:
    """A contact reason, page or rule topic with its count this month and the month before."""

    label: str
    count: int
    previous: int = 0

    @property
    def change(self) -> int:
        """This month's count minus last month's."""
        return self.count - self.previous


@dataclass(frozen=True)
class FlagLine:
    """A rule topic flagged this month: how many of its flags are still open, how many closed."""

    label: str
    open: int
    closed: int

    @property
    def total(self) -> int:
        """All the topic's flags of the month."""
        return self.open + self.closed


@dataclass(frozen=True)
class Example:
    """An avoidable contact as an example: its contact reason and the page behind it, no more."""

    reason: str
    page: str


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
    pages, previous_pages, examples = _avoidable_pages(session, code, bounds, labels)
    scores, previous_scores, comments = _survey(session, code, bounds)
    consulted, consultations = _consulted(session, code, bounds)
    flagged, flags = _flagged(session, code, bounds)
    titles = _topic_titles(session, code, [x.label for x in consulted + flagged])
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
    )


def _figures(tally: Tally, scores: Counter, consultations: int, flags: int) -> Figures:
    return Figures(
        offered=tally.offered,
        answered=tally.answered,
        avoidable=tally.avoidable,
        answers=sum(scores.values()),
        score_total=sum(score * n for score, n in scores.items()),
        consultations=consultations,
        flags=flags,
    )


def _billed(code: str):
    """The calls billed to the municipality: its chosen code, else the line's (as the roll-up)."""
    return func.coalesce(Call.municipality_code, Call.line_municipality_code) == code


def _avoidable_pages(session, code, bounds, labels) -> tuple[Counter, Counter, list[Example]]:
    """This and last month's avoidable contacts per page, and this month's commonest examples."""
    before, start, end = bounds
    query = select(Call.offered_at, Call.avoidable_url, Call.contact_reason_code).where(
        Call.offered_at >= before,
        Call.offered_at < end,
        _billed(code),
        Call.avoidable.is_(True),
        Call.answered_at.is_not(None),
        Call.state != CallState.ABANDONED,
    )
    pages, previous, pairs = Counter(), Counter(), Counter()
    for offered_at, url, reason in session.execute(query):
        page = page_of(url) or t("insight.no_page")
        if offered_at < start:
            previous[page] += 1
            continue
        pages[page] += 1
        if url and reason:
            pairs[(labels.get(reason, reason), page)] += 1
    examples = [Example(reason, page) for (reason, page), _ in pairs.most_common(EXAMPLES)]
    return pages, previous, examples


def _survey(session, code, bounds) -> tuple[Counter, Counter, dict[str, list[str]]]:
    """Scores this and last month, and this month's comments by class (masked, newest first)."""
    before, start, end = bounds
    s = SurveyInvite
    query = (
        select(s.answered_at, s.score, s.comment, s.confirmed_class, s.suggested_class)
        .join(Call, Call.id == s.call_id)
        .where(s.answered_at >= before, s.answered_at < end, _billed(code))
        .order_by(s.answered_at.desc(), s.id.desc())
    )
    scores, previous, comments = Counter(), Counter(), defaultdict(list)
    for answered_at, score, comment, confirmed, suggested in session.execute(query):
        if score is not None:
            (previous if answered_at < start else scores)[score] += 1
        if answered_at < start:
            continue
        text = mask_comment(comment or "")
        kind = confirmed or suggested
        kind = kind if kind in COMMENT_CLASSES else UNCLASSIFIED
        if text and len(comments[kind]) < COMMENTS_PER_CLASS:
            comments[kind].append(text)
    order = [*COMMENT_CLASSES, UNCLASSIFIED]
    return scores, previous, {kind: comments[kind] for kind in order if comments.get(kind)}


def _consulted(session, code, bounds) -> tuple[list[Line], tuple[int, int]]:
    """The month's most consulted topics (label = slug), and both months' totals."""
    before, start, end = bounds
    c = RuleConsultation
    counts: list[Counter] = []
    for since, until in ((before, start), (start, end)):
        query = (
            select(c.topic_slug, func.count())
            .where(c.municipality_code == code, c.at >= since, c.at < until)
            .group_by(c.topic_slug)
        )
        counts.append(Counter(dict(session.execute(query).all())))
    last, this = counts
    top = sorted(this.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    lines = [Line(slug, n, last[slug]) for slug, n in top]
    return lines, (sum(last.values()), sum(this.values()))


def _flagged(session, code, bounds) -> tuple[list[FlagLine], tuple[int, int]]:
    """The month's most flagged topics (label = slug), open and closed, and both months' totals."""
    before, start, end = bounds
    f = RuleFlag
    query = (
        select(f.topic_slug, func.count(), func.count(f.closed_at))
        .where(f.municipality_code == code, f.created_at >= start, f.created_at < end)
        .group_by(f.topic_slug)
    )
    rows = sorted(session.execute(query).all(), key=lambda row: (-row[1], row[0]))
    last = session.scalar(
        select(func.count()).where(
            f.municipality_code == code, f.created_at >= before, f.created_at < start
        )
    )
    lines = [FlagLine(slug, total - closed, closed) for slug, total, closed in rows[:TOP]]
    return lines, (last or 0, sum(row[1] for row in rows))


def _topic_titles(session: Session, code: str, slugs: list[str]) -> dict[str, str]:
    """Each topic's title: the newest version of the local rule, else of the national one."""
    if not slugs:
        return {}
    query = (
        select(Rule.topic_slug, Rule.municipality_code, RuleVersion.title)
        .join(RuleVersion, RuleVersion.rule_id == Rule.id)
        .where(
            Rule.topic_slug.in_(set(slugs)),
            or_(Rule.municipality_code.is_(None), Rule.municipality_code == code),
        )
        .order_by(RuleVersion.version)
    )
    local, national = {}, {}
    for slug, owner, title in session.execute(query):
        (national if owner is None else local)[slug] = title
    return {slug: local.get(slug) or national.get(slug) or slug for slug in slugs}


def page_of(url: str | None) -> str | None:
    """A cause's page as host and path ("borger.dk/flytning"): no query, no fragment, ids masked."""
    text = (url or "").strip()
    if not text:
        return None
    try:
        parts = urlsplit(text if "://" in text else f"https://{text}")
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:
        return None
    if not host:
        return None
    page = host + unquote(parts.path).rstrip("/")
    page = _LONG_DIGITS.sub(_masked(), _EMAIL.sub(_masked(), mask_cpr(page)))
    return page[:MAX_PAGE_CHARS]


def mask_comment(text: str) -> str:
    """A citizen's comment fit to show: CPR numbers, phone numbers and e-mail addresses masked."""
    masked = _EMAIL.sub(_masked(), _PHONE.sub(_masked(), mask_cpr(text)))
    masked = " ".join(masked.split())
    if len(masked) > MAX_COMMENT_CHARS:
        masked = masked[: MAX_COMMENT_CHARS - 1].rstrip() + "…"
    return masked


def _masked() -> str:
    return t("insight.masked")


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)

"""The insight's own counts of a municipality's month, beside the reports' roll-up.

Avoidable contacts per page, survey answers, rule consultations and rule flags, each this month and
the month before. Only counts, the pages named as causes (host and path, masked) and survey comments
with CPR numbers, phone numbers and e-mail addresses masked: never a caller's number, name or the
agent's notes, nor who took or flagged a call.
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hotline.calls.models import Call
from hotline.i18n import t
from hotline.insight.models import COMMENT_CLASSES, RuleConsultation, SurveyInvite
from hotline.kit.cpr import mask_cpr
from hotline.reports.facts import UNANSWERED_STATES
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


def _billed(code: str):
    """The calls billed to the municipality: its chosen code, else the line's (as the roll-up)."""
    return func.coalesce(Call.municipality_code, Call.line_municipality_code) == code


def avoidable_pages(session, code, bounds, labels) -> tuple[Counter, Counter, list[Example]]:
    """This and last month's avoidable contacts per page, and this month's commonest examples."""
    before, start, end = bounds
    query = select(Call.offered_at, Call.avoidable_url, Call.contact_reason_code).where(
        Call.offered_at >= before,
        Call.offered_at < end,
        _billed(code),
        Call.avoidable.is_(True),
        Call.answered_at.is_not(None),
        Call.state.not_in(UNANSWERED_STATES),
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


def survey_answers(session, code, bounds) -> tuple[Counter, Counter, dict[str, list[str]]]:
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


def consulted_topics(session, code, bounds) -> tuple[list[Line], tuple[int, int]]:
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


def flagged_topics(session, code, bounds) -> tuple[list[FlagLine], tuple[int, int]]:
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


def topic_titles(session: Session, code: str, slugs: list[str]) -> dict[str, str]:
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

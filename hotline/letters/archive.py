"""The letters archive: find sent replies, scoped to the municipalities the user may see."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, defer

from hotline.auth.models import Role, User
from hotline.kit.dates import COPENHAGEN
from hotline.kit.errors import InvalidInput, PermissionDenied
from hotline.letters.models import Channel, Reply, ReplyStatus
from hotline.municipalities.models import Municipality
from hotline.rules.models import Rule, RuleVersion

ARCHIVE_SEARCHERS = (Role.SUPERVISOR, Role.SYSTEM_ADMIN, Role.MUNICIPALITY_ADMIN)
WIDE_ROLES = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)
MAX_PER_PAGE = 200
# SQLite's lower() folds ASCII only; these are folded by hand so "ø" finds "Østergård" there too.
_UPPER_LETTERS = "ÆØÅÉÄÖÜ"


@dataclass(frozen=True)
class CitedVersion:
    """A rule version a reply cites: national or local, and its number."""

    local: bool
    version: int


@dataclass(frozen=True)
class ArchivePage:
    """One page of the archive's search results, newest first, and how many there are in all."""

    items: list[Reply]
    total: int
    page: int
    per_page: int
    # The cited rule versions of the page's replies, by rule version id.
    versions: dict[int, CitedVersion] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the results fill (at least one)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page * self.per_page < self.total


def ensure_can_search_archive(user: User) -> None:
    """Supervisors, system admins and municipality admins search the archive; agents do not."""
    if user.role not in ARCHIVE_SEARCHERS:
        raise PermissionDenied("error.permission_denied")


def archive_municipalities(*, session: Session, user: User) -> list[Municipality]:
    """The municipalities whose replies the user may search, by name."""
    ensure_can_search_archive(user)
    if user.role not in WIDE_ROLES:
        return sorted(user.municipalities, key=lambda m: m.name)
    # The participating ones and any that has replies (participation may have ended since).
    with_replies = select(Reply.municipality_code).distinct()
    stmt = select(Municipality).where(
        or_(Municipality.participating.is_(True), Municipality.code.in_(with_replies))
    )
    return list(session.scalars(stmt.order_by(Municipality.name)))


def search_archive(
    session: Session,
    user: User,
    *,
    municipality_code: str | None = None,
    q: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    channel: Channel | None = None,
    status: ReplyStatus | None = None,
    page: int = 1,
    per_page: int = 50,
) -> ArchivePage:
    """A page of the replies the user may see that match the filters, newest first."""
    ensure_can_search_archive(user)
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput("archive.bad_page", max=MAX_PER_PAGE)
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("archive.period_reversed")
    conditions = _visible(user, municipality_code)
    if q and q.strip():
        conditions.append(_matches(q.strip()))
    if date_from:
        conditions.append(Reply.created_at >= _local_midnight(date_from))
    if date_to:
        conditions.append(Reply.created_at < _local_midnight(date_to + timedelta(days=1)))
    if channel:
        conditions.append(Reply.channel == channel)
    if status:
        conditions.append(Reply.status == status)
    total = session.scalar(select(func.count()).select_from(Reply).where(*conditions)) or 0
    stmt = (
        select(Reply)
        .where(*conditions)
        # A list never needs the PDF (nor the letter's text); raiseload makes a slip loud.
        .options(defer(Reply.pdf, raiseload=True), defer(Reply.body_md, raiseload=True))
        .order_by(Reply.created_at.desc(), Reply.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    items = list(session.scalars(stmt))
    return ArchivePage(items, total, page, per_page, _cited_versions(session, items))


def _visible(user: User, municipality_code: str | None) -> list[ColumnElement[bool]]:
    """The conditions that keep a municipality admin to their own municipalities."""
    if user.role in WIDE_ROLES:
        return [Reply.municipality_code == municipality_code] if municipality_code else []
    codes = user.municipality_codes
    if municipality_code is not None:
        # Another municipality's archive is refused, not shown as empty.
        if municipality_code not in codes:
            raise PermissionDenied("error.permission_denied")
        return [Reply.municipality_code == municipality_code]
    return [Reply.municipality_code.in_(sorted(codes))]


def _folded(column) -> ColumnElement[str]:
    """The column in lower case, Danish letters included, on SQLite and PostgreSQL alike."""
    folded = func.lower(column)
    for letter in _UPPER_LETTERS:
        folded = func.replace(folded, letter, letter.lower())
    return folded


def _matches(q: str) -> ColumnElement[bool]:
    """Reference by prefix; subject, recipient name and e-mail by substring; all ignoring case."""
    text = q.lower()
    return or_(
        _folded(Reply.reference).startswith(text, autoescape=True),
        _folded(Reply.subject).contains(text, autoescape=True),
        _folded(Reply.recipient_name).contains(text, autoescape=True),
        _folded(Reply.recipient_email).contains(text, autoescape=True),
    )


def _local_midnight(day: date) -> datetime:
    """The start of a Copenhagen calendar day, in UTC."""
    return datetime.combine(day, time(), COPENHAGEN).astimezone(UTC)


def _cited_versions(session: Session, replies: list[Reply]) -> dict[int, CitedVersion]:
    ids = {
        version_id
        for reply in replies
        for cited in reply.cited_rules or []
        for version_id in cited.get("rule_version_ids") or []
        if isinstance(version_id, int)
    }
    if not ids:
        return {}
    rows = session.execute(
        select(RuleVersion.id, RuleVersion.version, Rule.municipality_code)
        .join(Rule, Rule.id == RuleVersion.rule_id)
        .where(RuleVersion.id.in_(ids))
    )
    return {row.id: CitedVersion(row.municipality_code is not None, row.version) for row in rows}

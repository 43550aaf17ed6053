"""Keeping the search synonyms: the national list from kb_rules, each municipality's own lines.

National lines are imported with the rule files (reviewed in git, never edited in the app);
a municipality's admin adds and removes its own lines, each change audited.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.audit.service import record_change
from hotline.auth.models import User
from hotline.auth.service import ensure_can_admin_municipality
from hotline.i18n import t
from hotline.kit.errors import Conflict, InvalidInput, NotFound
from hotline.municipalities.service import get_municipality
from hotline.rules.models import SearchSynonym
from hotline.rules.search.synonyms import canonical_line

SYNONYMS_FILE = "synonyms.txt"
MAX_LOCAL_LINES = 500
IMPORTER = "kb_rules"


@dataclass(frozen=True)
class SynonymFile:
    """The national lines of a synonyms file, in canonical form, and its problems."""

    lines: list[str]
    problems: list[str]


def read_synonym_file(path: Path, relative: str) -> SynonymFile:
    """The lines of a synonyms file; problems as "<path>:<line>: <what is wrong>"."""
    if not path.is_file():
        return SynonymFile([], [])
    lines: list[str] = []
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return SynonymFile([], [f"{relative}: not UTF-8 text"])
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            canonical = canonical_line(line)
        except InvalidInput as exc:
            problems.append(f"{relative}:{number}: {t(exc.key, **exc.params)}")
            continue
        if canonical not in lines:
            lines.append(canonical)
    return SynonymFile(lines, problems)


def store_national_synonyms(*, session: Session, lines: list[str]) -> tuple[int, int]:
    """Make the national list these lines (adding and removing); (added, removed)."""
    stored = {
        s.line: s
        for s in session.scalars(
            select(SearchSynonym).where(SearchSynonym.municipality_code.is_(None))
        )
    }
    removed = [s for line, s in stored.items() if line not in lines]
    for synonym in removed:
        session.delete(synonym)
    added = [line for line in lines if line not in stored]
    session.add_all(
        SearchSynonym(municipality_code=None, line=line, created_by_name=IMPORTER) for line in added
    )
    session.flush()
    return len(added), len(removed)


def list_synonyms(*, session: Session, municipality_code: str | None) -> list[SearchSynonym]:
    """The national lines (None) or a municipality's, in the order they were added."""
    if municipality_code is None:
        scope = SearchSynonym.municipality_code.is_(None)
    else:
        scope = SearchSynonym.municipality_code == municipality_code
    return list(session.scalars(select(SearchSynonym).where(scope).order_by(SearchSynonym.id)))


def add_local_synonym(
    *, session: Session, user: User, municipality_code: str, line: str
) -> SearchSynonym:
    """Add a line to the municipality's synonyms (admins of that municipality); audited."""
    ensure_can_admin_municipality(user, municipality_code)
    get_municipality(session=session, code=municipality_code)
    canonical = canonical_line(line)
    existing = list_synonyms(session=session, municipality_code=municipality_code)
    if any(s.line == canonical for s in existing):
        raise Conflict("synonyms.exists")
    if len(existing) >= MAX_LOCAL_LINES:
        raise InvalidInput("synonyms.too_many_lines", max=MAX_LOCAL_LINES)
    synonym = SearchSynonym(
        municipality_code=municipality_code,
        line=canonical,
        created_by_id=user.id,
        created_by_name=user.full_name or user.username,
    )
    try:
        with session.begin_nested():  # the same line added at the same moment by another admin
            session.add(synonym)
    except IntegrityError:
        raise Conflict("synonyms.exists") from None
    _audit(session, user, "synonyms.add", synonym, before=None, after={"line": canonical})
    return synonym


def delete_local_synonym(
    *, session: Session, user: User, municipality_code: str, synonym_id: int
) -> None:
    """Remove one of the municipality's lines (admins of that municipality); audited."""
    ensure_can_admin_municipality(user, municipality_code)
    synonym = session.get(SearchSynonym, synonym_id)
    if synonym is None or synonym.municipality_code != municipality_code:
        raise NotFound("synonyms.not_found")
    _audit(session, user, "synonyms.delete", synonym, before={"line": synonym.line}, after=None)
    session.execute(delete(SearchSynonym).where(SearchSynonym.id == synonym.id))
    session.flush()


def _audit(session, user, action, synonym: SearchSynonym, before, after) -> None:
    record_change(
        session=session,
        actor=user,
        action=action,
        entity_type="search_synonym",
        entity_id=str(synonym.id),
        municipality_code=synonym.municipality_code,
        before=before,
        after=after,
    )

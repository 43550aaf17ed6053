"""Import the kb_rules files in one transaction: validate everything first, then add versions."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.municipalities.models import Municipality
from hotline.rules.files import RuleFile, parse_rule_file
from hotline.rules.models import VERSION_CONTENT_FIELDS, Rule, RuleMode, RuleVersion
from hotline.rules.search import index_rule
from hotline.rules.synonyms import SYNONYMS_FILE, read_synonym_file, store_national_synonyms


class RuleImportError(Exception):
    """One or more files are invalid; nothing was imported."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the rule files")
        self.problems = problems


@dataclass
class ImportSummary:
    """What an import found and changed."""

    national: int = 0
    local: int = 0
    new_versions: int = 0
    synonyms_added: int = 0
    synonyms_removed: int = 0

    def __str__(self) -> str:
        text = f"{self.national} national, {self.local} local; {self.new_versions} new versions"
        if self.synonyms_added or self.synonyms_removed:
            text += f"; synonyms: {self.synonyms_added} added, {self.synonyms_removed} removed"
        return text


def import_rules(*, session: Session, directory: Path) -> ImportSummary:
    """Import national/, local/<code>/ and synonyms.txt; raise RuleImportError if any is bad.

    Without a synonyms.txt the national synonyms are left as they are.
    """
    synonyms_path = Path(directory) / SYNONYMS_FILE
    synonyms = read_synonym_file(synonyms_path, SYNONYMS_FILE)
    try:
        files = read_rule_files(session=session, directory=directory)
    except RuleImportError as exc:
        raise RuleImportError(exc.problems + synonyms.problems) from None
    if synonyms.problems:
        raise RuleImportError(synonyms.problems)
    summary = ImportSummary()
    if synonyms_path.is_file():
        added, removed = store_national_synonyms(session=session, lines=synonyms.lines)
        summary.synonyms_added, summary.synonyms_removed = added, removed
    rules = {(r.topic_slug, r.municipality_code): r for r in session.scalars(select(Rule))}
    for rule_file in sorted(files, key=lambda f: f.municipality_code is not None):
        key = (rule_file.front.topic, rule_file.municipality_code)
        if rule_file.municipality_code is None:
            summary.national += 1
            based_on = None
        else:
            summary.local += 1
            national = rules.get((rule_file.front.topic, None))
            based_on = national.current_version if national else None
        rule = rules.get(key)
        if rule is None:
            rule = Rule(topic_slug=key[0], municipality_code=key[1], current_version=0)
            session.add(rule)
            rules[key] = rule
        if _add_version_if_changed(
            session=session, rule=rule, rule_file=rule_file, based_on=based_on
        ):
            summary.new_versions += 1
        index_rule(session=session, rule=rule)
    session.flush()
    return summary


def read_rule_files(*, session: Session, directory: Path) -> list[RuleFile]:
    """Parse and check every file under directory; raise RuleImportError listing all problems."""
    directory = Path(directory)
    problems: list[str] = []
    files: list[RuleFile] = []
    if not directory.is_dir():
        raise RuleImportError([f"{directory}: directory: does not exist"])
    known_codes = set(session.scalars(select(Municipality.code)))
    for path in sorted((directory / "national").glob("*.md")):
        rule, found = parse_rule_file(path, _relative(path, directory), None)
        problems += found
        files += [rule] if rule else []
    local_root = directory / "local"
    for code_dir in sorted(p for p in local_root.glob("*") if p.is_dir()):
        code = code_dir.name
        for path in sorted(code_dir.glob("*.md")):
            relative = _relative(path, directory)
            if code not in known_codes:
                problems.append(f"{relative}: municipality: unknown municipality code {code!r}")
                continue
            rule, found = parse_rule_file(path, relative, code)
            problems += found
            files += [rule] if rule else []
    problems += _layering_problems(session=session, files=files)
    if problems:
        raise RuleImportError(problems)
    return files


def _layering_problems(*, session: Session, files: list[RuleFile]) -> list[str]:
    national_files = [f for f in files if f.municipality_code is None]
    national_topics = {f.front.topic for f in national_files}
    national_topics |= set(
        session.scalars(select(Rule.topic_slug).where(Rule.municipality_code.is_(None)))
    )
    problems = []
    for f in files:
        if f.municipality_code is None:
            continue
        has_national = f.front.topic in national_topics
        if f.mode == RuleMode.LOCAL_ONLY and has_national:
            problems.append(
                f"{f.relative_path}: mode: local_only, but a national rule "
                f"{f.front.topic!r} exists (use replace or append)"
            )
        elif f.mode != RuleMode.LOCAL_ONLY and not has_national:
            problems.append(
                f"{f.relative_path}: topic: mode {f.mode} needs a national rule "
                f"{f.front.topic!r}, and there is none"
            )
    local_files = {(f.front.topic, f.municipality_code) for f in files if f.municipality_code}
    local_only = _local_only_in_database(session, {f.front.topic for f in national_files})
    for f in national_files:
        for code in local_only.get(f.front.topic, []):
            if (f.front.topic, code) in local_files:
                continue  # the local file is checked above and decides the new version
            problems.append(
                f"{f.relative_path}: topic: a municipality has a local-only rule "
                f"{f.front.topic!r} in the database ({code})"
            )
    return problems


def _local_only_in_database(session: Session, topics: set[str]) -> dict[str, list[str]]:
    """The municipalities whose newest local version of each topic is local_only."""
    rules = session.scalars(
        select(Rule)
        .where(Rule.topic_slug.in_(topics), Rule.municipality_code.is_not(None))
        .order_by(Rule.municipality_code)
    )
    found: dict[str, list[str]] = {}
    for rule in rules:
        if rule.versions and rule.versions[-1].mode == RuleMode.LOCAL_ONLY:
            found.setdefault(rule.topic_slug, []).append(rule.municipality_code)
    return found


def _add_version_if_changed(
    *, session: Session, rule: Rule, rule_file: RuleFile, based_on: int | None
) -> bool:
    payload = rule_file.version_payload()
    imported = [v for v in rule.versions if v.source_path is not None]
    if imported and stored_payload(imported[-1]) == payload:
        return False
    if rule.versions and stored_payload(rule.versions[-1]) == payload:
        # The file says what the newest version (e.g. an exported admin edit) already says.
        return False
    rule.current_version += 1
    version = RuleVersion(
        version=rule.current_version,
        based_on_national_version=based_on,
        author_name=f"kb_rules/{rule_file.relative_path}",
        source_path=rule_file.relative_path,
        **payload,
    )
    rule.versions.append(version)
    session.flush()
    return True


def stored_payload(version: RuleVersion) -> dict[str, Any]:
    """A stored version as a file's version_payload() would give it (texts with \\n endings)."""
    payload = {name: getattr(version, name) for name in VERSION_CONTENT_FIELDS}
    payload["mode"] = str(payload["mode"])
    for name in ("body_md", "agent_notes_md"):
        payload[name] = payload[name].replace("\r\n", "\n").replace("\r", "\n").strip()
    return payload


def _relative(path: Path, directory: Path) -> str:
    return path.relative_to(directory).as_posix()

"""Export the database's local rules back to kb_rules files (the format the importer reads).

Each local rule's newest version becomes `local/<kommunekode>/<slug>.md`. Every file is built and
read back with the importer's own parser first; only when all of them read back as the stored
version (and none would overwrite a different file without `overwrite`) is anything written.
"""

import contextlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.rules.files import AGENT_NOTES_HEADING, RuleFile, parse_rule_file, parse_rule_text
from hotline.rules.importer import stored_payload
from hotline.rules.models import Rule, RuleVersion


class RuleExportError(Exception):
    """One or more rules cannot be exported as asked; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) exporting the local rules")
        self.problems = problems


@dataclass
class ExportSummary:
    """What an export wrote (relative paths) and which files already said the same."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        total = len(self.written) + len(self.unchanged)
        return f"{total} local rules: {len(self.written)} written, {len(self.unchanged)} unchanged"


@dataclass(frozen=True)
class _Planned:
    relative_path: str
    text: str


def export_local_rules(
    *, session: Session, directory: Path, overwrite: bool = False
) -> ExportSummary:
    """Write each local rule's newest version under directory/local/; all or nothing.

    A file already there that reads as the same rule is left as it is (keeping its comments and
    layout); one that differs is replaced only with overwrite, else a RuleExportError names it.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise RuleExportError([f"{directory}: directory: is not a directory"])
    problems: list[str] = []
    planned: list[_Planned] = []
    unchanged: list[str] = []
    for rule in _local_rules(session):
        version = rule.versions[-1]
        relative = f"local/{rule.municipality_code}/{rule.topic_slug}.md"
        text = rule_file_text(rule, version)
        found = _read_back_problems(text, relative, rule, version)
        if found:
            problems += found
            continue
        target = directory / relative
        if target.exists():
            existing, found = parse_rule_file(target, relative, rule.municipality_code)
            if existing is not None and not found and _same(existing, version):
                unchanged.append(relative)
                continue
            if not overwrite:
                problems.append(
                    f"{relative}: file: exists and differs from the database "
                    "(use --overwrite to replace it)"
                )
                continue
        planned.append(_Planned(relative, text))
    if problems:
        raise RuleExportError(problems)
    for item in planned:
        target = directory / item.relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.text, encoding="utf-8", newline="\n")
    return ExportSummary(written=[p.relative_path for p in planned], unchanged=unchanged)


def rule_file_text(rule: Rule, version: RuleVersion) -> str:
    """One version as a kb_rules file: YAML front matter, the citizen text, the agent notes."""
    front: dict[str, Any] = {"topic": rule.topic_slug}
    if not rule.is_national:
        front["mode"] = str(version.mode)
    for name in ("title", "category"):
        if getattr(version, name):
            front[name] = getattr(version, name)
    if version.tags:
        front["tags"] = list(version.tags)
    if version.fields:
        front["fields"] = dict(version.fields)
    if version.sources:
        front["sources"] = [_source(s) for s in version.sources]
    front["valid_from"] = version.valid_from
    if version.valid_to is not None:
        front["valid_to"] = version.valid_to
    yaml_text = yaml.dump(front, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    text = f"---\n{yaml_text}---\n{_lf(version.body_md).strip()}\n"
    notes = _lf(version.agent_notes_md).strip()
    if notes:
        text += f"\n{AGENT_NOTES_HEADING}\n\n{notes}\n"
    return text


def _local_rules(session: Session) -> list[Rule]:
    rules = session.scalars(
        select(Rule)
        .where(Rule.municipality_code.is_not(None))
        .order_by(Rule.municipality_code, Rule.topic_slug)
    )
    return [rule for rule in rules if rule.versions]


def _read_back_problems(text: str, relative: str, rule: Rule, version: RuleVersion) -> list[str]:
    parsed, problems = parse_rule_text(text, relative, rule.municipality_code, rule.topic_slug)
    if problems:
        return problems
    if _same(parsed, version):
        return []
    expected = stored_payload(version)
    differing = [k for k, v in parsed.version_payload().items() if expected.get(k) != v]
    if "body_md" in differing and AGENT_NOTES_HEADING in _lf(version.body_md):
        return [
            f"{relative}: body: contains the heading {AGENT_NOTES_HEADING!r}, which would split "
            f"it into citizen text and agent notes (version {version.version}; edit the rule)"
        ]
    return [
        f"{relative}: {name}: would not read back as stored in version {version.version}"
        for name in differing
    ]


def _same(parsed: RuleFile, version: RuleVersion) -> bool:
    return parsed.version_payload() == stored_payload(version)


def _source(source: dict[str, Any]) -> dict[str, Any]:
    out = dict(source)
    verified = out.get("verified")
    if isinstance(verified, str):
        with contextlib.suppress(ValueError):  # else written as text; the read-back reports it
            out["verified"] = date.fromisoformat(verified)
    return out


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Dumper(yaml.SafeDumper):
    """Lists of plain values in flow style (`tags: [pas, rejse]`), as the shipped files write."""


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = bool(data) and all(isinstance(item, str | int | float | bool) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)

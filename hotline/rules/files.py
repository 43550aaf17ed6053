"""Reading kb_rules files: YAML front matter, citizen text, agent notes; validated with pydantic."""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hotline.rules.schemas import RuleFields, SourceRef

AGENT_NOTES_HEADING = "## Noter til medarbejderen"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SLUG_MAX_LENGTH = 100
_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n?(.*)\Z", re.DOTALL)
_NOTES_SPLIT = re.compile(r"^" + re.escape(AGENT_NOTES_HEADING) + r"[ \t]*$", re.MULTILINE)


class RuleFileFront(BaseModel):
    """The YAML front matter of one rule file."""

    model_config = ConfigDict(extra="forbid")

    topic: str = Field(pattern=SLUG_PATTERN, max_length=SLUG_MAX_LENGTH)
    mode: Literal["replace", "append", "not_offered", "local_only"] | None = None
    title: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=100)
    tags: list[str] = []
    fields: RuleFields = RuleFields()
    sources: list[SourceRef] = []
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


@dataclass(frozen=True)
class RuleFile:
    """One parsed, validated rule file."""

    relative_path: str
    municipality_code: str | None  # None for a national rule
    front: RuleFileFront
    body_md: str
    agent_notes_md: str

    @property
    def mode(self) -> str:
        """The rule's mode ("national" for a national file)."""
        return self.front.mode or "national"

    def version_payload(self) -> dict[str, Any]:
        """The content a stored version is compared against (JSON-shaped)."""
        front = self.front
        return {
            "mode": self.mode,
            "title": front.title,
            "category": front.category,
            "tags": list(front.tags),
            "body_md": self.body_md,
            "agent_notes_md": self.agent_notes_md,
            "fields": front.fields.model_dump(mode="json", exclude_none=True),
            "sources": [s.model_dump(mode="json") for s in front.sources],
            "valid_from": front.valid_from,
            "valid_to": front.valid_to,
        }


def parse_rule_file(
    path: Path, relative_path: str, municipality_code: str | None
) -> tuple[RuleFile | None, list[str]]:
    """Parse one file; returns the rule or the problems ("<path>: <field>: <what>")."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{relative_path}: file: cannot be read ({exc})"]
    return parse_rule_text(text, relative_path, municipality_code, path.stem)


def parse_rule_text(
    text: str, relative_path: str, municipality_code: str | None, stem: str
) -> tuple[RuleFile | None, list[str]]:
    """Parse a rule file's text (stem: its file name without .md); the rule or the problems."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, [f"{relative_path}: front matter: missing (the file must start with ---)"]
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        return None, [f"{relative_path}: front matter: invalid YAML ({detail})"]
    if not isinstance(data, dict):
        return None, [f"{relative_path}: front matter: must be a mapping of keys to values"]
    try:
        front = RuleFileFront.model_validate(data)
    except ValidationError as exc:
        return None, [
            f"{relative_path}: {'.'.join(str(p) for p in e['loc']) or 'front matter'}: {e['msg']}"
            for e in exc.errors()
        ]
    body_md, agent_notes_md = split_agent_notes(match.group(2))
    rule = RuleFile(relative_path, municipality_code, front, body_md, agent_notes_md)
    return rule, _file_problems(rule, stem)


def split_agent_notes(markdown: str) -> tuple[str, str]:
    """Split the citizen text from the "## Noter til medarbejderen" section after it."""
    parts = _NOTES_SPLIT.split(markdown, maxsplit=1)
    body = parts[0].strip()
    notes = parts[1].strip() if len(parts) > 1 else ""
    return body, notes


def _file_problems(rule: RuleFile, stem: str) -> list[str]:
    where = rule.relative_path
    front = rule.front
    problems = []
    if front.topic != stem:
        problems.append(f"{where}: topic: must equal the file name ({stem!r})")
    if rule.municipality_code is None:
        if front.mode is not None:
            problems.append(f"{where}: mode: a national rule has no mode")
        for name in ("title", "category"):
            if not getattr(front, name).strip():
                problems.append(f"{where}: {name}: required")
        if not front.sources:
            problems.append(f"{where}: sources: a national rule cites at least one source")
    else:
        if front.mode is None:
            problems.append(f"{where}: mode: required (replace, append, not_offered or local_only)")
        if front.mode == "local_only":
            for name in ("title", "category"):
                if not getattr(front, name).strip():
                    problems.append(f"{where}: {name}: required for local_only")
    if not rule.body_md:
        problems.append(f"{where}: body: the citizen text is empty")
    return problems

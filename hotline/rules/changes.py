"""What differs between two rule versions: each structured part key by key, and the two texts."""

from dataclasses import dataclass
from typing import Any

from hotline.rules.models import RuleVersion
from hotline.rules.schemas import RuleFields, SourceRef

# The structured parts of a version, in the order the edit form shows them; "fields" expands into
# its keys (fee, deadline, phone, self-service link, legal basis, and any other key a version has).
PARTS = ("mode", "title", "category", "tags", "fields", "sources", "valid_from", "valid_to")
FIELD_ORDER = tuple(RuleFields.model_fields)


@dataclass(frozen=True)
class FieldChange:
    """One structured part that differs; group "fields" for a key of the version's fields."""

    key: str
    group: str  # "fields" or "version"
    before: Any  # None: not set
    after: Any


@dataclass(frozen=True)
class TextChange:
    """A Markdown text before and after (the page renders the two compared)."""

    before: str
    after: str


@dataclass(frozen=True)
class VersionChanges:
    """Everything that differs between two versions; empty when the content is the same."""

    fields: list[FieldChange]
    body: TextChange | None  # None when the citizen text is the same
    notes: TextChange | None  # None when the agent-only notes are the same

    def __bool__(self) -> bool:
        return bool(self.fields or self.body or self.notes)


def version_changes(old: RuleVersion | None, new: RuleVersion) -> VersionChanges:
    """What changed from one version (None: nothing before) to the next: every structured part,
    then the two texts."""
    changes: list[FieldChange] = []
    for part in PARTS:
        was = getattr(old, part) if old is not None else None
        if part == "fields":
            changes.extend(_field_changes(was or {}, new.fields or {}))
            continue
        before, after = _value(part, was), _value(part, getattr(new, part))
        if before != after:
            changes.append(FieldChange(part, "version", before, after))
    return VersionChanges(
        fields=changes,
        body=_text(old.body_md if old else "", new.body_md),
        notes=_text(old.agent_notes_md if old else "", new.agent_notes_md),
    )


def national_differences(national: RuleVersion, local: RuleVersion) -> VersionChanges:
    """Where a local version departs from the national one: the fields it sets to another value
    (a local rule overrides the national fields key by key) and the citizen text."""
    national_fields = national.fields or {}
    merged = {**national_fields, **(local.fields or {})}
    return VersionChanges(
        fields=_field_changes(national_fields, merged),
        body=_text(national.body_md, local.body_md),
        notes=None,
    )


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    keys = [k for k in FIELD_ORDER if k in old or k in new]
    keys += sorted((old.keys() | new.keys()) - set(FIELD_ORDER))
    return [
        FieldChange(key, "fields", _blank(old.get(key)), _blank(new.get(key)))
        for key in keys
        if _blank(old.get(key)) != _blank(new.get(key))
    ]


def _value(part: str, value: Any) -> Any:
    if part == "mode":
        return None if value is None else str(value)
    if part == "sources":
        return [SourceRef.model_validate(source) for source in value or ()] or None
    if part == "tags":
        return list(value or ()) or None
    return _blank(value)


def _blank(value: Any) -> Any:
    """None for a value that is not set (an empty text counts as not set)."""
    return None if value is None or value == "" else value


def _text(before: str, after: str) -> TextChange | None:
    before, after = before or "", after or ""
    return None if before.strip() == after.strip() else TextChange(before, after)

"""Shapes of the rule store: a resolved rule with the provenance of each part."""

from datetime import date

from pydantic import BaseModel


class Provenance(BaseModel):
    """Where one part of a resolved rule comes from."""

    scope: str  # "national" or the municipality code
    rule_version_id: int
    version: int
    author: str
    valid_from: date
    created_on: date


class ResolvedSection(BaseModel):
    """One block of citizen-facing text (the national text, or a local section)."""

    body_md: str
    body_html: str  # rendered and sanitised
    provenance: Provenance


class ResolvedField(BaseModel):
    """One structured field (fee, deadline, phone, self-service URL, legal basis, ...)."""

    key: str
    value: str | int | float | bool | None
    provenance: Provenance


class ResolvedRule(BaseModel):
    """Topic T as it applies in municipality M on date D."""

    topic_slug: str
    municipality_code: str
    on: date
    title: str
    category: str
    tags: list[str]
    mode: str  # "national", "replace", "append", "not_offered" or "local_only"
    not_offered: bool
    sections: list[ResolvedSection]
    agent_notes: list[ResolvedSection]
    fields: list[ResolvedField]
    sources: list[dict]
    stale: bool  # the local part was written against an older national version
    national: Provenance | None
    local: Provenance | None

    @property
    def cited_versions(self) -> list[int]:
        """The rule version ids this resolution used (for a reply's citations)."""
        return [p.rule_version_id for p in (self.national, self.local) if p is not None]

    def field(self, key: str):
        """A field's value by key, or None."""
        return next((f.value for f in self.fields if f.key == key), None)

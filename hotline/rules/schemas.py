"""Shapes of the rule store: a resolved rule with the provenance of each part."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


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
    # Added: what "stale" compares (the local rule's base and the national rule's newest version).
    based_on_national_version: int | None = None
    national_current_version: int | None = None
    # No source of the versions in use was verified within the configured period (or none cited).
    needs_checking: bool = False

    @property
    def cited_versions(self) -> list[int]:
        """The rule version ids this resolution used (for a reply's citations)."""
        return [p.rule_version_id for p in (self.national, self.local) if p is not None]

    def field(self, key: str):
        """A field's value by key, or None."""
        return next((f.value for f in self.fields if f.key == key), None)


class TopicSummary(BaseModel):
    """One topic as listed for a municipality (console list, search, reply composer)."""

    slug: str
    title: str
    category: str
    tags: list[str] = []
    mode: str
    not_offered: bool
    stale: bool
    needs_checking: bool = False


class RuleFields(BaseModel):
    """The structured fields of a rule; a local rule gives only those it overrides."""

    model_config = ConfigDict(extra="forbid")

    fee_dkk: int | None = Field(default=None, ge=0)
    deadline: str | None = None
    phone: str | None = None
    self_service_url: str | None = None
    legal_basis: str | None = None

    @field_validator("self_service_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value

    @field_validator("deadline", "phone", "legal_basis", "self_service_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value


class SourceRef(BaseModel):
    """A public source a rule was written from, and when it was last checked."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://")
    verified: date


LOCAL_MODES = ("replace", "append", "not_offered", "local_only")


class LocalRuleIn(BaseModel):
    """A municipality admin's new version of a local rule."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["replace", "append", "not_offered", "local_only"]
    title: str = Field(default="", max_length=200, validate_default=True)
    category: str = Field(default="", max_length=100, validate_default=True)
    tags: list[str] = []
    body_md: str = Field(default="", max_length=50_000, validate_default=True)
    agent_notes_md: str = Field(default="", max_length=20_000)
    fields: RuleFields = RuleFields()
    sources: list[SourceRef] = []
    valid_from: date | None = None
    valid_to: date | None = None

    # Field validators, not one model validator: each problem is reported at its own field, and
    # all of them at once (a model validator would not run while any field is wrong).
    @field_validator("title", "category")
    @classmethod
    def _required_for_local_only(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("mode") == "local_only" and not value.strip():
            raise PydanticCustomError(
                f"{info.field_name}_required", "required when the mode is local_only"
            )
        return value

    @field_validator("body_md")
    @classmethod
    def _body_required(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("body_required", "body_md is required")
        return value

    @field_validator("valid_to")
    @classmethod
    def _after_valid_from(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("valid_from")
        if value and start and value <= start:
            raise PydanticCustomError("dates_order", "valid_to must be after valid_from")
        return value


class LocalRuleSave(LocalRuleIn):
    """The JSON body of PUT /api/rules/local/{code}/{slug}."""

    expected_version: int = Field(ge=0)

"""Shapes of the cost model: a rate as supervisors enter it, in the API and the form alike."""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from hotline.i18n import t
from hotline.kit.errors import InvalidInput
from hotline.reports.models import ALLOCATION_METHODS

# Sane upper bounds: far above any real rate, low enough to catch a slipped key or a digit too many.
MAX_AGENT_COST_PER_HOUR = Decimal("10000")
MAX_TELEPHONY_PER_MINUTE = Decimal("100")
MAX_PLATFORM_MONTHLY = Decimal("10000000")
MAX_BASELINE_COST_PER_CALL = Decimal("10000")
# "25.000" is 25 to Python and 25,000 to a Dane: refused rather than guessed.
_DOTS_AS_THOUSANDS = re.compile(r"[1-9]\d{0,2}(\.\d{3})+")
_DANISH_NUMBER = re.compile(r"-?(\d{1,3}(\.\d{3})*|\d+),\d*")


def _decimal_text(value: Any) -> Any:
    """Accept "450,50" and "450.50" (and "25.000,00"); other input is left to pydantic."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace(" ", "").replace("\xa0", "")
    if "," in text:
        if not _DANISH_NUMBER.fullmatch(text):
            raise PydanticCustomError("amount_format", "not a number")
        return text.replace(".", "").replace(",", ".")
    if _DOTS_AS_THOUSANDS.fullmatch(text):
        raise PydanticCustomError("amount_ambiguous", "dots as thousands separators")
    return text


# An amount in DKK: never negative, never NaN; each field adds its maximum and decimals.
Amount = Annotated[Decimal, BeforeValidator(_decimal_text), Field(ge=0, allow_inf_nan=False)]


class CostRateIn(BaseModel):
    """A rate of the cost model, in force from the 1st of a month until the next rate's date."""

    model_config = ConfigDict(extra="forbid")

    effective_from: date
    # Including overhead.
    agent_cost_per_hour: Amount = Field(le=MAX_AGENT_COST_PER_HOUR, decimal_places=2)
    telephony_per_minute: Amount = Field(le=MAX_TELEPHONY_PER_MINUTE, decimal_places=4)
    platform_monthly: Amount = Field(le=MAX_PLATFORM_MONTHLY, decimal_places=2)
    fixed_allocation: str = Field(max_length=20)
    baseline_cost_per_call: Amount = Field(le=MAX_BASELINE_COST_PER_CALL, decimal_places=2)
    # Used by base_plus_usage: this share of the fixed cost is split equally, the rest by usage.
    base_share_pct: Amount = Field(default=Decimal("20.00"), le=100, decimal_places=2)

    @field_validator("effective_from")
    @classmethod
    def _first_of_month(cls, value: date) -> date:
        if value.day != 1:
            raise PydanticCustomError("first_of_month", "must be the 1st of a month")
        return value

    @field_validator("fixed_allocation")
    @classmethod
    def _known_allocation(cls, value: str) -> str:
        if value not in ALLOCATION_METHODS:
            raise PydanticCustomError("unknown_allocation", "unknown allocation method")
        return value

    @field_validator(
        "agent_cost_per_hour", "platform_monthly", "baseline_cost_per_call", "base_share_pct"
    )
    @classmethod
    def _in_ore(cls, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.01"))

    @field_validator("telephony_per_minute")
    @classmethod
    def _in_hundredths_of_ore(cls, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.0001"))


def parse_rate(values: dict[str, Any]) -> CostRateIn:
    """A rate from form fields, or InvalidInput with a Danish message naming each bad field."""
    try:
        return CostRateIn(**values)
    except ValidationError as exc:
        raise InvalidInput("cost_model.invalid", detail=danish_problems(exc)) from None


def danish_problems(exc: ValidationError) -> str:
    """The validation errors as Danish text: "Gældende fra: skal være den 1. i en måned; …"."""
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        key = f"cost_model.field.{field}"
        label = t(key) if t(key) != key else field
        problem = _danish_problem(error)
        problems.append(f"{label}: {problem}" if field else problem)
    return "; ".join(problems)


def _danish_problem(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "less_than_equal":
        return t("cost_model.problem.less_than_equal", le=f"{ctx['le']}".replace(".", ","))
    if kind == "decimal_max_places":
        return t("cost_model.problem.decimal_max_places", places=ctx["decimal_places"])
    known = f"cost_model.problem.{kind}"
    text = t(known)
    return text if text != known else t("cost_model.problem.other")

"""Splitting amounts between municipalities to the øre."""

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from hotline.kit.errors import InvalidInput
from hotline.reports.models import ALLOCATION_METHODS

ORE = Decimal("0.01")


def round_ore(amount: Decimal) -> Decimal:
    """An amount rounded half up to the øre."""
    return amount.quantize(ORE, ROUND_HALF_UP)


def largest_remainder(amounts: list[Decimal], total: Decimal) -> list[Decimal]:
    """Round to øre so that the parts sum exactly to total (the largest remainders get an øre)."""
    floors = [a.quantize(ORE, ROUND_FLOOR) for a in amounts]
    missing = int(((total - sum(floors, Decimal(0))) / ORE).to_integral_value(ROUND_HALF_UP))
    by_remainder = sorted(range(len(amounts)), key=lambda i: (floors[i] - amounts[i], i))
    for i in by_remainder[: max(0, missing)]:
        floors[i] += ORE
    return floors


def allocation_weights(
    method: str,
    *,
    answered: list[int],
    handled_seconds: list[int],
    offered: list[int],
    base_share: Decimal,
) -> list[Decimal]:
    """Each municipality's weight in the fixed cost by one of ALLOCATION_METHODS."""
    # "calls": by answered calls; "minutes": by handled minutes; "equal": the same for every row;
    # "base_plus_usage": base_share split equally between the rows, the rest by answered calls.
    # The rows are the municipalities (and "Ukendt kommune") with calls in the period. When no
    # call was answered (or handled), "calls", "minutes" and the usage part go by offered calls.
    if method not in ALLOCATION_METHODS:
        raise InvalidInput("reports.unknown_allocation", method=method)
    if method == "equal" or not offered:
        return [Decimal(1) for _ in offered]
    usage = [Decimal(n) for n in (handled_seconds if method == "minutes" else answered)]
    if sum(usage) == 0:
        usage = [Decimal(n) for n in offered]
    if method != "base_plus_usage":
        return usage
    usage_sum = sum(usage)
    return [base_share / len(usage) + (1 - base_share) * u / usage_sum for u in usage]


def split(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """The total split by the weights, to the øre, the parts summing exactly to the total."""
    weight_sum = sum(weights)
    if not weights or weight_sum <= 0:
        return [Decimal("0.00") for _ in weights]
    return largest_remainder([total * w / weight_sum for w in weights], total)

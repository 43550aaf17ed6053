"""Numbers as Danish text, for documents and pages: "1.234,50", "12,5 %", "+3", "45,2 sek."."""

from decimal import Decimal

from hotline.i18n import t


def danish_number(value: Decimal | int | None, places: int = 0) -> str:
    """A number as Danish text: "1.234,50" (thousands point, decimal comma); None as "–"."""
    if value is None:
        return t("numbers.none")
    text = f"{value:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def danish_message(key: str, **params) -> str:
    """A UI text whose whole-number parameters read the Danish way ("højst 10.000 tegn")."""
    return t(key, **{k: danish_number(v) if type(v) is int else v for k, v in params.items()})


def kr(value: Decimal | None, places: int = 2) -> str:
    """An amount in DKK: "1.234,50 kr."."""
    return t("numbers.none") if value is None else f"{danish_number(value, places)} kr."


def fee_kr(value: Decimal | int | float | None) -> str:
    """A fee: whole kroner as "1.105 kr.", with øre as "1.105,34 kr."."""
    if value is None:
        return t("numbers.none")
    value = Decimal(str(value))
    return kr(value, 0 if value == value.to_integral_value() else 2)


def amount(value: Decimal) -> str:
    """An amount with as many decimals as it has, at least two: "25.000,00", "0,0125"."""
    return danish_number(value, max(2, -value.normalize().as_tuple().exponent))


def rate_kr(value: Decimal) -> str:
    """A rate with as many decimals as it has, at least two: "0,10 kr.", "0,0125 kr."."""
    return f"{amount(value)} kr."


def decimal(value: Decimal | int | float | None) -> str:
    """A number with the decimals it has: "3,75", "0,5", "1.234"; None as "–"."""
    if value is None:
        return t("numbers.none")
    return danish_number(value, max(0, -Decimal(str(value)).as_tuple().exponent))


def pct(value: Decimal | None) -> str:
    """A percentage with one decimal: "12,5 %"."""
    return t("numbers.none") if value is None else f"{danish_number(value, 1)} %"


def seconds(value: Decimal | int | None) -> str:
    """Seconds: "45,2 sek."."""
    if value is None:
        return t("numbers.none")
    places = 1 if isinstance(value, Decimal) else 0
    return t("numbers.seconds", value=danish_number(value, places))


def signed(value: Decimal | int | None, places: int = 0) -> str:
    """A difference with its sign: "+3", "−1,5", "0"; a dash when unknown."""
    if value is None:
        return t("numbers.none")
    text = danish_number(abs(value), places)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


def points(value: Decimal | None) -> str:
    """A difference of two percentages: "+1,5 pct.-point"."""
    return t("numbers.none") if value is None else t("numbers.points", value=signed(value, 1))

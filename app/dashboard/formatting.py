"""Numbers, money and months as a French reader expects them: `6 000,00 €`, `12,5 %`,
`octobre 2026`. Narrow no-break spaces separate thousands, as French typography does."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from app.core.periods import Period
from app.dashboard.labels import FR, MONTHS, SHORT_MONTHS

_THIN = "\u202f"
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}


def number(value: Decimal | float | int | None, places: int = 0) -> str:
    if value is None:
        return FR["none"]
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{abs(rounded):,.{places}f}".replace(",", _THIN).replace(".", ",")
    return ("-" if rounded < 0 else "") + text


def money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return FR["none"]
    return f"{number(value, 2)}\u00a0{_SYMBOLS.get(currency, currency)}"


def percent(probability: float | None) -> str:
    """A probability in [0, 1] as a percentage."""
    if probability is None:
        return FR["none"]
    return f"{number(Decimal(repr(probability)) * 100, 0)}\u00a0%"


def percent_value(value: Decimal | None) -> str:
    """A figure already in percent (a deviation, a pace)."""
    if value is None:
        return FR["none"]
    return f"{number(value, 1)}\u00a0%"


def month(period: Period) -> str:
    return f"{MONTHS[period.month - 1]} {period.year}"


def short_month(period: Period) -> str:
    return f"{SHORT_MONTHS[period.month - 1]} {str(period.year)[2:]}"


def day(value: date | None) -> str:
    return FR["none"] if value is None else value.strftime("%d/%m/%Y")


PARIS = ZoneInfo("Europe/Paris")
"""The dashboard's users are in France: "this month" is the month in Paris."""

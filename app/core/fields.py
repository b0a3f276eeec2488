"""Reusable pydantic field types: identifiers checked against their registries, and decimal
strings that read the same whichever database stored them."""

import re
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

import holidays
import pycountry
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
)

from app.core.errors import FieldError, ValidationFailed
from app.core.periods import Period

_QUANTA = [Decimal(1).scaleb(-places) for places in range(7)]


def canonical_decimal(value: Decimal, min_places: int = 0) -> Decimal:
    """`value` without trailing zeros or exponent, but with at least `min_places` decimals.

    PostgreSQL pads `0.9` to its column scale (`0.9000`) while SQLite keeps the text it was
    given; the API shows one canonical form, `"0.90"`, whichever stored it.
    """
    normalized = value.normalize()
    if not normalized.is_finite():
        return normalized
    # Padding to `min_places` is exact when the value has fewer decimals, and rounds (so
    # differs) when it has more: comparing is three times faster than reading the exponent
    # from `as_tuple()`, on every decimal of every response.
    padded = normalized.quantize(_QUANTA[min_places])
    return padded if padded == normalized else normalized


def decimal_string(min_places: int) -> PlainSerializer:
    return PlainSerializer(
        lambda value: str(canonical_decimal(value, min_places)), return_type=str, when_used="json"
    )


Ratio = Annotated[Decimal, Field(gt=0, le=1, decimal_places=4), decimal_string(2)]
"""A ratio in (0, 1] with at most 4 decimals, e.g. a trigger or floor ratio."""

Tolerance = Annotated[Decimal, Field(ge=0, le=10, decimal_places=4), decimal_string(2)]
"""A tolerance >= 0 with at most 4 decimals (0.10 = 10 % above the commitment)."""

VatRate = Annotated[Decimal, Field(ge=0, lt=1, decimal_places=4), decimal_string(2)]
"""A VAT rate in [0, 1), at most 4 decimals."""

Money = Annotated[Decimal, decimal_string(2)]
"""An amount of money, shown with at least two decimals."""

UnitPrice = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6), decimal_string(2)]
"""A price per billing unit, > 0, at most 6 decimals."""

Seconds = Annotated[Decimal, Field(gt=0, le=86_400, decimal_places=3), decimal_string(0)]
"""A positive duration in seconds below a day, at most millisecond precision."""

Quantity = Annotated[Decimal, decimal_string(0)]
"""A quantity of billing units, shown unrounded."""


def _check_period(text: str) -> str:
    return str(Period.parse(text))


PeriodText = Annotated[
    str,
    StringConstraints(max_length=20),
    AfterValidator(_check_period),
    Field(examples=["2026-12"], json_schema_extra={"pattern": r"^\d{4}-\d{2}$"}),
]
"""A charter period (commitments and invoices are per month), YYYY-MM, checked by the schema so
that a bad period is named with every other bad field of the request."""

PeriodLabel = Annotated[str, BeforeValidator(str)]
"""A charter period in a response, YYYY-MM: a schema built from attributes reads it from a
`Period` (its label)."""


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_time_zone(name: str) -> str:
    if name not in _time_zones():
        raise ValueError(f"{name!r} is not an IANA time zone name (e.g. Europe/Paris)")
    return name


_NOT_CURRENCIES = {"XXX", "XTS"}


def _check_currency(code: str) -> str:
    if code in _NOT_CURRENCIES or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (e.g. EUR)")
    return code


def _check_country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. FR)")
    return code


def _check_holiday_country(code: str) -> str:
    if code not in holidays.list_supported_countries():
        raise ValueError(f"{code!r} has no public-holiday calendar (use an ISO code such as FR)")
    return code


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that every SIREN carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


_LA_POSTE_SIREN = "356000000"


def _check_siren(value: str) -> str:
    if len(value) != 9 or not value.isdigit():
        raise ValueError("a SIREN is exactly 9 digits")
    # La Poste's SIREN predates the rule and fails Luhn; INSEE documents it as the exception.
    if value != _LA_POSTE_SIREN and not luhn_valid(value):
        raise ValueError(f"{value} fails the SIREN Luhn checksum")
    return value


TimeZoneName = Annotated[str, AfterValidator(_check_time_zone), Field(examples=["Europe/Paris"])]
CurrencyCode = Annotated[str, AfterValidator(_check_currency), Field(examples=["EUR"])]
CountryCode = Annotated[str, AfterValidator(_check_country), Field(examples=["FR"])]
HolidayCountry = Annotated[str, AfterValidator(_check_holiday_country), Field(examples=["FR"])]


def without_spaces(value: Any) -> Any:
    """`732 829 320` as `732829320`: identifiers are written grouped by people and forms
    (ordinary, no-break and narrow no-break spaces alike), and compared ungrouped."""
    return "".join(value.split()) if isinstance(value, str) else value


def upper_without_spaces(value: Any) -> Any:
    """`fr 44 732829320` as `FR44732829320` (VAT numbers are upper case by rule)."""
    ungrouped = without_spaces(value)
    return ungrouped.upper() if isinstance(ungrouped, str) else ungrouped


_VAT_NUMBER = re.compile(r"[A-Z]{2}[0-9A-Z]{2,18}")


def _check_vat_number(value: str) -> str:
    """The shape every EU VAT number has (a country code, then digits and letters, some digits),
    and for a French one its key: `FR` + 2-digit key + SIREN, key = (12 + 3 × (SIREN mod 97))
    mod 97."""
    if not _VAT_NUMBER.fullmatch(value) or not any(char.isdigit() for char in value[2:]):
        raise ValueError("a VAT number is a country code then 2 to 18 digits or letters")
    body = value[2:]
    if value.startswith("FR") and len(body) == 11 and body.isdigit():
        key, siren = int(body[:2]), int(body[2:])
        if key != (12 + 3 * (siren % 97)) % 97:
            raise ValueError(f"{value} has a wrong key for SIREN {body[2:]}")
    return value


Siren = Annotated[
    str,
    BeforeValidator(without_spaces),
    AfterValidator(_check_siren),
    Field(examples=["552081317"], description="9 digits; spaces are ignored."),
]
VatNumber = Annotated[
    str,
    BeforeValidator(upper_without_spaces),
    AfterValidator(_check_vat_number),
    Field(examples=["FR44732829320"], description="Spaces are ignored, letters upper-cased."),
]


def parse_period(text: str, name: str = "period", location: str = "query") -> Period:
    """A `YYYY-MM` parameter or field, or a problem naming it."""
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise ValidationFailed(
            f"Invalid {name}.", errors=[FieldError(location, name, str(exc))]
        ) from None


def _not_a_bare_date(value: Any) -> Any:
    """Refuse a bare date `YYYY-MM-DD` where an instant is expected, with a message saying
    what to send (the instant check alone would only say "timezone info" is missing): which
    zone's midnight a date means is the caller's to say, as the API conventions require."""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            date.fromisoformat(value.strip())
        except ValueError:
            return value
        raise ValueError(
            "a date alone is not an instant: send an RFC 3339 date-time with an offset, "
            f"e.g. {value.strip()}T00:00:00Z"
        )
    return value


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_not_a_bare_date),
    Field(
        description="RFC 3339 date-time with an offset (a bare date or a datetime without an "
        "offset is refused).",
        examples=["2026-12-01T00:00:00+01:00", "2026-12-01T00:00:00Z"],
    ),
]
"""An instant in a query: invoices span contracts of several zones, so an instant must say its
offset; a bare date or a datetime without one is a 422 rather than a guess."""

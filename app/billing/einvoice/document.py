"""The snapshot of everything an e-invoice says, frozen when the invoice is issued.

The CII, UBL and PDF builders read only this: plain values, no session, no ORM object. A code or
data change after issue can therefore never make two documents of one invoice disagree, and each
builder is testable from a hand-made snapshot. Amounts are positive on a credit note: its type
code (381) says it credits, as EN 16931 expects, while the JSON invoice stores them negative.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

INVOICE_TYPE_CODE = "380"
CREDIT_NOTE_TYPE_CODE = "381"
SERVICES_PROCESS = "S1"  # BT-23: the French billing framework "services"
SIREN_SCHEME = "0002"  # BT-30/BT-47
ELECTRONIC_ADDRESS_SCHEME = "0225"  # BT-34/BT-49: the French annuaire
UNIT_CODES = {"contact": "C62", "hour": "HUR"}  # UN/ECE recommendation 20
QUANTITY_PLACES = 4

_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9+\-_/]{1,35}$")  # BR-FR-01/02


def valid_number(number: str) -> bool:
    """At most 35 characters of letters, digits and `-+_/` (BR-FR-01/02)."""
    return _NUMBER_PATTERN.match(number) is not None


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def quantity(value: Decimal) -> Decimal:
    """Billed units to 4 decimals: hours are fractional (volume × AHT / 3600) and a quantity of
    thirty digits helps nobody; the line amount stays the one the charter rule rounded."""
    rounded = value.quantize(Decimal(1).scaleb(-QUANTITY_PLACES), rounding=ROUND_HALF_UP)
    return rounded.normalize() if rounded != rounded.to_integral() else rounded.quantize(1)


def decimal_text(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: `20`, `5.5`, `1.2`."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class Address:
    line1: str
    line2: str | None
    postcode: str
    city: str
    country: str


@dataclass(frozen=True)
class Party:
    name: str
    siren: str
    vat_number: str | None
    address: Address
    electronic_address: str
    legal_information: str | None = None  # BT-33: legal form, share capital, RCS


@dataclass(frozen=True)
class ChargeBasis:
    """The charter figures a line was computed from, shown on the PDF (not in the XML)."""

    unit_label: str
    committed: str
    adjustments: str | None  # None: already inside the committed value (pooled evaluation)
    actual: str
    trigger: str
    floor: str
    commitment: str


@dataclass(frozen=True)
class Line:
    number: int
    name: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    net_amount: Decimal
    basis: ChargeBasis


@dataclass(frozen=True)
class Note:
    subject: str | None
    text: str


@dataclass(frozen=True)
class Payment:
    iban: str
    bic: str
    terms: str


@dataclass(frozen=True)
class Document:
    kind: Literal["invoice", "credit_note"]
    number: str
    issue_date: date
    due_date: date | None
    currency: str
    period_start: date
    period_end: date
    contract_reference: str
    seller: Party
    buyer: Party
    payment: Payment
    vat_on_debits: bool
    vat_rate: Decimal
    net_amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal
    lines: tuple[Line, ...]
    notes: tuple[Note, ...]
    credited_number: str | None = None
    credited_date: date | None = None

    @property
    def type_code(self) -> str:
        return CREDIT_NOTE_TYPE_CODE if self.kind == "credit_note" else INVOICE_TYPE_CODE

    @property
    def vat_percent(self) -> str:
        return decimal_text(self.vat_rate * 100)

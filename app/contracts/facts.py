"""What batch readers read of a contract and of an activity, as protocols that the ORM
`Contract` and `Activity` meet and so do a `ContractRow` and an `ActivityRow` read as plain
columns.

The portfolio overview reads every activity of every contract on each call, and an invoice
run every contract of a batch; building an ORM object per contract, activity and price cost
more than the rule computed with them, so they read rows (`service.activity_rows`,
`service.contract_rows_in_force`), while the per-contract pages keep their ORM objects.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol


class ContractFacts(Protocol):
    """A contract's identity, zone and currency, its first day and the terms on its row (those
    in force when it has no amendment, `terms.in_force`)."""

    @property
    def id(self) -> str: ...

    @property
    def client_id(self) -> str: ...

    @property
    def currency(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def starts_on(self) -> date: ...

    @property
    def commitment_deadline_days(self) -> int: ...

    @property
    def trigger_ratio(self) -> Decimal: ...

    @property
    def floor_ratio(self) -> Decimal: ...

    @property
    def upper_tolerance(self) -> Decimal: ...

    @property
    def evaluation(self) -> str: ...

    @property
    def vat_rate(self) -> Decimal: ...

    @property
    def payment_terms_days(self) -> int: ...


class PriceFacts(Protocol):
    @property
    def effective_from(self) -> date: ...

    @property
    def unit_price(self) -> Decimal: ...


class ActivityFacts(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def contract_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def billing_unit(self) -> str: ...

    @property
    def volume_basis(self) -> str: ...

    @property
    def reference_aht_seconds(self) -> Decimal | None: ...

    @property
    def prices(self) -> Sequence[PriceFacts]: ...


@dataclass(frozen=True)
class ContractRow:
    id: str
    client_id: str
    currency: str
    timezone: str
    starts_on: date
    commitment_deadline_days: int
    trigger_ratio: Decimal
    floor_ratio: Decimal
    upper_tolerance: Decimal
    evaluation: str
    vat_rate: Decimal
    payment_terms_days: int


@dataclass(frozen=True)
class PriceRow:
    effective_from: date
    unit_price: Decimal


@dataclass(frozen=True)
class ActivityRow:
    id: str
    contract_id: str
    name: str
    billing_unit: str
    volume_basis: str
    reference_aht_seconds: Decimal | None
    prices: tuple[PriceRow, ...]

"""What batch readers read of an activity: its identity, billing terms and prices, as a
protocol that an ORM `Activity` meets and so does an `ActivityRow` read as plain columns.

The portfolio overview reads every activity of every contract on each call; building an ORM
object per activity and per price cost more than the comparison computed with them, so it
reads rows (`service.activity_rows`), while the per-contract pages keep their ORM objects.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol


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

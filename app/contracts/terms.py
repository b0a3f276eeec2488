"""Which charter terms are in force in a period (pure): the latest amendment effective on or
before the period's first day. A contract without amendments (rows written before amendments
existed, or by a loader bypassing the service) is read with the terms on the contract row."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.contracts.facts import ContractFacts
from app.contracts.tables import ContractAmendment

TERM_FIELDS = (
    "trigger_ratio",
    "floor_ratio",
    "upper_tolerance",
    "evaluation",
    "vat_rate",
    "commitment_deadline_days",
    "payment_terms_days",
)
"""The terms that change by amendment, from a period on, never in place."""


@dataclass(frozen=True)
class Terms:
    effective_from: date
    trigger_ratio: Decimal
    floor_ratio: Decimal
    upper_tolerance: Decimal
    evaluation: str
    vat_rate: Decimal
    commitment_deadline_days: int
    payment_terms_days: int
    amendment_id: str | None


def of_row(row: ContractFacts | ContractAmendment, effective_from: date) -> Terms:
    return Terms(
        effective_from=effective_from,
        amendment_id=row.id if isinstance(row, ContractAmendment) else None,
        **{name: getattr(row, name) for name in TERM_FIELDS},
    )


def in_force(
    contract: ContractFacts, amendments: Sequence[ContractAmendment], first_day: date
) -> Terms:
    """The terms of the period starting `first_day`; `amendments` in (effective_from,
    created_at, id) order."""
    current = [row for row in amendments if row.effective_from <= first_day]
    if current:
        return of_row(current[-1], current[-1].effective_from)
    if amendments:
        return of_row(amendments[0], amendments[0].effective_from)
    return of_row(contract, contract.starts_on)

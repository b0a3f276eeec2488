"""The vocabulary of charter axis 1 that every domain shares, and its two quantity rules.

How an activity is billed (per contact or per hour) and measured (offered or handled
contacts), how a contract is evaluated (per activity or pooled), and how a commitment and the
actual activity become quantities in billing units (C and A). Contracts store these terms,
commitments compute C, billing judges C against A, the outlook compares them: so they live
below every domain. Pure: plain values in, plain values out.

The arithmetic context is the one of the billing rule (`app.billing.rules` explains the
precision): C and A are returned at its full working precision so that the rule can settle
them exactly.
"""

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum

ARITHMETIC = Context(
    prec=50, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
_SECONDS_PER_HOUR = Decimal(3600)


class BillingUnit(StrEnum):
    CONTACT = "contact"
    HOUR = "hour"


class VolumeBasis(StrEnum):
    """Which actual volume a per-contact activity is measured on.

    ``offered`` is the charter's default: contacts the provider failed to answer are the
    provider's failure, not activity the client failed to send.
    """

    OFFERED = "offered"
    HANDLED = "handled"


class Evaluation(StrEnum):
    PER_ACTIVITY = "per_activity"
    POOLED = "pooled"


def committed_quantity(
    unit: BillingUnit,
    volume: Decimal,
    aht_seconds: Decimal | None,
    reference_aht_seconds: Decimal | None,
) -> Decimal:
    """C, the committed quantity of a binding line, in billing units.

    Per hour, the line's own AHT is preferred over the activity's reference AHT; with neither,
    the commitment should have been rejected on receipt, so reaching here is an error. The
    value is returned at full working precision (not settled) so that the amount computed from
    it later can still be settled exactly.
    """
    if unit is BillingUnit.CONTACT:
        return volume
    aht = aht_seconds if aht_seconds is not None else reference_aht_seconds
    if aht is None:
        raise ValueError(
            "an hour-billed commitment line needs aht_seconds or the activity's "
            "reference_aht_seconds"
        )
    with localcontext(ARITHMETIC):
        return volume * aht / _SECONDS_PER_HOUR


def actual_quantity(
    unit: BillingUnit,
    basis: VolumeBasis,
    offered: int,
    handled: int,
    handled_seconds: Decimal,
) -> Decimal:
    """A, the actual quantity of a period, in billing units.

    ``handled_seconds`` is Σ handled * aht_seconds over the period's intervals. Per hour the
    volume basis does not apply: the provider is paid for the production hours it worked,
    which only handled contacts consume. Returned at full working precision, like C.
    """
    if unit is BillingUnit.CONTACT:
        return Decimal(offered if basis is VolumeBasis.OFFERED else handled)
    with localcontext(ARITHMETIC):
        return handled_seconds / _SECONDS_PER_HOUR

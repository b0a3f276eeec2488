"""Minimum billing under charter axis 1, sections 3 and 4: shortfall and invoice totals.

The quantities C and A it judges come from the shared vocabulary, `app.core.charter`.

Numbers and precision
---------------------
The charter asks for exact decimal arithmetic with only the amount rounded, half up, to the
cent. Contact quantities are exact. Hour quantities are not always representable: 20 000
contacts of 301 s are 1 673.6111… h. The rule therefore computes in a local 50-significant-digit
context (``ARITHMETIC``, shared with the quantity rules), which leaves an error around 1e-40
on realistic figures, and then *settles* every value it compares or rounds to 30 decimal
places (``_settle``). Settling is exact for every value whose decimal expansion ends within 30
places, and it removes the last-digit error of the divisions by 3600 before it can matter.
Without it two real cases go wrong:

* an amount that is exactly a half cent, reached through a repeating hour quantity
  (12 s at 28.50 EUR/h is exactly 0.095, but 0.00333…3 * 28.50 = 0.09499…9) would round down;
* an actual that equals the trigger exactly (A = 906 h against C = 1 006.666… h at 0.90) could
  be judged below a trigger computed as 906.000…03, starting a shortfall that does not exist.

Quantities are reported settled (unrounded at cent level, exact to 30 places, without trailing
zeros); only amounts are rounded to the cent.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from app.core.charter import ARITHMETIC, Evaluation

_SETTLE_QUANTUM = Decimal("1e-30")
_CENT = Decimal("0.01")
_ONE = Decimal(1)
_ZERO = Decimal(0)
_ZERO_AMOUNT = Decimal("0.00")


class BandStatus(StrEnum):
    """Where the actual falls against the commitment.

    ``over_band`` carries no amount: it tells axis 2 that service levels are not enforceable
    for the period because the client sent far more than it committed to.
    """

    WITHIN_BAND = "within_band"
    UNDER_BAND = "under_band"
    OVER_BAND = "over_band"


class ShortfallReason(StrEnum):
    """Why an evaluation could not produce an amount, when it could not."""

    NO_BINDING_COMMITMENT = "no_binding_commitment"
    NO_PRICE_IN_FORCE = "no_price_in_force"


@dataclass(frozen=True)
class ContractTerms:
    """The contract terms the rule reads, with the charter's defaults.

    The charter requires both ratios in (0, 1]; a floor above the trigger is allowed (once
    triggered the client pays up to the higher floor).
    """

    trigger_ratio: Decimal = Decimal("0.90")
    floor_ratio: Decimal = Decimal("0.90")
    upper_tolerance: Decimal = Decimal("0.10")
    evaluation: Evaluation = Evaluation.PER_ACTIVITY
    vat_rate: Decimal = Decimal("0.20")

    def __post_init__(self) -> None:
        for name, ratio in (
            ("trigger_ratio", self.trigger_ratio),
            ("floor_ratio", self.floor_ratio),
        ):
            if not _ZERO < ratio <= _ONE:
                raise ValueError(f"{name} must be in (0, 1], got {ratio}")
        if self.upper_tolerance < _ZERO:
            raise ValueError(f"upper_tolerance must be >= 0, got {self.upper_tolerance}")
        if self.vat_rate < _ZERO:
            raise ValueError(f"vat_rate must be >= 0, got {self.vat_rate}")


def round_half_up(amount: Decimal) -> Decimal:
    """Round to the cent, half away from zero, as the charter prescribes for amounts."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP, context=ARITHMETIC)


def _settle(value: Decimal) -> Decimal:
    """``value`` to 30 decimal places, without trailing zeros (see the module docstring)."""
    # The context is passed to each operation rather than entered with `localcontext`: the
    # same arithmetic, without a context switch on each of the dozen values per activity.
    settled = value.quantize(_SETTLE_QUANTUM, context=ARITHMETIC)
    if settled.is_zero():
        return _ZERO
    if settled == settled.to_integral_value(context=ARITHMETIC):
        return settled.quantize(_ONE, context=ARITHMETIC)
    return settled.normalize(ARITHMETIC)


def _require_non_negative(name: str, value: Decimal | None) -> None:
    if value is not None and value < _ZERO:
        raise ValueError(f"{name} must be >= 0, got {value}")


def price_in_force(prices: Iterable[tuple[date, Decimal]], on: date) -> Decimal | None:
    """The unit price of the row with the latest ``effective_from`` on or before ``on``.

    Price rows are never edited (axis 5 indexation adds a row), so two rows effective the same
    day would make the price ambiguous: that is refused rather than resolved arbitrarily.
    """
    seen: set[date] = set()
    in_force: tuple[date, Decimal] | None = None
    for effective_from, unit_price in prices:
        if effective_from in seen:
            raise ValueError(f"two prices are effective from {effective_from.isoformat()}")
        seen.add(effective_from)
        if effective_from <= on and (in_force is None or effective_from > in_force[0]):
            in_force = (effective_from, unit_price)
    return None if in_force is None else in_force[1]


@dataclass(frozen=True)
class _Judgement:
    """The band test's figures, settled as both evaluations report them, and the shortfall
    also unsettled: the amount is its product with the price, settled afterwards."""

    actual: Decimal
    trigger: Decimal
    floor: Decimal
    shortfall: Decimal
    shortfall_units: Decimal
    status: BandStatus


def _judge(terms: ContractTerms, committed: Decimal, actual: Decimal) -> _Judgement:
    """The band test shared by both evaluations: in units per activity, in money when pooled.

    With a committed quantity of 0 (nothing committed, or adjustments that neutralise the
    whole commitment) trigger and floor are 0, so there is never a shortfall, and any actual
    activity is over the band: the client sent work it had not committed to.

    Each figure is settled once, here, for the comparison and for the report alike (settling
    was a third of the rule's time in an invoice run, half of it settling a value twice).
    """
    # ARITHMETIC's own operations: the arithmetic of `localcontext(ARITHMETIC)` without
    # entering it, once per activity of an invoice run over thousands of contracts.
    trigger = _settle(ARITHMETIC.multiply(committed, terms.trigger_ratio))
    floor = ARITHMETIC.multiply(committed, terms.floor_ratio)
    settled_floor, settled_actual = _settle(floor), _settle(actual)
    if settled_actual < trigger:
        gap = ARITHMETIC.subtract(floor, actual)
        units = _settle(gap)
        if units <= _ZERO:
            gap = units = _ZERO
        return _Judgement(settled_actual, trigger, settled_floor, gap, units, BandStatus.UNDER_BAND)
    upper = ARITHMETIC.multiply(committed, ARITHMETIC.add(_ONE, terms.upper_tolerance))
    status = BandStatus.OVER_BAND if settled_actual > _settle(upper) else BandStatus.WITHIN_BAND
    return _Judgement(settled_actual, trigger, settled_floor, _ZERO, _ZERO, status)


def _effective(committed: Decimal, adjustments: Decimal) -> Decimal:
    return max(_ZERO, ARITHMETIC.subtract(committed, adjustments))


@dataclass(frozen=True)
class ActivityShortfall:
    """The per-activity result, with every figure an auditor needs to re-derive the amount.

    ``committed`` is None when no version binds; ``reason`` then says so and every derived
    figure is 0. ``adjustments`` is the sum of the agreed adjustments, in billing units.
    """

    committed: Decimal | None
    adjustments: Decimal
    committed_effective: Decimal
    actual: Decimal
    trigger: Decimal
    floor: Decimal
    shortfall_units: Decimal
    unit_price: Decimal | None
    amount: Decimal
    status: BandStatus
    reason: ShortfallReason | None


def evaluate_activity(
    terms: ContractTerms,
    committed: Decimal | None,
    adjustments: Decimal,
    actual: Decimal,
    unit_price: Decimal | None,
) -> ActivityShortfall:
    """Charter §3, per activity.

    Without a binding commitment there is no band: the figures are 0, the status is
    ``within_band`` and the reason is ``no_binding_commitment``. Without a price in force the
    units are still computed (they are facts about the period) but the amount is 0 and the
    reason is ``no_price_in_force``, so the caller can refuse to invoice instead of billing 0.
    """
    _require_non_negative("committed", committed)
    _require_non_negative("adjustments", adjustments)
    _require_non_negative("actual", actual)
    _require_non_negative("unit_price", unit_price)
    if committed is None:
        return ActivityShortfall(
            committed=None,
            adjustments=_settle(adjustments),
            committed_effective=_ZERO,
            actual=_settle(actual),
            trigger=_ZERO,
            floor=_ZERO,
            shortfall_units=_ZERO,
            unit_price=unit_price,
            amount=_ZERO_AMOUNT,
            status=BandStatus.WITHIN_BAND,
            reason=ShortfallReason.NO_BINDING_COMMITMENT,
        )
    effective = _effective(committed, adjustments)
    judgement = _judge(terms, effective, actual)
    reason: ShortfallReason | None = None
    if unit_price is None:
        amount, reason = _ZERO_AMOUNT, ShortfallReason.NO_PRICE_IN_FORCE
    else:
        amount = round_half_up(_settle(ARITHMETIC.multiply(judgement.shortfall, unit_price)))
    return ActivityShortfall(
        committed=_settle(committed),
        adjustments=_settle(adjustments),
        committed_effective=_settle(effective),
        actual=judgement.actual,
        trigger=judgement.trigger,
        floor=judgement.floor,
        shortfall_units=judgement.shortfall_units,
        unit_price=unit_price,
        amount=amount,
        status=judgement.status,
        reason=reason,
    )


def band_limits(
    terms: ContractTerms, committed: Decimal, adjustments: Decimal
) -> tuple[Decimal, Decimal]:
    """The trigger and floor, in units, of a commitment whose period is still open: the
    figures :func:`evaluate_activity` reports, without judging an actual that is not known
    yet (the outlook sets them against simulated totals, for every activity of a portfolio)."""
    effective = _effective(committed, adjustments)
    with localcontext(ARITHMETIC):
        return (
            _settle(effective * terms.trigger_ratio),
            _settle(effective * terms.floor_ratio),
        )


@dataclass(frozen=True)
class ActivityFigures:
    """One activity's inputs to a pooled evaluation (the arguments of :func:`evaluate_activity`)."""

    committed: Decimal | None
    adjustments: Decimal
    actual: Decimal
    unit_price: Decimal | None


@dataclass(frozen=True)
class PooledShortfall:
    """The contract-level result of a pooled evaluation, in money.

    ``activities`` holds the per-activity evaluations, in the order given, for information
    only: under pooled evaluation they are not billed.
    """

    committed_value: Decimal
    actual_value: Decimal
    trigger_value: Decimal
    floor_value: Decimal
    amount: Decimal
    status: BandStatus
    reason: ShortfallReason | None
    activities: tuple[ActivityShortfall, ...]


def _unvalued_pool(
    reason: ShortfallReason, lines: tuple[ActivityShortfall, ...]
) -> PooledShortfall:
    return PooledShortfall(
        committed_value=_ZERO,
        actual_value=_ZERO,
        trigger_value=_ZERO,
        floor_value=_ZERO,
        amount=_ZERO_AMOUNT,
        status=BandStatus.WITHIN_BAND,
        reason=reason,
        activities=lines,
    )


def evaluate_pooled(terms: ContractTerms, activities: Sequence[ActivityFigures]) -> PooledShortfall:
    """Charter §3, pooled: the contract is judged on C$ = Σ C_eff * price against A$ = Σ A * price.

    An activity without a binding commitment contributes neither to C$ nor to A$: the pool
    offsets a shortfall on committed work against a surplus on committed work, and work the
    client never committed to is outside that bargain. If no activity has a binding
    commitment the result is 0 with ``no_binding_commitment``. If a committed activity has no
    price in force the pool cannot be valued at all: the result is 0 with
    ``no_price_in_force``, rather than a value computed from the priced activities only.
    """
    lines = tuple(
        evaluate_activity(terms, a.committed, a.adjustments, a.actual, a.unit_price)
        for a in activities
    )
    pool: list[tuple[Decimal, Decimal, Decimal]] = []
    for a in activities:
        if a.committed is None:
            continue
        if a.unit_price is None:
            return _unvalued_pool(ShortfallReason.NO_PRICE_IN_FORCE, lines)
        pool.append((_effective(a.committed, a.adjustments), a.actual, a.unit_price))
    if not pool:
        return _unvalued_pool(ShortfallReason.NO_BINDING_COMMITMENT, lines)
    with localcontext(ARITHMETIC):
        committed_value = sum((effective * price for effective, _, price in pool), _ZERO)
        actual_value = sum((actual * price for _, actual, price in pool), _ZERO)
    judgement = _judge(terms, committed_value, actual_value)
    return PooledShortfall(
        committed_value=_settle(committed_value),
        actual_value=judgement.actual,
        trigger_value=judgement.trigger,
        floor_value=judgement.floor,
        amount=round_half_up(judgement.shortfall_units),
        status=judgement.status,
        reason=None,
        activities=lines,
    )


@dataclass(frozen=True)
class InvoiceTotals:
    net: Decimal
    vat: Decimal
    total: Decimal


def invoice_totals(line_amounts: Iterable[Decimal], vat_rate: Decimal) -> InvoiceTotals:
    """Charter §4: VAT is rounded once, on the net, not line by line."""
    with localcontext(ARITHMETIC):
        net = sum(line_amounts, _ZERO_AMOUNT)
        vat = round_half_up(net * vat_rate)
        return InvoiceTotals(net=net, vat=vat, total=net + vat)

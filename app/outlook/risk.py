"""What a commitment may cost, read from the distribution of a forecast period total (pure).

The charter bills `max(0, floor − A)` units only when `A < trigger`, so the expected shortfall
is E[1{A < trigger} · max(0, floor − A)], estimated over simulated totals of the period. A closed
period shows the billed figures instead (`comparison._as_billed`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt

_UNITS = Decimal("0.001")

FloatArray = npt.NDArray[np.float64]


def round_units(quantity: Decimal) -> Decimal:
    """An estimated quantity to the thousandth of a unit, half up: the precision of the stored
    volumes and forecasts (an estimate carries no more digits than what it is made from)."""
    return quantity.quantize(_UNITS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Outlook:
    probability_below_trigger: float
    expected_shortfall_units: Decimal


def outlook(samples: Sequence[float] | FloatArray, trigger: Decimal, floor: Decimal) -> Outlook:
    """P(A < trigger) and the expected billed units, from simulated period totals `samples`."""
    totals = np.asarray(samples, dtype=float)
    if totals.size == 0:
        raise ValueError("an outlook needs at least one simulated total")
    below = totals < float(trigger)
    billed = np.where(below, np.maximum(0.0, float(floor) - totals), 0.0)
    return Outlook(
        probability_below_trigger=float(below.mean()),
        expected_shortfall_units=round_units(Decimal(repr(float(billed.mean())))),
    )


def realised(actual: Decimal, trigger: Decimal, shortfall_units: Decimal) -> Outlook:
    """A closed period's outcome in the same shape: certain, not estimated (the activity's own
    rule; a pooled contract's billed figures replace it, see `comparison._as_billed`)."""
    return Outlook(
        probability_below_trigger=1.0 if actual < trigger else 0.0,
        expected_shortfall_units=shortfall_units,
    )


def deviation_pct(committed: Decimal, forecast: Decimal) -> Decimal | None:
    """(committed − provider forecast) / provider forecast × 100, to 0.01; None if the
    forecast is 0."""
    if forecast == 0:
        return None
    return ((committed - forecast) / forecast * 100).quantize(Decimal("0.01"))

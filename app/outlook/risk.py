"""What a commitment may cost, read from the distribution of a forecast period total (pure).

The charter bills `max(0, floor − A)` units only when `A < trigger`, so the expected shortfall
is E[1{A < trigger} · max(0, floor − A)], estimated over simulated totals of the period. A closed
period shows the billed figures instead (`comparison._as_billed`).
"""

from collections import defaultdict
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
    return outlooks([(samples, trigger, floor)])[0]


Case = tuple[Sequence[float] | FloatArray, Decimal, Decimal]
"""Simulated totals of a period, with the trigger and floor they are set against."""


def outlooks(cases: Sequence[Case]) -> list[Outlook]:
    """`outlook` of each case, computed together for the cases with as many samples: a
    portfolio has thousands, and an array operation per case cost more than the arithmetic.
    Row by row, the figures are those of each case alone (the same operations on each row)."""
    found: list[Outlook | None] = [None] * len(cases)
    by_size: dict[int, list[int]] = defaultdict(list)
    for index, (samples, _, _) in enumerate(cases):
        by_size[len(samples)].append(index)
    for size, indices in by_size.items():
        if size == 0:
            raise ValueError("an outlook needs at least one simulated total")
        totals = np.stack([np.asarray(cases[index][0], dtype=float) for index in indices])
        triggers = np.array([[float(cases[index][1])] for index in indices])
        floors = np.array([[float(cases[index][2])] for index in indices])
        below = totals < triggers
        billed = np.where(below, np.maximum(0.0, floors - totals), 0.0)
        for index, probability, shortfall in zip(
            indices, below.mean(axis=1), billed.mean(axis=1), strict=True
        ):
            found[index] = Outlook(
                probability_below_trigger=float(probability),
                expected_shortfall_units=round_units(Decimal(repr(float(shortfall)))),
            )
    return [estimate for estimate in found if estimate is not None]


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

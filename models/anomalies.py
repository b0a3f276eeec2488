"""Abnormal days of a history: outages and one-off events that must not teach the models.

Real series carry days (and whole weeks) far from their pattern that nobody planned: a
feed that lost half a day, a station closed for works, a storm. A model fitted on them reads
them as a level change (exponential smoothing drags its level down for weeks), as a season
(annual terms bend around them) or repeats them (the seasonal naive copies an outage week);
a backtest scored on them ranks candidates on what none of them could forecast. On the real
development series (Chicago stations) such days were the main reason `auto` lost to a plain
seasonal naive.

A day is abnormal when its log volume is far from the same weekday's median both in the
weeks BEFORE it and in the weeks AFTER it, in the same direction: an outage or a one-off
event breaks the pattern on both sides, a lasting level shift only on one (its first days
stay normal data, so the models follow the new level). "Far" is `THRESHOLD_NOISE` times the
series' own robust day-to-day noise, and never less than `MIN_DEVIATION`. In the first and
last weeks of the history one side is missing, and the rest of the day's week decides:
  * the rest is normal (within half the threshold): the day is abnormal, as a Thursday and
    Friday at a third of the days around them are an outage (the seasonal naive would copy
    them into every week of the forecast);
  * the rest moved with it, beyond the threshold: the whole week may be the start of a new
    level, and stays data;
  * in between (the rest moved, but by less than the threshold): the evidence for a new level
    is partial, so the day is LIMITED: the models see it at the threshold from its other side,
    not at its own volume. On a real station whose last week slid from -12 % to -64 % (a
    transient: two weeks later it was back), the raw days dragged the forecast 45 % below
    the outcome for a month; a genuine new level is still followed at once up to the
    threshold, and wholly as soon as its week moves together or its days have weeks after
    them.

Only regular days are tested: holidays, the catch-up day after a closed holiday and school
holidays have their own regressors, and a quiet holiday is their effect, not an anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.base import BoolArray, FloatArray

NEIGHBOUR_WEEKS = 4
"""Same-weekday neighbours looked at on each side."""
MIN_NEIGHBOURS = 2
"""Neighbours needed on EACH side before a day can be called abnormal."""
THRESHOLD_NOISE = 5.0
"""Robust standard deviations (1.4826 x median absolute deviation) of the day-to-day noise."""
MIN_DEVIATION = 0.2
"""The smallest deviation ever called abnormal, in log volume (about -18 % / +22 %): below it
a day is ordinary variation for a planner, whatever the noise of the series."""


@dataclass(frozen=True)
class Anomalies:
    """What the models must not learn from a history as it was."""

    abnormal: BoolArray
    """Days left out of the backtest scores and the profiles: the outages and the limited days."""
    limited: FloatArray
    """The volume the models fit on for a limited day (NaN on every other day): its deviation
    from the weeks on its known side cut to the threshold."""


def find_anomalies(values: FloatArray, testable: BoolArray, season_length: int) -> Anomalies:
    """The abnormal and limited days of the open-day series `values` (NaN where excluded).

    `testable`: the days that may be flagged (observed regular days). Neighbours are the same
    position in the neighbouring weeks of the open-day series (period `season_length`), among
    observed days (holidays are neighbours too: only their own test is skipped).
    """
    n = values.size
    flagged = np.zeros(n, dtype=bool)
    limited = np.full(n, np.nan)
    if n < (2 * MIN_NEIGHBOURS + 1) * season_length or season_length < 1:
        return Anomalies(flagged, limited)
    z = np.log1p(np.where(values > 0, values, np.nan))
    before = _side_medians(z, season_length, -1)
    after = _side_medians(z, season_length, +1)
    from_before, from_after = z - before, z - after
    both_sides = np.isfinite(from_before) & np.isfinite(from_after)
    centred = z - (before + after) / 2
    if not both_sides.any():
        return Anomalies(flagged, limited)
    noise = 1.4826 * float(np.median(np.abs(centred[both_sides])))
    threshold = max(THRESHOLD_NOISE * noise, MIN_DEVIATION)
    same_direction = np.sign(from_before) == np.sign(from_after)
    nearer = np.fmin(np.abs(from_before), np.abs(from_after))
    flagged = testable & both_sides & same_direction & (nearer > threshold)
    one_side = np.where(np.isfinite(from_before), from_before, from_after)
    edge = testable & ~both_sides & np.isfinite(one_side)
    for i in np.flatnonzero(edge & (np.abs(one_side) > threshold)).tolist():
        week = np.arange(max(i - season_length + 1, 0), min(i + season_length, n))
        rest = one_side[week[(week != i) & np.isfinite(one_side[week])]]
        if rest.size == 0:
            continue
        moved = float(np.median(rest))
        if abs(moved) < threshold / 2:
            flagged[i] = True
        elif not (abs(moved) >= threshold and np.sign(moved) == np.sign(one_side[i])):
            known_side = z[i] - one_side[i]
            limited[i] = float(np.expm1(known_side + np.sign(one_side[i]) * threshold))
    return Anomalies(flagged | np.isfinite(limited), limited)


def _side_medians(z: FloatArray, season_length: int, direction: int) -> FloatArray:
    """Per day, the median of the same weekday over the `NEIGHBOUR_WEEKS` weeks on one side
    (NaN when fewer than `MIN_NEIGHBOURS` of them are observed)."""
    n = z.size
    neighbours = np.full((NEIGHBOUR_WEEKS, n), np.nan)
    for weeks in range(1, NEIGHBOUR_WEEKS + 1):
        lag = weeks * season_length
        if lag >= n:
            break
        if direction < 0:
            neighbours[weeks - 1, lag:] = z[:-lag]
        else:
            neighbours[weeks - 1, :-lag] = z[lag:]
    enough = np.sum(np.isfinite(neighbours), axis=0) >= MIN_NEIGHBOURS
    medians = np.full(n, np.nan)
    if enough.any():
        medians[enough] = np.nanmedian(neighbours[:, enough], axis=0)
    return medians

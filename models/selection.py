"""Model choice that does not chase backtest noise.

Five backtest origins are a small sample: on a short or noisy history the candidate with the
lowest pooled WAPE is often best by luck, and picking it alone makes the chosen method (and the
bias) flip from one origin to the next. The rule here:

  1. the best candidate is the one with the lowest pooled WAPE over the origins;
  2. another candidate is TIED with it when its WAPE is within noise of the best's: the mean of
     its per-origin WAPE differences to the best is below `NOISE_Z` standard errors of those
     differences, or below `RELATIVE_TIE` of the best WAPE (differences smaller than that do not
     matter to a planner and are never significant on five origins), and never when it is more
     than `NEVER_TIE` worse;
  3. the tied candidates are combined with equal weights (`ensemble.combine`); a candidate that
     is clearly better than all others (no tie) is used alone.

Paired differences are used because the origins share their difficulty (a holiday window is
hard for every model): what matters is how consistently one model beats another across the
same windows, not the spread of each model's own errors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from models.base import FloatArray

NOISE_Z = 2.0
"""Standard errors of the paired per-origin differences within which candidates are ties.
With five origins, two candidates of the same skill are tied about nine times in ten (the
t distribution with 4 degrees of freedom); one error would pick the lucky one a third of the
time."""
RELATIVE_TIE = 0.02
"""WAPE differences below 2 % of the best WAPE are ties whatever the spread."""
NEVER_TIE = 0.25
"""A candidate more than 25 % worse than the best is never a tie, however noisy the origins:
one wild origin must not make a model that fails on it look "within noise"."""
MAX_MEMBERS = 3
"""At most the best three tied candidates are combined (more adds cost and little accuracy)."""
RULE = (
    f"candidates whose per-origin WAPE differences to the best are within {NOISE_Z:g} standard "
    f"error (at least {RELATIVE_TIE:.0%}, at most {NEVER_TIE:.0%} of its WAPE) are ties; ties "
    f"are combined with equal weights, up to {MAX_MEMBERS}; a candidate clearly better than all "
    "others is used alone"
)


@dataclass(frozen=True)
class CandidateMargin:
    """How far a candidate is from the best: mean per-origin WAPE difference and its noise."""

    alias: str
    wape: float
    margin: float
    """Mean over the origins of (this candidate's WAPE - the best's WAPE)."""
    noise: float
    """The tie threshold for this candidate: NOISE_Z standard errors, or RELATIVE_TIE."""
    tied: bool


SHORT_HISTORY_CLAUSE = (
    "below a year of history, the tied candidates are combined only when their combination "
    "backtests better than the best alone"
)
"""On a short history nearly every candidate ties (a few weeks of windows tell little), and
combining them all is no longer a hedge between skills: on real half-hourly demand with five
to ten weeks of history, exponential smoothing tied with the seasonal naive and ARIMA, and
their combination was 11 % worse than exponential smoothing alone, where the issue asks `auto`
to be at least as good as the best single candidate. Kept only when its own backtest is better,
the combination stayed on the short Chicago histories (6 and 9 months: unchanged) and the
short series gained (taylor 0.0324 -> 0.0292, hyndsight 0.121 -> 0.111).

Month totals are left out of the clause: their error is the level's, which a combination of
tied models hedges and a few days' WAPE does not judge. Applied to them, the clause cost 2 %
on the real month totals (pooled ratio 0.961 -> 0.981, hyndsight 1.149 -> 1.463); judging the
combination on its backtest windows' totals instead did no better (0.983)."""


@dataclass(frozen=True)
class Selection:
    """What was chosen and why."""

    best: str
    members: tuple[str, ...]
    """The candidates used: one (clearly best) or the tied ones, combined."""
    margins: tuple[CandidateMargin, ...]
    rule: str = RULE

    @property
    def combined(self) -> bool:
        return len(self.members) > 1

    @property
    def best_wape(self) -> float:
        """The best candidate's pooled WAPE (the margins are ranked, best first)."""
        return self.margins[0].wape

    def alone(self, reason: str) -> Selection:
        """The best candidate alone, the rule saying why."""
        return replace(self, members=(self.best,), rule=f"{self.rule}; {reason}")


def select(
    per_origin_wape: dict[str, FloatArray],
    pooled_wape: dict[str, float],
    effective_origins: float | None = None,
    never_tie: float = NEVER_TIE,
) -> Selection:
    """Choose among candidates from their WAPE at each backtest origin (same origins for all).

    `pooled_wape` ranks them (errors over actuals summed over the origins); `per_origin_wape`
    gives the paired differences that say whether a gap is noise. `effective_origins` is what
    the origins are worth when their windows overlap (`BacktestPlan.effective_windows`): the
    standard error of the mean difference is taken over that many, not over the origins.
    `never_tie`: the largest gap, relative to the best WAPE, ever called a tie.
    """
    if not pooled_wape:
        raise ValueError("select needs at least one scored candidate")
    ranked = sorted(pooled_wape, key=lambda alias: (pooled_wape[alias], alias))
    best = ranked[0]
    margins = []
    for alias in ranked:
        differences = per_origin_wape[alias] - per_origin_wape[best]
        margin = float(np.mean(differences))
        spread = float(np.std(differences, ddof=1)) if differences.size > 1 else 0.0
        worth = differences.size if effective_origins is None else effective_origins
        noise = float(
            np.clip(
                NOISE_Z * spread / np.sqrt(max(min(worth, differences.size), 1.0)),
                RELATIVE_TIE * pooled_wape[best],
                never_tie * pooled_wape[best],
            )
        )
        margins.append(CandidateMargin(alias, pooled_wape[alias], margin, noise, margin <= noise))
    members = tuple(m.alias for m in margins if m.tied)[:MAX_MEMBERS]
    return Selection(best, members, tuple(margins))

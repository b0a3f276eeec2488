"""Erlang C and Erlang A staffing for one interval of one activity.

Staffing figures feed the ops dashboards, not invoices, so they are plain floats: they are
probabilities and head counts, and a relative error of 1e-12 changes nothing anyone decides.
Inputs may still arrive as ``Decimal`` (volumes and handling times are stored that way) and are
converted once at the boundary.

Numerical stability is the design constraint. The textbook Erlang C formula needs ``A**n / n!``,
which overflows a float once ``n`` passes 170, so real contact-centre loads (hundreds or
thousands of erlangs) are out of its reach. Here Erlang B comes from its recursion, whose terms
stay in [0, 1], and Erlang C is derived from it; Erlang A works with logarithms of its sums.
Every quantity therefore stays finite from 0 to well beyond 5,000 erlangs and 6,000 agents.

Sizing never evaluates a candidate from scratch. Erlang C walks the agent count upwards and
advances Erlang B by one recursion step per candidate, so a search costs about as much as one
evaluation at the answer. Erlang A, whose candidates each cost incomplete-gamma evaluations,
gallops from the Erlang C answer and bisects, over one shared table of Erlang B values. A
month of 30-minute intervals for 100 activities sizes in about a second
(``benchmarks/staffing.py``).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Real = float | Decimal
"""A number accepted from callers; ``int`` is included, as everywhere a float is."""

_TOLERANCE = 1e-12
"""Relative slack when comparing a computed service level or occupancy with its target, so that
a figure equal to the target up to rounding (0.7999999999999999 against 0.8) meets it instead of
costing an agent."""

_SERIES_EPSILON = 1e-17
"""Relative size of the neglected tail at which a positive series is considered summed."""

_SCIPY_SHAPE_LIMIT = 5e4
"""Above this shape, ``scipy.special.gammainc`` is only trusted near ``x == a``.

Outside its uniform asymptotic band (``|x - a| < 4.5 sqrt(a)``) and for ``x < a``, scipy
sums the power series but stops after 2,000 terms; for shapes beyond ~1e5 that truncates the
sum and returns values up to 40 % too small (measured with scipy 1.17). Our own series has no
cap, so it takes over there (the Erlang A shape is ``agents * patience / aht``, which exceeds
1e5 only for very patient callers).
"""

_STIRLING_FROM = 10.0
"""Shape from which ``lgamma(c + 1)`` is replaced by its Stirling series, to avoid subtracting
numbers of size ``c log c`` from each other."""


@dataclass(frozen=True)
class StaffingResult:
    """What a number of agents achieves on one interval.

    ``agents`` are the productive agents on the phones; ``fte`` is the head count to roster
    once shrinkage (breaks, training, absence) is added. ``abandon_rate`` is ``None`` for
    Erlang C, whose callers never hang up, and the share of all arrivals that abandon for
    Erlang A.
    """

    agents: int
    service_level: float
    asa_seconds: float
    occupancy: float
    fte: float
    abandon_rate: float | None


@dataclass(frozen=True)
class ErlangAMetrics:
    """All Erlang A figures for one agent count, computed together because they share the
    expensive sums.

    ``service_level`` is the share of *all* arrivals answered within the answer time (callers
    who abandon, whenever they do, count as not answered in time); ``asa_seconds`` is the mean
    wait of the calls that are answered.
    """

    wait_probability: float
    abandon_probability: float
    service_level: float
    asa_seconds: float
    occupancy: float


# --------------------------------------------------------------------------------------------
# Validation: the HTTP layer validates too; this is the safety net for batch callers.


def _number(name: str, value: Real) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _non_negative(name: str, value: Real) -> float:
    number = _number(name, value)
    if number < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number


def _positive(name: str, value: Real) -> float:
    number = _number(name, value)
    if number <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def _agents(value: int) -> int:
    try:
        agents = operator.index(value)
    except TypeError:
        raise ValueError(f"agents must be a whole number, got {value!r}") from None
    if agents < 0:
        raise ValueError(f"agents must be >= 0, got {value!r}")
    return agents


def _service_level_target(value: Real) -> float:
    number = _number("service_level_target", value)
    if not 0.0 < number < 1.0:
        raise ValueError(f"service_level_target must be strictly between 0 and 1, got {value!r}")
    return number


def _max_occupancy(value: Real) -> float:
    number = _number("max_occupancy", value)
    if not 0.0 < number <= 1.0:
        raise ValueError(f"max_occupancy must be in (0, 1], got {value!r}")
    return number


def _shrinkage(value: Real) -> float:
    number = _number("shrinkage", value)
    if not 0.0 <= number < 1.0:
        raise ValueError(f"shrinkage must be in [0, 1), got {value!r}")
    return number


def _interval_load(volume: Real, interval_minutes: Real, aht_seconds: Real) -> tuple[float, float]:
    """Validated (offered load in erlangs, AHT in seconds) of an interval."""
    calls = _non_negative("volume", volume)
    minutes = _positive("interval_minutes", interval_minutes)
    aht = _positive("aht_seconds", aht_seconds)
    return calls * aht / (minutes * 60.0), aht


# --------------------------------------------------------------------------------------------
# Erlang B and C


def offered_load(volume: Real, interval_seconds: Real, aht_seconds: Real) -> float:
    """Offered traffic in erlangs: the average number of calls in progress if every call were
    answered at once (``volume * aht / interval``)."""
    calls = _non_negative("volume", volume)
    seconds = _positive("interval_seconds", interval_seconds)
    aht = _positive("aht_seconds", aht_seconds)
    return calls * aht / seconds


def _erlang_b(agents: int, load: float) -> float:
    # B(n) = A B(n-1) / (n + A B(n-1)) keeps every term in [0, 1]: no factorial, no power,
    # and it underflows gracefully to 0 when agents vastly exceed the load.
    b = 1.0
    for n in range(1, agents + 1):
        carried = load * b
        b = carried / (n + carried)
    return b


def erlang_b(agents: int, load: Real) -> float:
    """Blocking probability of an M/M/n/n loss system (Erlang B), by the stable recursion."""
    return _erlang_b(_agents(agents), _non_negative("load", load))


def _wait_probability(agents: int, load: float) -> float:
    if load == 0.0:
        return 0.0
    if agents <= load:
        return 1.0
    b = _erlang_b(agents, load)
    # C = n B / (n - A (1 - B)), written so that the denominator is a sum of positive terms.
    return agents * b / (agents - load + load * b)


def erlang_c_wait_probability(agents: int, load: Real) -> float:
    """Probability that a call has to queue (Erlang C).

    With no more agents than erlangs the queue grows without bound, so every call waits (1.0).
    With no traffic at all no call waits (0.0), whatever the staffing.
    """
    return _wait_probability(_agents(agents), _non_negative("load", load))


def service_level(agents: int, load: Real, aht_seconds: Real, answer_time_seconds: Real) -> float:
    """Share of calls answered within ``answer_time_seconds`` (Erlang C):
    ``1 - C * exp(-(n - A) t / AHT)``.

    0.0 for an unstable queue (agents <= load): in the long run the wait exceeds any bound.
    """
    n = _agents(agents)
    a = _non_negative("load", load)
    aht = _positive("aht_seconds", aht_seconds)
    t = _non_negative("answer_time_seconds", answer_time_seconds)
    if a == 0.0:
        return 1.0
    if n <= a:
        return 0.0
    return 1.0 - _wait_probability(n, a) * math.exp(-(n - a) * t / aht)


def average_speed_of_answer(agents: int, load: Real, aht_seconds: Real) -> float:
    """Mean wait over all calls, in seconds (Erlang C): ``C * AHT / (n - A)``.

    ``math.inf`` for an unstable queue (agents <= load).
    """
    n = _agents(agents)
    a = _non_negative("load", load)
    aht = _positive("aht_seconds", aht_seconds)
    if a == 0.0:
        return 0.0
    if n <= a:
        return math.inf
    return _wait_probability(n, a) * aht / (n - a)


def occupancy(agents: int, load: Real) -> float:
    """Share of agent time spent on calls: ``A / n``.

    Capped at 1.0 because agents cannot be busier than always busy: with ``n <= A`` (including
    zero agents facing traffic) the queue is saturated and so is every agent. No traffic gives
    0.0.
    """
    n = _agents(agents)
    a = _non_negative("load", load)
    if a == 0.0:
        return 0.0
    if n <= a:
        return 1.0
    return a / n


def _occupancy_floor(load: float, max_occupancy: float) -> int:
    """Smallest agent count whose occupancy ``load / n`` does not exceed the cap.

    ``ceil(load / cap)`` alone can overshoot by one when the division rounds up
    (8 / 0.8 = 10.000000000000002), so the candidate below is checked too.
    """
    agents = math.ceil(load / max_occupancy)
    if agents > 1 and load / (agents - 1) <= max_occupancy * (1.0 + _TOLERANCE):
        agents -= 1
    return agents


def _erlang_c_search(
    load: float, aht: float, goal: float, answer_time: float, cap: float
) -> tuple[int, float, float]:
    """(agents, service level, wait probability) of the Erlang C sizing of a positive load."""
    n = max(math.floor(load) + 1, _occupancy_floor(load, cap))
    b = _erlang_b(n, load)
    while True:
        spare = n - load
        wait = n * b / (spare + load * b)
        level = 1.0 - wait * math.exp(-spare * answer_time / aht)
        if level >= goal:
            return n, level, wait
        n += 1
        carried = load * b
        b = carried / (n + carried)


def size_erlang_c(
    volume: Real,
    interval_minutes: Real,
    aht_seconds: Real,
    service_level_target: Real,
    answer_time_seconds: Real,
    max_occupancy: Real = 1.0,
    shrinkage: Real = 0.0,
) -> StaffingResult:
    """Fewest agents meeting both the service-level target and the occupancy cap (Erlang C).

    The search starts at the larger of the two lower bounds that need no queueing maths — a
    stable queue (``floor(A) + 1``) and the occupancy cap (``ceil(A / cap)``) — and steps up one
    agent at a time, advancing Erlang B by one recursion step per candidate. Service level
    increases with agents, so the first candidate that meets the target is the answer.

    Zero volume needs zero agents (service level 1.0, ASA 0, occupancy 0).
    """
    load, aht = _interval_load(volume, interval_minutes, aht_seconds)
    target = _service_level_target(service_level_target)
    t = _non_negative("answer_time_seconds", answer_time_seconds)
    cap = _max_occupancy(max_occupancy)
    shrink = _shrinkage(shrinkage)
    if load == 0.0:
        return StaffingResult(0, 1.0, 0.0, 0.0, 0.0, None)

    n, level, wait = _erlang_c_search(load, aht, target - _TOLERANCE, t, cap)
    spare = n - load
    return StaffingResult(
        agents=n,
        service_level=level,
        asa_seconds=wait * aht / spare,
        occupancy=load / n,
        fte=n / (1.0 - shrink),
        abandon_rate=None,
    )


def evaluate_erlang_c(
    agents: int,
    volume: Real,
    interval_minutes: Real,
    aht_seconds: Real,
    answer_time_seconds: Real,
    shrinkage: Real = 0.0,
) -> StaffingResult:
    """What ``agents`` achieve on an interval (Erlang C): the reverse of :func:`size_erlang_c`,
    for "what if we only have 12 people" questions. An unstable queue reports service level
    0.0, infinite ASA and occupancy 1.0."""
    n = _agents(agents)
    load, aht = _interval_load(volume, interval_minutes, aht_seconds)
    t = _non_negative("answer_time_seconds", answer_time_seconds)
    fte = n / (1.0 - _shrinkage(shrinkage))
    if load == 0.0:
        return StaffingResult(n, 1.0, 0.0, 0.0, fte, None)
    if n <= load:
        return StaffingResult(n, 0.0, math.inf, 1.0, fte, None)
    wait = _wait_probability(n, load)
    spare = n - load
    return StaffingResult(
        agents=n,
        service_level=1.0 - wait * math.exp(-spare * t / aht),
        asa_seconds=wait * aht / spare,
        occupancy=load / n,
        fte=fte,
        abandon_rate=None,
    )


# --------------------------------------------------------------------------------------------
# Erlang A (M/M/n+M: Palm's model with exponential patience)
#
# Notation: mu = 1/AHT, theta = 1/patience, lambda = A mu. With a = n mu / theta and
# x = lambda / theta, the stationary probabilities of the birth-death chain are
#   pi_j = pi_0 A^j / j!                           for j <= n (no queue),
#   pi_{n+k} = pi_n prod_{i=1..k} x / (a + i)     for k >= 0 (k callers queue; each abandons
#                                                  at rate theta).
# Everything follows from the queue sum S(a, x) = sum_k prod_{i=1..k} x / (a + i), which equals
# Gamma(a + 1) x^-a e^x P(a, x) with P the regularised lower incomplete gamma function
# (Garnett, Mandelbaum & Reiman 2002; Mandelbaum & Zeltyn). With E = ErlangB(n, A):
#   P(wait)           = E S / (1 + (S - 1) E)
#   P(abandon)        = P(wait) (1 - (1 - 1/S) / rho),           rho = A / n
#   P(served | wait)  = (1 - 1/S) / rho
# The offered wait V of a caller who finds k others queueing is a sum of exponential stages of
# rates theta (a + j), j = 0..k; summing over k gives
#   P(V > t)                         = P(wait) P(a, x u) / P(a, x),   u = exp(-theta t)
#   P(served within t, after a wait) = P(wait) (1 / rho) (1 - 1/S - R),
#       R = P(a + 1, x u) / P(a, x)
#   E[V exp(-theta V); V > 0]        = P(served after a wait) (1 / theta)
#                                      (1 / (a + 1) - d/dc log S(c, x) at c = a + 1)
# the last one being minus the derivative of the Laplace transform of V at theta. S can be
# astronomically large (heavy overload with patient callers), so it is handled as log S.


def _stirling_tail(c: float) -> float:
    # lgamma(c + 1) - ((c + 1/2) log c - c + log(2 pi) / 2); truncation error < 1e-12 at c = 10.
    inv = 1.0 / c
    inv2 = inv * inv
    return inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)))


def _log_prefactor(c: float, z: float) -> float:
    """``log(Gamma(c + 1) z**-c e**z)`` without cancelling terms of size ``c log c``."""
    if c < _STIRLING_FROM:
        return math.lgamma(c + 1.0) - c * math.log(z) + z
    d = z - c
    return -c * math.log1p(d / c) + d + 0.5 * math.log(2.0 * math.pi * c) + _stirling_tail(c)


def _log_queue_sum_series(c: float, z: float) -> float:
    """``log S(c, z)`` by direct summation; only called with ``z < c``, where every ratio
    ``z / (c + k)`` is below 1, terms decrease and the tail is bounded by a geometric series.
    It needs about ``37 c / (c - z)`` terms: a few hundred at most where it is used, up to
    ~10 sqrt(c) in the huge-shape corner scipy cannot handle."""
    total = 1.0
    term = 1.0
    k = 0.0
    while True:
        k += 1.0
        ratio = z / (c + k)
        term *= ratio
        total += term
        if term * ratio < _SERIES_EPSILON * total * (1.0 - ratio):
            return math.log(total)


def _log_queue_sum(c: float, z: float) -> float:
    """``log S(c, z)`` with ``S(c, z) = sum_k prod_{i=1..k} z / (c + i) = Gamma(c+1) z^-c e^z
    P(c, z)``, accurate to ~1e-12 relative in S for every shape the staffing search meets.

    scipy's ``gammainc`` gives ``P`` cheaply and accurately except where it underflows (``z``
    far below ``c``) or where its own series is truncated (huge ``c``, see
    :data:`_SCIPY_SHAPE_LIMIT`); both cases have ``z < c`` and are summed directly instead.
    """
    # scipy.special is imported on the first sizing, not with the app (the API server and the
    # dashboard import this module): it is some 25 MB of resident memory and a second of
    # start-up for a server that may never size a team. After the first call it is a lookup.
    from scipy.special import gammainc

    if z == 0.0:
        return 0.0
    if z < c and c > _SCIPY_SHAPE_LIMIT and c - z > 4.0 * math.sqrt(c):
        return _log_queue_sum_series(c, z)
    p = float(gammainc(c, z))
    if p < 1e-280:
        return _log_queue_sum_series(c, z)
    return _log_prefactor(c, z) + math.log(p)


@dataclass(frozen=True)
class _ErlangAState:
    agents: int
    load: float
    aht: float
    patience: float
    shape: float  # a = n mu / theta
    scaled_load: float  # x = lambda / theta
    log_queue_sum: float
    wait: float
    served_after_wait: float  # P(wait and eventually served)
    abandon: float


def _erlang_a_state(
    agents: int, load: float, aht: float, patience: float, erlang_b_value: float
) -> _ErlangAState:
    """The quantities every Erlang A figure needs; requires ``agents >= 1`` and ``load > 0``."""
    ratio = patience / aht
    shape = agents * ratio
    scaled_load = load * ratio
    log_s = _log_queue_sum(shape, scaled_load)
    inv_s = math.exp(-log_s)
    e = erlang_b_value
    # E / (E + (1 - E) / S) is E S / (1 + (S - 1) E) without forming S, which may overflow.
    wait = 0.0 if e == 0.0 else e / (e + (1.0 - e) * inv_s)
    served_given_wait = min(1.0, -math.expm1(-log_s) * agents / load)
    served_after_wait = wait * served_given_wait
    abandon = min(1.0, max(0.0, wait - served_after_wait))
    return _ErlangAState(
        agents, load, aht, patience, shape, scaled_load, log_s, wait, served_after_wait, abandon
    )


def _erlang_a_service_level(state: _ErlangAState, answer_time: float) -> float:
    if state.wait == 0.0:
        return 1.0
    log_u = -answer_time / state.patience
    a = state.shape
    x = state.scaled_load
    log_r = (
        math.log(x)
        - math.log1p(a)
        + (a + 1.0) * log_u
        - x * math.expm1(log_u)
        + _log_queue_sum(a + 1.0, x * math.exp(log_u))
        - state.log_queue_sum
    )
    answered_late_or_never = state.wait - state.served_after_wait
    # served after a wait but within t = P(wait) / rho * (1 - 1/S - R)
    late_share = state.wait * (state.agents / state.load) * math.exp(log_r)
    level = 1.0 - answered_late_or_never - late_share
    return min(1.0, max(0.0, level))


def _erlang_a_asa(state: _ErlangAState) -> float:
    if state.served_after_wait == 0.0:
        return 0.0
    c = state.shape + 1.0
    x = state.scaled_load
    # d/dc log S(c, x) by a five-point stencil; the step follows the scale on which log S
    # varies: sqrt(c) near c == x, |c - x| away from it, never more than c itself.
    h = 1e-3 * min(c, math.sqrt(c) + abs(c - x))
    slope = (
        -_log_queue_sum(c + 2.0 * h, x)
        + 8.0 * _log_queue_sum(c + h, x)
        - 8.0 * _log_queue_sum(c - h, x)
        + _log_queue_sum(c - 2.0 * h, x)
    ) / (12.0 * h)
    mean_discounted_wait = state.served_after_wait * state.patience * (1.0 / c - slope)
    return mean_discounted_wait / (1.0 - state.abandon)


def _erlang_a_inputs(
    agents: int, load: Real, aht_seconds: Real, patience_seconds: Real
) -> tuple[int, float, float, float]:
    return (
        _agents(agents),
        _non_negative("load", load),
        _positive("aht_seconds", aht_seconds),
        _positive("patience_seconds", patience_seconds),
    )


def _erlang_a_metrics(
    n: int, load: float, aht: float, patience: float, answer_time: float
) -> ErlangAMetrics:
    if load == 0.0:
        return ErlangAMetrics(0.0, 0.0, 1.0, 0.0, 0.0)
    if n == 0:
        # Everyone waits and everyone hangs up; nobody is ever answered, hence the infinite ASA.
        return ErlangAMetrics(1.0, 1.0, 0.0, math.inf, 1.0)
    state = _erlang_a_state(n, load, aht, patience, _erlang_b(n, load))
    return ErlangAMetrics(
        wait_probability=state.wait,
        abandon_probability=state.abandon,
        service_level=_erlang_a_service_level(state, answer_time),
        asa_seconds=_erlang_a_asa(state),
        occupancy=load * (1.0 - state.abandon) / n,
    )


def erlang_a_metrics(
    agents: int,
    load: Real,
    aht_seconds: Real,
    patience_seconds: Real,
    answer_time_seconds: Real,
) -> ErlangAMetrics:
    """Every Erlang A figure for ``agents`` facing ``load`` erlangs whose callers hang up after
    an exponential patience of mean ``patience_seconds``.

    Unlike Erlang C, the queue is stable at any staffing (impatient callers drain it), so
    under-staffed intervals get finite, meaningful figures instead of "infinite wait".
    """
    n, a, aht, patience = _erlang_a_inputs(agents, load, aht_seconds, patience_seconds)
    t = _non_negative("answer_time_seconds", answer_time_seconds)
    return _erlang_a_metrics(n, a, aht, patience, t)


def erlang_a_wait_probability(
    agents: int, load: Real, aht_seconds: Real, patience_seconds: Real
) -> float:
    """Probability that an arriving call has to queue (Erlang A)."""
    return _erlang_a_share("wait", agents, load, aht_seconds, patience_seconds)


def erlang_a_abandon_probability(
    agents: int, load: Real, aht_seconds: Real, patience_seconds: Real
) -> float:
    """Share of all arriving calls that hang up before being answered (Erlang A)."""
    return _erlang_a_share("abandon", agents, load, aht_seconds, patience_seconds)


def _erlang_a_share(
    which: Literal["wait", "abandon"],
    agents: int,
    load: Real,
    aht_seconds: Real,
    patience_seconds: Real,
) -> float:
    """A share of arriving calls (Erlang A): none without traffic, all without agents."""
    n, a, aht, patience = _erlang_a_inputs(agents, load, aht_seconds, patience_seconds)
    if a == 0.0:
        return 0.0
    if n == 0:
        return 1.0
    state = _erlang_a_state(n, a, aht, patience, _erlang_b(n, a))
    return state.wait if which == "wait" else state.abandon


def erlang_a_service_level(
    agents: int,
    load: Real,
    aht_seconds: Real,
    patience_seconds: Real,
    answer_time_seconds: Real,
) -> float:
    """Share of *all* arrivals answered within ``answer_time_seconds`` (Erlang A).

    Abandoned calls count as failures even when they hang up before the answer time: the
    denominator is every call offered, as for the Erlang C figure, so the two are comparable
    and abandonment can never flatter the service level.
    """
    return erlang_a_metrics(
        agents, load, aht_seconds, patience_seconds, answer_time_seconds
    ).service_level


def erlang_a_average_speed_of_answer(
    agents: int, load: Real, aht_seconds: Real, patience_seconds: Real
) -> float:
    """Mean wait of the calls that are answered, in seconds (Erlang A); calls answered at once
    count as zero. ``math.inf`` with zero agents, when no call is ever answered."""
    n, a, aht, patience = _erlang_a_inputs(agents, load, aht_seconds, patience_seconds)
    return _erlang_a_metrics(n, a, aht, patience, 0.0).asa_seconds


def erlang_a_occupancy(agents: int, load: Real, aht_seconds: Real, patience_seconds: Real) -> float:
    """Share of agent time spent on calls (Erlang A): only answered calls occupy an agent, so
    ``A (1 - P(abandon)) / n``. Zero agents facing traffic are reported saturated (1.0), the
    limit as the staffing shrinks to nothing."""
    n, a, aht, patience = _erlang_a_inputs(agents, load, aht_seconds, patience_seconds)
    return _erlang_a_metrics(n, a, aht, patience, 0.0).occupancy


def size_erlang_a(
    volume: Real,
    interval_minutes: Real,
    aht_seconds: Real,
    service_level_target: Real,
    answer_time_seconds: Real,
    patience_seconds: Real,
    max_occupancy: Real = 1.0,
    shrinkage: Real = 0.0,
) -> StaffingResult:
    """Fewest agents meeting both the service-level target and the occupancy cap (Erlang A).

    Callers who hang up free the queue, so fewer agents than Erlang C may suffice — but an
    abandoned call counts against the service level (see :func:`erlang_a_service_level`).
    Fewer than ``target * A`` agents can never do: at most ``n`` of the ``A`` erlangs offered
    are carried, so at most ``n / A`` of the calls are answered at all. Erlang B values are
    tabulated once by the recursion and shared by every candidate the search probes.
    """
    load, aht = _interval_load(volume, interval_minutes, aht_seconds)
    target = _service_level_target(service_level_target)
    t = _non_negative("answer_time_seconds", answer_time_seconds)
    patience = _positive("patience_seconds", patience_seconds)
    cap = _max_occupancy(max_occupancy)
    shrink = _shrinkage(shrinkage)
    if load == 0.0:
        return StaffingResult(0, 1.0, 0.0, 0.0, 0.0, 0.0)

    goal = target - _TOLERANCE
    occupancy_limit = cap * (1.0 + _TOLERANCE)
    erlang_b_values = [1.0]
    outcomes: dict[int, tuple[_ErlangAState, float, float]] = {}

    def feasible(n: int) -> bool:
        while len(erlang_b_values) <= n:
            carried = load * erlang_b_values[-1]
            erlang_b_values.append(carried / (len(erlang_b_values) + carried))
        state = _erlang_a_state(n, load, aht, patience, erlang_b_values[n])
        answered = 1.0 - state.abandon
        busy = load * answered / n
        # Only answered calls can be answered in time, so 1 - P(abandon) bounds the service
        # level from above and spares the second incomplete-gamma evaluation when it falls short.
        if answered < goal or busy > occupancy_limit:
            return False
        level = _erlang_a_service_level(state, t)
        outcomes[n] = (state, level, busy)
        return level >= goal

    # Feasibility only improves with agents, so the answer is found by galloping from the
    # Erlang C staffing (usually within a few agents of it) and bisecting the last gap.
    lowest = max(1, math.ceil(target * load - 1e-9))
    guess = max(lowest, _erlang_c_search(load, aht, goal, t, cap)[0])
    step = 1
    if feasible(guess):
        best = guess
        while True:
            probe = best - step
            if probe < lowest:
                short = lowest - 1
                break
            if not feasible(probe):
                short = probe
                break
            best = probe
            step *= 2
    else:
        short = guess
        while not feasible(short + step):
            short += step
            step *= 2
        best = short + step
    while best - short > 1:
        middle = (short + best) // 2
        if feasible(middle):
            best = middle
        else:
            short = middle

    state, level, busy = outcomes[best]
    return StaffingResult(
        agents=best,
        service_level=level,
        asa_seconds=_erlang_a_asa(state),
        occupancy=busy,
        fte=best / (1.0 - shrink),
        abandon_rate=state.abandon,
    )


def evaluate_erlang_a(
    agents: int,
    volume: Real,
    interval_minutes: Real,
    aht_seconds: Real,
    answer_time_seconds: Real,
    patience_seconds: Real,
    shrinkage: Real = 0.0,
) -> StaffingResult:
    """What ``agents`` achieve on an interval whose callers abandon (Erlang A); the reverse of
    :func:`size_erlang_a`."""
    n = _agents(agents)
    load, aht = _interval_load(volume, interval_minutes, aht_seconds)
    t = _non_negative("answer_time_seconds", answer_time_seconds)
    patience = _positive("patience_seconds", patience_seconds)
    fte = n / (1.0 - _shrinkage(shrinkage))
    metrics = _erlang_a_metrics(n, load, aht, patience, t)
    return StaffingResult(
        agents=n,
        service_level=metrics.service_level,
        asa_seconds=metrics.asa_seconds,
        occupancy=metrics.occupancy,
        fte=fte,
        abandon_rate=metrics.abandon_probability,
    )

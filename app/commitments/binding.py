"""Which committed-forecast version binds a period (charter axis 1, section 1).

Clients revise their forecasts many times; only the last version the server received by the
period's deadline binds it. Later versions are still reported, as "latest", so comparisons can
show how far the client moved after the deadline.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.core.periods import Period, commitment_deadline


@dataclass(frozen=True)
class CommitmentLine:
    """One version's figures for one (activity, period).

    ``received_at`` is the server's receipt time, never a time the client claims: it is what
    the deadline is judged on.
    """

    version_id: str
    received_at: datetime
    volume: Decimal
    aht_seconds: Decimal | None = None

    def __post_init__(self) -> None:
        if self.received_at.utcoffset() is None:
            raise ValueError(
                f"received_at of version {self.version_id!r} must be timezone-aware, "
                f"got naive {self.received_at.isoformat()}"
            )


@dataclass(frozen=True)
class BindingResolution:
    """The outcome for one (activity, period).

    ``binding`` is None when no version was received by the deadline: the period then has no
    binding commitment and no shortfall. ``latest`` is the most recently received version,
    whether or not it binds.
    """

    deadline: datetime
    binding: CommitmentLine | None
    latest: CommitmentLine | None


def _receipt_order(line: CommitmentLine) -> tuple[datetime, str]:
    """Sort key: receipt instant, then version id.

    Converting to UTC is not cosmetic: Python compares two datetimes that share a ``tzinfo``
    by wall clock, which misorders the repeated hour of an autumn DST change.

    Two versions received in the same microsecond are ordered by their id (the larger id
    wins), so the answer never depends on the order the caller listed them in. Ids are opaque
    strings compared as strings; the tie-break is deterministic, not a claim about which
    version was created first.
    """
    return line.received_at.astimezone(UTC), line.version_id


def resolve_binding(lines: Iterable[CommitmentLine], deadline: datetime) -> BindingResolution:
    """Pick the binding and the latest line among the candidates for ONE (activity, period).

    The candidates must be exactly the versions that have a line for that activity and
    period: a newer version without such a line must not be passed in, so it cannot displace
    an older version that has one. A version received exactly at the deadline binds.
    """
    if deadline.utcoffset() is None:
        raise ValueError(f"deadline must be timezone-aware, got naive {deadline.isoformat()}")
    candidates = list(lines)
    version_ids = [line.version_id for line in candidates]
    if len(set(version_ids)) != len(version_ids):
        raise ValueError("each version may contribute at most one line for a period")
    cutoff = deadline.astimezone(UTC)
    on_time = [line for line in candidates if line.received_at.astimezone(UTC) <= cutoff]
    return BindingResolution(
        deadline=deadline,
        binding=max(on_time, key=_receipt_order, default=None),
        latest=max(candidates, key=_receipt_order, default=None),
    )


def resolve_for_period(
    lines: Iterable[CommitmentLine], period: Period, tz: ZoneInfo, deadline_days: int
) -> BindingResolution:
    """:func:`resolve_binding` with the deadline the contract's terms give ``period``."""
    return resolve_binding(lines, commitment_deadline(period, tz, deadline_days))

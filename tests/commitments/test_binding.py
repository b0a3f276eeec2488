from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.commitments.binding import CommitmentLine, resolve_binding, resolve_for_period
from app.core.periods import Period

PARIS = ZoneInfo("Europe/Paris")
DEADLINE = datetime(2026, 11, 1, tzinfo=PARIS)


def line(version_id: str, received_at: datetime, volume: str = "100000") -> CommitmentLine:
    return CommitmentLine(
        version_id=version_id, received_at=received_at, volume=Decimal(volume), aht_seconds=None
    )


EXAMPLE_5_LINES = [
    line("v1", datetime(2026, 10, 15, 10, tzinfo=PARIS), "100000"),
    line("v2", datetime(2026, 10, 31, 23, 59, tzinfo=PARIS), "95000"),
    line("v3", datetime(2026, 11, 20, 9, tzinfo=PARIS), "80000"),
]


def test_example_5_deadline_is_1_november_midnight_paris_time() -> None:
    resolution = resolve_for_period(EXAMPLE_5_LINES, Period(2026, 12), PARIS, 30)
    assert resolution.deadline.isoformat() == "2026-11-01T00:00:00+01:00"


def test_example_5_binding_commitment_is_the_95000_version() -> None:
    resolution = resolve_for_period(EXAMPLE_5_LINES, Period(2026, 12), PARIS, 30)
    assert resolution.binding is not None
    assert resolution.binding.volume == Decimal("95000")


def test_example_5_version_received_after_the_deadline_is_latest_only() -> None:
    resolution = resolve_for_period(EXAMPLE_5_LINES, Period(2026, 12), PARIS, 30)
    assert resolution.latest is not None
    assert resolution.latest.volume == Decimal("80000")
    assert resolution.binding != resolution.latest


def test_version_received_exactly_at_deadline_binds() -> None:
    on_deadline = line("v2", DEADLINE)
    resolution = resolve_binding([line("v1", DEADLINE - timedelta(days=3)), on_deadline], DEADLINE)
    assert resolution.binding == on_deadline


def test_version_received_one_microsecond_after_deadline_does_not_bind() -> None:
    earlier = line("v1", DEADLINE - timedelta(days=3))
    late = line("v2", DEADLINE + timedelta(microseconds=1))
    resolution = resolve_binding([earlier, late], DEADLINE)
    assert resolution.binding == earlier
    assert resolution.latest == late


def test_latest_binding_version_wins_over_earlier_ones() -> None:
    newest_on_time = line("v3", DEADLINE - timedelta(hours=1))
    lines = [
        line("v1", DEADLINE - timedelta(days=9)),
        newest_on_time,
        line("v2", DEADLINE - timedelta(days=2)),
    ]
    assert resolve_binding(lines, DEADLINE).binding == newest_on_time


def test_no_version_received_by_the_deadline_means_no_binding_commitment() -> None:
    late = line("v1", DEADLINE + timedelta(days=1))
    resolution = resolve_binding([late], DEADLINE)
    assert resolution.binding is None
    assert resolution.latest == late


def test_no_candidate_lines_means_neither_binding_nor_latest() -> None:
    resolution = resolve_binding([], DEADLINE)
    assert resolution.binding is None
    assert resolution.latest is None


def test_newer_version_without_a_line_for_the_period_does_not_displace_older_one() -> None:
    december, january = Period(2026, 12), Period(2027, 1)
    versions = {
        "v1": {december: line("v1", datetime(2026, 10, 10, tzinfo=PARIS), "100000")},
        "v2": {january: line("v2", datetime(2026, 10, 20, tzinfo=PARIS), "70000")},
    }
    candidates = [lines[december] for lines in versions.values() if december in lines]
    resolution = resolve_for_period(candidates, december, PARIS, 30)
    assert resolution.binding is not None
    assert resolution.binding.version_id == "v1"
    assert resolution.latest == resolution.binding


def test_utc_receipt_before_midnight_utc_but_after_the_paris_deadline_does_not_bind() -> None:
    # 23:30 UTC on 31 October is 00:30 on 1 November in Paris: after the deadline.
    assert (
        resolve_binding([line("v1", datetime(2026, 10, 31, 23, 30, tzinfo=UTC))], DEADLINE).binding
        is None
    )


def test_receipt_stamped_in_another_offset_binds_when_its_instant_is_before_the_deadline() -> None:
    # 00:30 at +02:00 on 1 November is 23:30 on 31 October in Paris: before the deadline.
    kaliningrad = datetime(2026, 11, 1, 0, 30, tzinfo=ZoneInfo("Europe/Kaliningrad"))
    on_time = line("v1", kaliningrad)
    assert resolve_binding([on_time], DEADLINE).binding == on_time


def test_latest_is_ordered_by_instant_across_the_repeated_autumn_hour() -> None:
    # 02:30 after the fall-back (fold=1, +01:00) is later than 02:45 before it (+02:00),
    # although its wall clock reads earlier.
    before_change = line("v1", datetime(2026, 10, 25, 2, 45, tzinfo=PARIS))
    after_change = line("v2", datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS))
    assert resolve_binding([after_change, before_change], DEADLINE).latest == after_change


def test_same_receipt_instant_is_won_by_the_larger_version_id() -> None:
    at = DEADLINE - timedelta(days=1)
    smaller, larger = line("v-a", at), line("v-b", at.astimezone(UTC))
    assert resolve_binding([larger, smaller], DEADLINE).binding == larger
    assert resolve_binding([smaller, larger], DEADLINE).binding == larger


def test_candidate_order_does_not_change_the_resolution() -> None:
    assert resolve_binding(EXAMPLE_5_LINES, DEADLINE) == resolve_binding(
        list(reversed(EXAMPLE_5_LINES)), DEADLINE
    )


def test_a_version_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="at most one line"):
        resolve_binding([line("v1", DEADLINE), line("v1", DEADLINE - timedelta(days=1))], DEADLINE)


def test_naive_received_at_is_refused() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        line("v1", datetime(2026, 10, 15))


def test_naive_deadline_is_refused() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        resolve_binding([], datetime(2026, 11, 1))

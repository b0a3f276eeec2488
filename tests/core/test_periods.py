from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.periods import (
    Period,
    commitment_deadline,
    is_period_closed,
    local_midnight,
    period_bounds,
    period_of,
    periods_between,
)

PARIS = ZoneInfo("Europe/Paris")
HAVANA = ZoneInfo("America/Havana")  # its DST changes happen at midnight
ZONES = [PARIS, HAVANA, ZoneInfo("UTC"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Asia/Kolkata")]


def test_parse_reads_year_and_month() -> None:
    assert Period.parse("2026-10") == Period(2026, 10)


def test_str_is_zero_padded_year_dash_month() -> None:
    assert str(Period(987, 3)) == "0987-03"


def test_parse_and_str_round_trip() -> None:
    assert str(Period.parse("2026-01")) == "2026-01"


@pytest.mark.parametrize(
    "text",
    [
        "2026-1",
        "2026-001",
        "26-10",
        "2026-10-01",
        "2026/10",
        " 2026-10",
        "2026-10\n",
        "",
        "\uff12\uff10\uff12\uff16-10",  # full-width digits
    ],
)
def test_parse_refuses_anything_but_yyyy_mm(text: str) -> None:
    with pytest.raises(ValueError, match="expected YYYY-MM"):
        Period.parse(text)


@pytest.mark.parametrize("text", ["2026-00", "2026-13"])
def test_parse_refuses_month_outside_01_to_12(text: str) -> None:
    with pytest.raises(
        ValueError, match=f"invalid period '{text}': month must be between 1 and 12"
    ):
        Period.parse(text)


def test_parse_refuses_year_zero() -> None:
    with pytest.raises(ValueError, match="year must be between 1 and 9999"):
        Period.parse("0000-05")


def test_constructor_refuses_month_13() -> None:
    with pytest.raises(ValueError, match="month must be between 1 and 12"):
        Period(2026, 13)


def test_next_of_december_is_january_of_next_year() -> None:
    assert Period(2026, 12).next() == Period(2027, 1)


def test_previous_of_january_is_december_of_previous_year() -> None:
    assert Period(2027, 1).previous() == Period(2026, 12)


def test_periods_order_chronologically() -> None:
    assert sorted([Period(2027, 1), Period(2026, 12), Period(2026, 2)]) == [
        Period(2026, 2),
        Period(2026, 12),
        Period(2027, 1),
    ]


def test_first_day_is_the_first_of_the_month() -> None:
    assert Period(2026, 2).first_day == date(2026, 2, 1)


def test_contains_days_of_its_month_only() -> None:
    period = Period(2026, 2)
    assert period.contains(date(2026, 2, 28))
    assert not period.contains(date(2026, 3, 1))
    assert not period.contains(date(2025, 2, 1))


def test_local_midnight_is_aware_in_the_given_zone() -> None:
    midnight = local_midnight(date(2026, 7, 14), PARIS)
    assert midnight.tzinfo is PARIS
    assert midnight.isoformat() == "2026-07-14T00:00:00+02:00"


def test_local_midnight_skipped_by_dst_is_the_first_instant_of_the_day() -> None:
    # Havana jumps from 00:00 to 01:00 on 2026-03-08: the day starts at 01:00 CDT.
    start = local_midnight(date(2026, 3, 8), HAVANA).astimezone(UTC)
    assert start == datetime(2026, 3, 8, 5, tzinfo=UTC)
    assert (start - timedelta(microseconds=1)).astimezone(HAVANA).date() == date(2026, 3, 7)


def test_period_bounds_of_october_in_paris_span_the_autumn_dst_change() -> None:
    start, end = period_bounds(Period(2026, 10), PARIS)
    assert start == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert end == datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert end - start == timedelta(days=31, hours=1)


def test_period_bounds_of_march_in_paris_lose_the_spring_hour() -> None:
    start, end = period_bounds(Period(2026, 3), PARIS)
    assert start == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 22, tzinfo=UTC)
    assert end - start == timedelta(days=31, hours=-1)


def test_period_bounds_start_at_the_first_of_a_repeated_midnight() -> None:
    # Havana falls back from 01:00 to 00:00 on 2026-11-01: midnight happens twice.
    start, _ = period_bounds(Period(2026, 11), HAVANA)
    assert start == datetime(2026, 11, 1, 4, tzinfo=UTC)


def test_period_bounds_are_utc() -> None:
    start, end = period_bounds(Period(2026, 10), PARIS)
    assert start.tzinfo is UTC
    assert end.tzinfo is UTC


@given(
    year=st.integers(min_value=1971, max_value=2100),
    month=st.integers(min_value=1, max_value=12),
    tz=st.sampled_from(ZONES),
)
def test_consecutive_periods_share_their_bound(year: int, month: int, tz: ZoneInfo) -> None:
    period = Period(year, month)
    assert period_bounds(period, tz)[1] == period_bounds(period.next(), tz)[0]


@given(
    year=st.integers(min_value=1971, max_value=2100),
    month=st.integers(min_value=1, max_value=12),
    tz=st.sampled_from(ZONES),
)
def test_period_bounds_hold_exactly_their_own_period(year: int, month: int, tz: ZoneInfo) -> None:
    period = Period(year, month)
    start, end = period_bounds(period, tz)
    assert period_of(start, tz) == period
    assert period_of(end - timedelta(microseconds=1), tz) == period
    assert period_of(end, tz) == period.next()


def test_period_of_local_midnight_on_the_first_is_that_month() -> None:
    assert period_of(datetime(2026, 11, 1, tzinfo=PARIS), PARIS) == Period(2026, 11)


def test_period_of_one_microsecond_before_local_midnight_is_the_previous_month() -> None:
    instant = datetime(2026, 11, 1, tzinfo=PARIS) - timedelta(microseconds=1)
    assert period_of(instant, PARIS) == Period(2026, 10)


def test_period_of_reads_the_month_in_the_contract_zone_not_utc() -> None:
    assert period_of(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), PARIS) == Period(2026, 11)


def test_period_of_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        period_of(datetime(2026, 11, 1), PARIS)


def test_deadline_30_days_before_december_is_1_november_midnight_paris_time() -> None:
    deadline = commitment_deadline(Period(2026, 12), PARIS, 30)
    assert deadline.isoformat() == "2026-11-01T00:00:00+01:00"


def test_deadline_before_the_autumn_dst_change_stays_at_local_midnight() -> None:
    deadline = commitment_deadline(Period(2026, 11), PARIS, 30)
    assert deadline.isoformat() == "2026-10-02T00:00:00+02:00"


def test_deadline_with_the_dst_change_in_between_is_local_midnight_not_elapsed_days() -> None:
    deadline = commitment_deadline(Period(2026, 11), PARIS, 7)
    start, _ = period_bounds(Period(2026, 11), PARIS)
    assert deadline.isoformat() == "2026-10-25T00:00:00+02:00"
    assert start - deadline == timedelta(days=7, hours=1)


def test_deadline_after_the_dst_change_takes_the_winter_offset() -> None:
    deadline = commitment_deadline(Period(2026, 11), PARIS, 6)
    assert deadline.isoformat() == "2026-10-26T00:00:00+01:00"


def test_deadline_of_zero_days_is_the_start_of_the_period() -> None:
    deadline = commitment_deadline(Period(2026, 11), PARIS, 0)
    assert deadline == period_bounds(Period(2026, 11), PARIS)[0]


def test_negative_deadline_days_are_refused() -> None:
    with pytest.raises(ValueError, match="deadline_days must be >= 0"):
        commitment_deadline(Period(2026, 11), PARIS, -1)


def test_period_is_open_one_microsecond_before_its_local_end() -> None:
    now = datetime(2026, 11, 1, tzinfo=PARIS) - timedelta(microseconds=1)
    assert not is_period_closed(Period(2026, 10), PARIS, now)


def test_period_is_closed_exactly_at_its_local_end() -> None:
    assert is_period_closed(Period(2026, 10), PARIS, datetime(2026, 11, 1, tzinfo=PARIS))


def test_period_closing_is_judged_in_the_contract_zone_whatever_zone_now_is_in() -> None:
    now = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    assert is_period_closed(Period(2026, 10), PARIS, now)
    assert not is_period_closed(Period(2026, 10), ZoneInfo("America/New_York"), now)


def test_is_period_closed_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        is_period_closed(Period(2026, 10), PARIS, datetime(2026, 11, 2))


def test_periods_between_includes_both_ends_across_a_year_end() -> None:
    assert periods_between(Period(2026, 11), Period(2027, 2)) == [
        Period(2026, 11),
        Period(2026, 12),
        Period(2027, 1),
        Period(2027, 2),
    ]


def test_periods_between_a_period_and_itself_is_that_period() -> None:
    assert periods_between(Period(2026, 11), Period(2026, 11)) == [Period(2026, 11)]


def test_periods_between_refuses_a_last_before_first() -> None:
    with pytest.raises(ValueError, match="is before first period"):
        periods_between(Period(2026, 11), Period(2026, 10))

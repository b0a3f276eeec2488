import dataclasses
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models.synthetic import (
    BENCHMARK_PROFILES,
    COLUMNS,
    DEMO_PROFILES,
    ActivityProfile,
    generate_intervals,
    known_outlier_days,
    outlier_days,
)

PARIS = "Europe/Paris"
VOICE = DEMO_PROFILES[0]
ROUND_THE_CLOCK = ActivityProfile(
    name="test-24-7",
    mean_daily_volume=2000,
    weekday_weights=(1.0,) * 7,
    opening_hours=(("00:00", "24:00"),) * 7,
    saturday_half_day=False,
    closed_on_public_holidays=False,
)


def _local(frame: pd.DataFrame) -> pd.DataFrame:
    local = frame["interval_start"].dt.tz_convert(PARIS)
    return frame.assign(
        local=local,
        day=local.dt.date,
        hhmm=local.dt.strftime("%H:%M"),
        weekday=local.dt.day_of_week,
        month=local.dt.month,
    )


def _daily(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby("day").agg(
        offered=("offered", "sum"), weekday=("weekday", "first"), month=("month", "first")
    )


@pytest.fixture(scope="module")
def voice_2025() -> pd.DataFrame:
    return _local(generate_intervals(VOICE, date(2025, 1, 1), date(2025, 12, 31), seed=7))


@pytest.fixture(scope="module")
def round_the_clock_dst() -> pd.DataFrame:
    return _local(generate_intervals(ROUND_THE_CLOCK, date(2025, 3, 28), date(2025, 11, 1)))


# Determinism


def test_same_seed_gives_identical_frame() -> None:
    first = generate_intervals(VOICE, date(2025, 1, 1), date(2025, 3, 31), seed=3)
    second = generate_intervals(VOICE, date(2025, 1, 1), date(2025, 3, 31), seed=3)
    pd.testing.assert_frame_equal(first, second)


def test_different_seeds_give_different_counts() -> None:
    first = generate_intervals(VOICE, date(2025, 1, 1), date(2025, 3, 31), seed=3)
    second = generate_intervals(VOICE, date(2025, 1, 1), date(2025, 3, 31), seed=4)
    assert first["interval_start"].equals(second["interval_start"])
    assert not first["offered"].equals(second["offered"])


def test_sub_range_is_exact_slice_of_longer_range() -> None:
    short = generate_intervals(VOICE, date(2025, 12, 29), date(2026, 1, 9), seed=5)
    long = _local(generate_intervals(VOICE, date(2024, 6, 1), date(2026, 6, 30), seed=5))
    in_short = (long["day"] >= date(2025, 12, 29)) & (long["day"] <= date(2026, 1, 9))
    sliced = long.loc[in_short, list(COLUMNS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(short, sliced)


def test_activities_with_different_names_get_different_noise() -> None:
    twin = dataclasses.replace(VOICE, name="Service client voix bis")
    first = generate_intervals(VOICE, date(2025, 1, 6), date(2025, 1, 10))
    second = generate_intervals(twin, date(2025, 1, 6), date(2025, 1, 10))
    assert not first["offered"].equals(second["offered"])


# Frame contract


def test_columns_and_dtypes(voice_2025: pd.DataFrame) -> None:
    frame = generate_intervals(VOICE, date(2025, 1, 6), date(2025, 1, 10))
    assert tuple(frame.columns) == COLUMNS
    assert str(frame["interval_start"].dtype) == "datetime64[ns, UTC]"
    assert frame["offered"].dtype == np.int64
    assert frame["handled"].dtype == np.int64
    assert frame["aht_seconds"].dtype == np.float64


def test_interval_starts_are_sorted_and_unique(voice_2025: pd.DataFrame) -> None:
    assert voice_2025["interval_start"].is_monotonic_increasing
    assert voice_2025["interval_start"].is_unique


def test_aht_is_rounded_to_a_tenth_of_a_second(voice_2025: pd.DataFrame) -> None:
    aht = voice_2025["aht_seconds"].to_numpy()
    assert np.allclose(aht * 10, np.round(aht * 10))


def test_end_before_start_raises() -> None:
    with pytest.raises(ValueError):
        generate_intervals(VOICE, date(2025, 2, 1), date(2025, 1, 31))


# Calendar


def test_sundays_have_no_rows(voice_2025: pd.DataFrame) -> None:
    assert (voice_2025["weekday"] == 6).sum() == 0


@pytest.mark.parametrize("holiday", [date(2025, 5, 1), date(2025, 7, 14), date(2025, 12, 25)])
def test_french_public_holiday_has_no_rows(voice_2025: pd.DataFrame, holiday: date) -> None:
    assert holiday.weekday() < 5
    assert (voice_2025["day"] == holiday).sum() == 0


def test_saturday_rows_lie_within_the_half_day(voice_2025: pd.DataFrame) -> None:
    saturday = voice_2025[voice_2025["weekday"] == 5]
    assert saturday["hhmm"].min() == "09:00"
    assert saturday["hhmm"].max() == "12:30"


def test_saturday_has_traffic(voice_2025: pd.DataFrame) -> None:
    assert voice_2025.loc[voice_2025["weekday"] == 5, "offered"].sum() > 0


def test_saturday_half_day_keeps_first_half_of_saturday_window() -> None:
    assert VOICE.opening_hours[5] == ("09:00", "17:00")
    assert VOICE.opening_minutes(5) == (9 * 60, 13 * 60)


def test_open_weekday_has_every_interval_of_its_opening_hours(voice_2025: pd.DataFrame) -> None:
    weekdays = voice_2025[voice_2025["weekday"] < 5]
    assert weekdays.groupby("day").size().eq(24).all()
    assert weekdays["hhmm"].min() == "08:00"
    assert weekdays["hhmm"].max() == "19:30"


def test_first_open_day_after_public_holiday_catches_up() -> None:
    steady = dataclasses.replace(
        VOICE, mean_daily_volume=40_000, daily_noise_cv=0.0, overdispersion=0.0, outlier_rate=0.0
    )
    daily = _daily(_local(generate_intervals(steady, date(2025, 4, 28), date(2025, 5, 16))))
    after_labour_day = daily.loc[date(2025, 5, 2), "offered"]
    ordinary_friday = daily.loc[date(2025, 5, 16), "offered"]
    assert after_labour_day > 1.06 * ordinary_friday


# Local interval grid across DST


@pytest.mark.parametrize(("day", "intervals"), [(date(2025, 10, 26), 50), (date(2025, 3, 30), 46)])
def test_dst_day_has_one_interval_per_half_hour_of_its_length(
    round_the_clock_dst: pd.DataFrame, day: date, intervals: int
) -> None:
    assert (round_the_clock_dst["day"] == day).sum() == intervals


def test_ordinary_day_has_48_half_hour_intervals(round_the_clock_dst: pd.DataFrame) -> None:
    assert (round_the_clock_dst["day"] == date(2025, 6, 15)).sum() == 48


def test_interval_starts_fall_on_local_half_hours(round_the_clock_dst: pd.DataFrame) -> None:
    local = round_the_clock_dst["local"]
    assert set(local.dt.minute) == {0, 30}
    assert (local.dt.second == 0).all()


def test_intervals_are_contiguous_30_minutes_across_dst(
    round_the_clock_dst: pd.DataFrame,
) -> None:
    gaps = round_the_clock_dst["interval_start"].diff().dropna()
    assert (gaps == pd.Timedelta(minutes=30)).all()


def test_autumn_dst_day_repeats_the_local_2_oclock_hour(
    round_the_clock_dst: pd.DataFrame,
) -> None:
    day = round_the_clock_dst[round_the_clock_dst["day"] == date(2025, 10, 26)]
    assert day["hhmm"].value_counts()[["02:00", "02:30"]].tolist() == [2, 2]


# Shapes


def test_intraday_double_peak(voice_2025: pd.DataFrame) -> None:
    weekdays = voice_2025[voice_2025["weekday"] < 5]
    mean = weekdays.groupby("hhmm")["offered"].mean()
    assert min(mean["11:00"], mean["14:30"]) > max(mean["13:00"], mean["19:00"])


def test_monday_mean_exceeds_friday_mean(voice_2025: pd.DataFrame) -> None:
    by_weekday = _daily(voice_2025).groupby("weekday")["offered"].mean()
    assert by_weekday[0] > by_weekday[4]


def test_august_lower_than_september(voice_2025: pd.DataFrame) -> None:
    weekdays = _daily(voice_2025).query("weekday < 5")
    by_month = weekdays.groupby("month")["offered"].mean()
    assert by_month[8] < 0.85 * by_month[9]


def test_weekday_level_matches_mean_daily_volume() -> None:
    flat = dataclasses.replace(
        VOICE,
        annual_trend=0.0,
        seasonality_strength=0.0,
        school_holiday_dip=0.0,
        post_closure_rebound=0.0,
        outlier_rate=0.0,
    )
    daily = _daily(_local(generate_intervals(flat, date(2025, 1, 1), date(2025, 12, 31))))
    weekday_mean = daily.query("weekday < 5")["offered"].mean()
    assert weekday_mean == pytest.approx(flat.mean_daily_volume, rel=0.03)


def test_positive_trend_raises_volume_year_on_year() -> None:
    growing = next(p for p in BENCHMARK_PROFILES if p.annual_trend >= 0.1)
    frame = _local(generate_intervals(growing, date(2024, 1, 1), date(2025, 12, 31)))
    by_year = frame.groupby(frame["local"].dt.year)["offered"].sum()
    assert by_year[2025] > (1 + growing.annual_trend / 2) * by_year[2024]


# Handled, abandons and AHT


def test_handled_never_exceeds_offered(voice_2025: pd.DataFrame) -> None:
    assert (voice_2025["handled"] <= voice_2025["offered"]).all()
    assert (voice_2025["handled"] >= 0).all()


def test_aht_positive_when_handled_positive(voice_2025: pd.DataFrame) -> None:
    assert (voice_2025.loc[voice_2025["handled"] > 0, "aht_seconds"] > 0).all()


def test_aht_zero_when_nothing_handled() -> None:
    quiet = next(p for p in BENCHMARK_PROFILES if p.mean_daily_volume < 500)
    frame = generate_intervals(quiet, date(2025, 1, 1), date(2025, 6, 30))
    idle = frame[frame["handled"] == 0]
    assert len(idle) > 0
    assert (idle["aht_seconds"] == 0.0).all()


def test_abandon_rate_higher_at_peak_than_in_evening(voice_2025: pd.DataFrame) -> None:
    weekdays = voice_2025[voice_2025["weekday"] < 5]
    totals = weekdays.groupby("hhmm")[["offered", "handled"]].sum()
    abandon_rate = 1 - totals["handled"] / totals["offered"]
    assert abandon_rate["11:00"] > abandon_rate["19:00"]


def test_aht_longer_in_morning_than_evening(voice_2025: pd.DataFrame) -> None:
    weekdays = voice_2025[voice_2025["weekday"] < 5]
    aht = weekdays.groupby("hhmm")["aht_seconds"].mean()
    assert aht["09:00"] > aht["18:00"]


def test_aht_higher_in_january_than_july(voice_2025: pd.DataFrame) -> None:
    aht = voice_2025.groupby("month")["aht_seconds"].mean()
    assert aht[1] > aht[7]


def test_back_office_aht_stays_within_600_to_900_seconds() -> None:
    back_office = DEMO_PROFILES[2]
    frame = generate_intervals(back_office, date(2025, 1, 1), date(2025, 12, 31))
    daily = (
        frame.assign(work=frame["handled"] * frame["aht_seconds"])
        .groupby(frame["interval_start"].dt.tz_convert(PARIS).dt.date)[["work", "handled"]]
        .sum()
    )
    daily_aht = daily["work"] / daily["handled"]
    assert daily_aht.between(600, 900).all()


# Outlier days


def test_outlier_days_are_open_days_within_the_range() -> None:
    noisy = next(p for p in BENCHMARK_PROFILES if p.outlier_rate > 0)
    start, end = date(2024, 3, 1), date(2026, 2, 28)
    days = known_outlier_days(noisy, start, end, seed=2)
    open_days = set(_local(generate_intervals(noisy, start, end, seed=2))["day"])
    assert len(days) >= 5
    assert set(days) <= open_days


def test_spike_days_exceed_their_neighbouring_weekdays() -> None:
    noisy = next(p for p in BENCHMARK_PROFILES if p.outlier_rate > 0)
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    events = outlier_days(noisy, start, end, seed=2)
    outliers = {event.day for event in events}
    daily = _daily(_local(generate_intervals(noisy, start, end, seed=2)))["offered"]
    spikes = [event.day for event in events if event.kind == "spike"]
    assert spikes
    for spike in spikes:
        neighbours = [spike + timedelta(weeks=k) for k in (-3, -2, -1, 1, 2, 3)]
        usual = daily.reindex([d for d in neighbours if d not in outliers]).dropna().median()
        assert daily[spike] > 1.25 * usual


def test_no_outlier_days_when_rate_is_zero() -> None:
    calm = next(p for p in BENCHMARK_PROFILES if p.outlier_rate == 0)
    assert known_outlier_days(calm, date(2024, 1, 1), date(2025, 12, 31)) == []


# Profiles


def test_profile_rejects_weight_without_opening_hours() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(VOICE, weekday_weights=(1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 0.2))


def test_profile_rejects_opening_hours_off_the_interval_grid() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(VOICE, interval_minutes=60, opening_hours=(("08:30", "18:00"),) * 7)


def test_demo_profiles_are_voice_email_and_back_office() -> None:
    assert [(p.name, p.interval_minutes) for p in DEMO_PROFILES] == [
        ("Service client voix", 30),
        ("E-mails", 60),
        ("Back-office dossiers", 60),
    ]


def test_benchmark_profiles_are_at_least_six_distinct_activities() -> None:
    names = [p.name for p in BENCHMARK_PROFILES]
    assert len(names) >= 6
    assert len(set(names)) == len(names)

"""The plain forms that numpy reads decide every cell exactly as the general parsers do."""

import dataclasses
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.volumes import parsing

GRID = parsing.Grid(ZoneInfo("Europe/Paris"), 30, pd.Timestamp("2030-01-01", tz="UTC").value)


def test_plain_instants_are_the_fixed_width_forms_with_a_valid_date_and_time() -> None:
    cells = {
        "2026-10-01T08:00:00+02:00": pd.Timestamp("2026-10-01T06:00:00Z"),
        "2026-10-01T06:00:00Z": pd.Timestamp("2026-10-01T06:00:00Z"),
        "1999-12-31T23:30:00-05:30": pd.Timestamp("2000-01-01T05:00:00Z"),
        "2024-02-29T00:00:00Z": pd.Timestamp("2024-02-29T00:00:00Z"),
        "2025-02-29T00:00:00Z": None,
        "2026-10-01T24:00:00Z": None,
        "2026-10-01T08:00:00+24:00": None,
        "2026-10-01t06:00:00z": None,
        "2026-10-01T06:00:00.5Z": None,
        " 2026-10-01T06:00:00Z": None,
        "2026-10-01T08:00:00+0200": None,
        "2026-10-01T06:00:00Z\x00": None,
        "2262-04-11T00:00:00Z": None,
    }
    instants, plain = parsing._plain_instants(pd.Series(list(cells), dtype=str))
    assert plain.tolist() == [value is not None for value in cells.values()]
    expected = [value.value for value in cells.values() if value is not None]
    assert instants[plain].view(np.int64).tolist() == expected


def test_plain_decimals_are_digits_with_one_inner_point() -> None:
    cells = {
        "42": 42.0,
        "007": 7.0,
        "312.5": 312.5,
        "0.001": 0.001,
        "123456789012345": 1.23456789012345e14,
    }
    others = ["", " 5", "5 ", "-5", "+5", "1e3", "1_0", "nan", ".5", "5.", "1.2.3", "5\x00", "٣"]
    numbers, plain = parsing._plain_decimals(pd.Series([*cells, *others], dtype=str))
    assert plain.tolist() == [True] * len(cells) + [False] * len(others)
    assert numbers[plain].tolist() == list(cells.values())
    assert np.isnan(numbers[~plain]).all()


def _general_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell read by the regex, `pd.to_datetime` and `pd.to_numeric`."""

    def no_instant(cells: "pd.Series[str]") -> tuple[parsing.DatetimeArray, parsing.BoolArray]:
        return np.full(len(cells), np.datetime64("NaT", "ns")), np.zeros(len(cells), dtype=bool)

    def no_decimal(cells: "pd.Series[str]") -> tuple[parsing.FloatArray, parsing.BoolArray]:
        return np.full(len(cells), np.nan), np.zeros(len(cells), dtype=bool)

    monkeypatch.setattr(parsing, "_plain_instants", no_instant)
    monkeypatch.setattr(parsing, "_plain_decimals", no_decimal)


_SUFFIXES = ["Z", "+00:00", "+02:00", "-05:30", "+23:59", "+24:00", "+02:60", "-00:00", "z"]
_SUFFIXES += ["+0200", "+02", "", " ", "Z\x00"]


def _two_digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda number: f"{number:02d}")


_grid_instants = st.tuples(
    st.integers(1990, 2029),
    _two_digits(1, 12),
    _two_digits(1, 28),
    _two_digits(0, 23),
    st.sampled_from(["00", "30"]),
    st.sampled_from(["Z", "+00:00", "+01:00", "+02:00", "-00:00", "-05:30", "-10:00"]),
).map(lambda parts: "{}-{}-{}T{}:{}:00{}".format(*parts))
"""Valid instants, for rows that are valid: their values are compared too."""
_instants = st.one_of(
    _grid_instants,
    st.tuples(
        st.sampled_from(["1677", "1678", "1999", "2000", "2024", "2025", "2261", "2262", "9999"]),
        _two_digits(0, 13),
        _two_digits(0, 32),
        st.sampled_from(["T", "T", "t", " "]),
        _two_digits(0, 24),
        st.sampled_from(["00", "30", "15", "59", "60"]),
        st.sampled_from(["00", "59", "60"]),
        st.sampled_from(["", "", ".5", ".000", ".1234567891"]),
        st.sampled_from(_SUFFIXES),
    ).map(lambda parts: "{}-{}-{}{}{}:{}:{}{}{}".format(*parts)),
    st.sampled_from(["", " ", "yesterday+02:00", "\x00invalid", "2026-10-01T08:00Z"]),
    st.text(max_size=26),
)
_numbers = st.one_of(
    st.from_regex(r"[0-9]{1,17}(\.[0-9]{1,8})?", fullmatch=True),
    st.sampled_from(["", " ", " 5", "5 ", "-5", "-0", "1e3", "1_0", "nan", "inf", ".5", "5."]),
    st.sampled_from(["1000000000", "1000000001", "86399.9995", "86400", "0.0005", "True"]),
    st.text(max_size=5),
)
_counts = st.integers(0, 10**9).map(str)
_seconds = st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True)
_rows = st.lists(
    st.one_of(
        st.tuples(_grid_instants, _counts, _counts, _seconds),
        st.tuples(_instants, _numbers, _numbers, _numbers),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_rows)
def test_plain_forms_decide_as_the_general_parsers(rows: list[tuple[str, str, str, str]]) -> None:
    frame = pd.DataFrame(rows, columns=list(parsing.COLUMNS), dtype=str)
    lines = np.arange(2, 2 + len(rows), dtype=np.int64)
    fast = parsing.validate_chunk(frame, lines, GRID, 1_000)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _general_only(monkeypatch)
        general = parsing.validate_chunk(frame, lines, GRID, 1_000)
    assert (fast.errors, fast.error_count) == (general.errors, general.error_count)
    for name in (field.name for field in dataclasses.fields(parsing.ValidRows)):
        assert np.array_equal(getattr(fast.valid, name), getattr(general.valid, name)), name


def test_an_instant_beyond_the_nanosecond_range_is_no_date_time() -> None:
    """pandas may keep such an instant at a coarser unit, which converting to nanoseconds
    refused with an error (a 500): it is NaT, named as not an RFC 3339 date-time."""
    coarse = pd.Series(
        np.array(["0000-01-01T00:00:00", "2026-10-01T06:00:00", "NaT"], dtype="datetime64[s]")
    ).dt.tz_localize("UTC")
    nanoseconds = parsing._nanoseconds(coarse)
    assert nanoseconds[1] == pd.Timestamp("2026-10-01T06:00:00Z").value
    assert np.isnat(nanoseconds.view("datetime64[ns]")[[0, 2]]).all()

"""The plain forms that numpy reads decide every cell exactly as the general parsers do, and a
CSV cut by numpy gives the cells pandas reads."""

import dataclasses
import io
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.volumes import parsing

GRID = parsing.Grid(ZoneInfo("Europe/Paris"), 30, pd.Timestamp("2030-01-01", tz="UTC").value)


def _cells(values: list[str]) -> parsing.Cells:
    return parsing.StringCells(pd.Series(values, dtype=str))


def _columns(rows: list[tuple[str, str, str, str]]) -> parsing.Columns:
    return {name: _cells([row[k] for row in rows]) for k, name in enumerate(parsing.COLUMNS)}


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
    instants, plain = parsing._plain_instants(_cells(list(cells)))
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
        "0.1": 0.1,
        "9007199.25474099": 9007199.25474099,
        "1.00000000000001": 1.00000000000001,
    }
    others = ["", " 5", "5 ", "-5", "+5", "1e3", "1_0", "nan", ".5", "5.", "1.2.3", "5\x00", "٣"]
    numbers, plain = parsing._plain_decimals(_cells([*cells, *others]))
    assert plain.tolist() == [True] * len(cells) + [False] * len(others)
    assert numbers[plain].tolist() == list(cells.values())
    assert np.isnan(numbers[~plain]).all()


def _general_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell read by the regex, `pd.to_datetime` and `pd.to_numeric`."""

    def no_instant(cells: parsing.Cells) -> tuple[parsing.DatetimeArray, parsing.BoolArray]:
        size = len(cells.lengths)
        return np.full(size, np.datetime64("NaT", "ns")), np.zeros(size, dtype=bool)

    def no_decimal(cells: parsing.Cells) -> tuple[parsing.FloatArray, parsing.BoolArray]:
        size = len(cells.lengths)
        return np.full(size, np.nan), np.zeros(size, dtype=bool)

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
    lines = np.arange(2, 2 + len(rows), dtype=np.int64)
    fast = parsing.validate_chunk(_columns(rows), lines, GRID, 1_000)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _general_only(monkeypatch)
        general = parsing.validate_chunk(_columns(rows), lines, GRID, 1_000)
    _assert_same(fast, general)


def _assert_same(one: parsing.ChunkResult, other: parsing.ChunkResult) -> None:
    assert (one.errors, one.error_count) == (other.errors, other.error_count)
    for name in (field.name for field in dataclasses.fields(parsing.ValidRows)):
        assert np.array_equal(getattr(one.valid, name), getattr(other.valid, name)), name


def _read_by_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "_plain_lines", lambda stream: False)


_header = st.permutations(parsing.COLUMNS).map(",".join)
_cell = st.one_of(
    _instants, _numbers, st.sampled_from(['"5"', '"1,5"', "\t5", "é", "5\r", "\r", "\n"])
)
_line = st.one_of(
    st.tuples(_grid_instants, _counts, _counts, _seconds).map(",".join),
    st.lists(_cell, min_size=4, max_size=4).map(",".join),
    st.lists(_cell, min_size=1, max_size=6).map(",".join),
)
_ending = st.sampled_from(["\n", "\r\n", "\r", ""])
_plain_cell = st.one_of(
    _instants.filter(lambda cell: cell.isascii() and not set(cell) & set('",\r\n\x00')),
    st.text(st.characters(min_codepoint=1, max_codepoint=0x7F, exclude_characters='",\r\n')),
)
_plain_line = st.one_of(
    st.tuples(_grid_instants, _counts, _counts, _seconds).map(",".join),
    st.lists(_plain_cell, min_size=4, max_size=4).map(",".join),
)


@settings(max_examples=300, deadline=None)
@given(_header, st.lists(st.tuples(_line, _ending), min_size=1, max_size=30), st.integers(1, 8))
def test_any_csv_reads_as_pandas_reads_it(
    header: str, lines: list[tuple[str, str]], chunk_rows: int
) -> None:
    """Whichever reader `csv_chunks` chooses, the chunks validate as pandas' own (quoted cells,
    '\r' line breaks, non-ASCII, ragged or blank lines take pandas' reader), with the same
    line numbers, in chunks of at most `CSV_CHUNK_ROWS`."""
    body = (header + "\n" + "".join(line + end for line, end in lines[:-1])).encode()
    body += lines[-1][0].encode()
    _assert_read_as_by_pandas(body, chunk_rows)


@settings(max_examples=200, deadline=None)
@given(
    _header,
    st.lists(st.tuples(_plain_line, st.sampled_from(["\n", "\r\n"])), min_size=1, max_size=30),
    st.integers(1, 8),
)
def test_plain_lines_are_cut_by_numpy_into_the_cells_pandas_reads(
    header: str, lines: list[tuple[str, str]], chunk_rows: int
) -> None:
    body = (header + "\n" + "".join(line + end for line, end in lines)).encode()
    chunks = list(parsing.csv_chunks(io.BytesIO(body)))
    assert all(
        isinstance(cells, parsing.ByteCells) for chunk, _ in chunks for cells in chunk.values()
    )
    _assert_read_as_by_pandas(body, chunk_rows)


def _assert_read_as_by_pandas(body: bytes, chunk_rows: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(parsing, "CSV_CHUNK_ROWS", chunk_rows)
        try:
            chosen = list(parsing.csv_chunks(io.BytesIO(body)))
        except pd.errors.ParserError:
            chosen = None
        _read_by_pandas(monkeypatch)
        try:
            by_pandas = list(parsing.csv_chunks(io.BytesIO(body)))
        except pd.errors.ParserError:
            assert chosen is None
            return
    assert chosen is not None
    assert all(len(lines) <= chunk_rows for _, lines in chosen)
    merged = [np.concatenate([lines for _, lines in chunks]) for chunks in (chosen, by_pandas)]
    assert np.array_equal(merged[0], merged[1])
    joined = [
        parsing.validate_chunk(_joined(chunks), lines, GRID, 1_000)
        for chunks, lines in zip((chosen, by_pandas), merged, strict=True)
    ]
    _assert_same(*joined)


def _joined(chunks: list[tuple[parsing.Columns, parsing.IntArray]]) -> parsing.Columns:
    """The chunks' cells as one column each (chunk boundaries differ between the readers)."""
    return {
        name: _cells([cell for columns, _ in chunks for cell in _texts(columns[name])])
        for name in parsing.COLUMNS
    }


def _texts(cells: parsing.Cells) -> list[str]:
    return cells.text(np.ones(len(cells.lengths), dtype=bool)).tolist()


def test_plain_lines_are_cut_by_numpy() -> None:
    body = b"offered,interval_start,handled,aht_seconds\r\n5,2026-10-01T06:00:00Z,4,\r\n 6,x,,1.5"
    chunks = list(parsing.csv_chunks(io.BytesIO(body)))
    assert [lines.tolist() for _, lines in chunks] == [[2], [3]]  # the last line has no newline
    cells = [columns[name] for columns, _ in chunks for name in parsing.COLUMNS]
    assert all(isinstance(column, parsing.ByteCells) for column in cells)
    columns = _joined(chunks)
    assert _texts(columns["offered"]) == ["5", " 6"]
    assert _texts(columns["interval_start"]) == ["2026-10-01T06:00:00Z", "x"]
    assert _texts(columns["aht_seconds"]) == ["", "1.5"]
    assert [chunk[0]["aht_seconds"].lengths.tolist() for chunk in chunks] == [[0], [3]]


def test_an_instant_beyond_the_nanosecond_range_is_no_date_time() -> None:
    """pandas may keep such an instant at a coarser unit, which converting to nanoseconds
    refused with an error (a 500): it is NaT, named as not an RFC 3339 date-time."""
    coarse = pd.Series(
        np.array(["0000-01-01T00:00:00", "2026-10-01T06:00:00", "NaT"], dtype="datetime64[s]")
    ).dt.tz_localize("UTC")
    nanoseconds = parsing._nanoseconds(coarse)
    assert nanoseconds[1] == pd.Timestamp("2026-10-01T06:00:00Z").value
    assert np.isnat(nanoseconds.view("datetime64[ns]")[[0, 2]]).all()

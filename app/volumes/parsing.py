"""Vectorised validation of interval actuals, shared by the JSON and CSV forms.

Both forms are turned into chunks of text columns (a CSV cell and a JSON value read alike), so
one set of rules decides what is valid and the two forms store identical data. Each rule is a
numpy mask over the whole chunk: a million rows are checked without a Python loop per row.

A column is a `Cells`: its cells' lengths and code points, which the plain forms read, and the
cells as strings, which the general parsers read. A CSV of plain lines (`_plain_lines`) is cut
into cells by numpy straight from its bytes, and only the cells the plain forms leave out become
strings; any other CSV is read by pandas, cell by cell.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

COLUMNS = ("interval_start", "offered", "handled", "aht_seconds")
MAX_COUNT = 1_000_000_000
MAX_AHT_SECONDS = 86_400
CSV_CHUNK_ROWS = 25_000
"""Rows validated and written at a time. A chunk's text columns, arrays and driver parameters
set the server's peak memory: for one CSV of 1,000,000 rows the peak rose 140 MB above the idle
server with chunks of 100,000 rows, 98 MB with 50,000 and 80 MB with 25,000, which keeps it under
its 300 MB budget; the time of the upload did not change measurably (66-73 s under load 12)."""
_OFFSET_SUFFIX = r"(?:[zZ]|[+-]\d\d:?\d\d)\s*$"

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
DatetimeArray = npt.NDArray[np.datetime64]
CodeArray = npt.NDArray[np.uint8] | npt.NDArray[np.uint32]
"""Code points: bytes of an ASCII CSV, UCS-4 of strings. The checks below hold for both (a
code point below '0' wraps around to a large unsigned number)."""


@dataclass(frozen=True)
class RowError:
    """One bad cell: `row` is the CSV line number (header = 1) or the JSON `records` index."""

    row: int
    field: str
    reason: str


@dataclass(frozen=True)
class ValidRows:
    """The rows of a chunk that passed every check, as arrays ready for a bulk write."""

    rows: IntArray
    starts_ns: IntArray
    offered: IntArray
    handled: IntArray
    aht_ms: IntArray
    aht_known: BoolArray

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class ChunkResult:
    valid: ValidRows
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0


class HeaderError(ValueError):
    """The CSV header is not the documented one; nothing after it can be read."""


class Cells(Protocol):
    """One text column of a chunk."""

    lengths: IntArray
    """Each cell's length in code points."""

    def codes(self, width: int) -> CodeArray:
        """The first `width` code points of each cell, one row per cell, zero-padded."""

    def text(self, selected: BoolArray) -> "pd.Series[str]":
        """The `selected` cells as strings, in order."""


class StringCells:
    """Cells that are Python strings already: a JSON body's values, or pandas' CSV cells."""

    def __init__(self, cells: "pd.Series[str]") -> None:
        self._cells = cells
        self._values = cells.to_numpy(dtype=object)
        self.lengths = np.fromiter(map(len, self._values), dtype=np.int64, count=len(cells))

    def codes(self, width: int) -> CodeArray:
        codes: CodeArray = (
            self._values.astype(f"U{width}").view(np.uint32).reshape(len(self._values), width)
        )
        return codes

    def text(self, selected: BoolArray) -> "pd.Series[str]":
        return self._cells[selected]


class ByteCells:
    """Cells of a CSV block of ASCII bytes, each the span [starts, stops) of `data`: their code
    points are gathered by numpy, and a cell becomes a string only when `text` asks for it.
    `data` ends with `CODE_PADDING` zero bytes, so that the widest code points read from a
    cell that ends the block stay inside it."""

    def __init__(self, data: npt.NDArray[np.uint8], starts: IntArray, stops: IntArray) -> None:
        self._data, self._starts, self._stops = data, starts, stops
        self.lengths = stops - starts

    def codes(self, width: int) -> CodeArray:
        # One copy of `width` bytes per cell from a strided view of the block: gathering them
        # through an index per code point took 2.8 ms per 25,000 instants, this 0.8.
        assert width <= CODE_PADDING, "the code points would run past the block"
        windows = np.lib.stride_tricks.sliding_window_view(self._data, width)[self._starts]
        codes: npt.NDArray[np.uint8] = np.where(
            np.arange(width) < self.lengths[:, None], windows, 0
        )
        return codes

    def text(self, selected: BoolArray) -> "pd.Series[str]":
        raw = self._data.tobytes()
        spans = zip(self._starts[selected].tolist(), self._stops[selected].tolist(), strict=True)
        return pd.Series([raw[start:stop].decode("ascii") for start, stop in spans], dtype=str)


Columns = Mapping[str, Cells]


def csv_chunks(stream: IO[bytes]) -> Iterator[tuple[Columns, IntArray]]:
    """Read a CSV in bounded chunks of text columns, with the file line number of each row.

    Memory stays proportional to the chunk size, not to the file: a million-row upload is
    validated and written `CSV_CHUNK_ROWS` rows at a time. The stream is read twice when its
    lines are plain: once to find that all are (before any row is written, so that the choice
    of reader never depends on what was met half-way), once to cut them.
    """
    header_line = stream.readline().decode("utf-8-sig").strip()
    header = [name.strip() for name in header_line.split(",")]
    if sorted(header) != sorted(COLUMNS):
        raise HeaderError(
            f"the CSV header must name the columns {','.join(COLUMNS)}; got {header_line!r}"
        )
    body = stream.tell()
    plain = _plain_lines(stream)
    stream.seek(body)
    chunks = _cut_plain_lines(stream) if plain else _pandas_chunks(stream, header)
    next_line = 2
    for cells in chunks:
        lines = np.arange(next_line, next_line + len(cells[0].lengths), dtype=np.int64)
        next_line += len(lines)
        yield dict(zip(header, cells, strict=True)), lines


CODE_PADDING = 32
"""Code points read per cell at most (an instant's 25, a decimal's 16)."""
_BLOCK_BYTES = 1 << 20
"""Bytes of CSV cut at a time (about 27,000 lines of a feed's usual 38 bytes)."""
_ROW_SEPARATORS = np.array([ord(","), ord(","), ord(","), ord("\n")], dtype=np.uint8)


def _blocks(stream: IO[bytes]) -> Iterator[npt.NDArray[np.uint8]]:
    """The rest of the stream in blocks of whole lines, a missing last newline added (pandas
    reads a last line the same with or without it)."""
    carry = b""
    while piece := stream.read(_BLOCK_BYTES):
        piece = carry + piece
        cut = piece.rfind(b"\n") + 1
        carry = piece[cut:]
        if cut:
            yield np.frombuffer(piece[:cut], dtype=np.uint8)
    if carry:
        yield np.frombuffer(carry + b"\n", dtype=np.uint8)


def _separators(block: npt.NDArray[np.uint8]) -> IntArray | None:
    """The positions of the block's commas and newlines if its lines are plain, else None.

    Plain lines are ASCII without NUL or double quote, each of exactly four cells, ended by
    '\n' or '\r\n': pandas' C parser reads each such line on its own into the bytes between
    its commas (no quoting, no lone '\r' line break, no blank or ragged line), so cutting
    them by their separators gives exactly its cells.
    """
    if block.max() > 0x7F or ((block == 0) | (block == ord('"'))).any():
        return None
    returns = np.flatnonzero(block == ord("\r"))
    if (block[returns + 1] != ord("\n")).any():  # a block ends with '\n': returns + 1 exists
        return None
    separators = np.flatnonzero((block == ord(",")) | (block == ord("\n")))
    if len(separators) % 4 or (block[separators].reshape(-1, 4) != _ROW_SEPARATORS).any():
        return None
    return separators


def _plain_lines(stream: IO[bytes]) -> bool:
    """Whether the rest of the stream has lines, all plain (`_separators`)."""
    seen = False
    for block in _blocks(stream):
        if _separators(block) is None:
            return False
        seen = True
    return seen


def _cut_plain_lines(stream: IO[bytes]) -> Iterator[list[Cells]]:
    """The four columns of plain lines, in the header's order, `CSV_CHUNK_ROWS` rows at a
    time: numpy finds each cell's span from the separators, without a string per cell."""
    for block in _blocks(stream):
        separators = _separators(block)
        assert separators is not None, "the stream changed since _plain_lines read it"
        ends = separators.reshape(-1, 4)
        starts = np.empty_like(ends)
        starts[:, 1:] = ends[:, :3] + 1
        starts[0, 0] = 0
        starts[1:, 0] = ends[:-1, 3] + 1
        stops = ends.copy()
        stops[:, 3] -= block[np.maximum(ends[:, 3] - 1, 0)] == ord("\r")
        padded = np.concatenate([block, np.zeros(CODE_PADDING, dtype=np.uint8)])
        for first in range(0, len(ends), CSV_CHUNK_ROWS):
            rows = slice(first, first + CSV_CHUNK_ROWS)
            yield [ByteCells(padded, starts[rows, k], stops[rows, k]) for k in range(4)]


def _pandas_chunks(stream: IO[bytes], header: list[str]) -> Iterator[list[Cells]]:
    """The columns as pandas' C parser reads any CSV (quoted cells, ragged lines, ...)."""
    reader = pd.read_csv(
        stream,
        names=header,
        header=None,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        chunksize=CSV_CHUNK_ROWS,
        engine="c",
    )
    for frame in reader:
        yield [StringCells(frame[name].astype(str)) for name in header]


def json_chunk(records: list[Any]) -> tuple[Columns, IntArray, list[RowError]]:
    """The `records` array as text columns; records that are not objects or carry unknown
    fields are errors of their own."""
    errors: list[RowError] = []
    cells: dict[str, list[str]] = {name: [] for name in COLUMNS}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            errors.append(RowError(index, "record", "must be an object"))
            record = {}
        for unknown in sorted(set(record) - set(COLUMNS)):
            errors.append(RowError(index, unknown, "unknown field"))
        for name in COLUMNS:
            value = record.get(name)
            cells[name].append("" if value is None else _json_text(value))
    columns = {name: StringCells(pd.Series(cells[name], dtype=str)) for name in COLUMNS}
    return columns, np.arange(len(records), dtype=np.int64), errors


def _json_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return "\x00invalid"
    return str(value)


@dataclass(frozen=True)
class Grid:
    """The activity's interval grid in the contract's time zone, and the present instant."""

    timezone: ZoneInfo
    interval_minutes: int
    now_ns: int


def validate_chunk(text: Columns, rows: IntArray, grid: Grid, max_errors: int) -> ChunkResult:
    """Check every cell of a chunk; return the valid rows and (up to `max_errors`) the errors."""
    # The parsers below tolerate surrounding blanks themselves (`_blank`); stripping every cell
    # first would cost more than all the checks together.
    problems: list[tuple[str, str, BoolArray]] = []

    starts, start_problems = _parse_starts(text["interval_start"], grid)
    problems += start_problems
    offered, offered_problems = _parse_counts("offered", text["offered"])
    handled, handled_problems = _parse_counts("handled", text["handled"])
    problems += offered_problems + handled_problems
    aht_ms, aht_known, aht_problems = _parse_aht(text["aht_seconds"], handled)
    problems += aht_problems

    duplicate = pd.Series(starts).duplicated(keep="first").to_numpy() & (starts >= 0)
    problems.append(
        ("interval_start", "the same interval appears earlier in the request", duplicate)
    )

    bad = np.zeros(len(rows), dtype=bool)
    for _, _, mask in problems:
        bad |= mask
    errors, count = _collect(problems, rows, max_errors)
    keep = ~bad
    valid = ValidRows(
        rows=rows[keep],
        starts_ns=starts[keep],
        offered=offered[keep],
        handled=handled[keep],
        aht_ms=aht_ms[keep],
        aht_known=aht_known[keep],
    )
    return ChunkResult(valid=valid, errors=errors, error_count=count)


def _blank(cells: Cells, suspects: BoolArray) -> BoolArray:
    """Which cells are empty or only blanks. They are looked for among `suspects` only (the
    cells that failed to parse, as a blank one does): stripping every cell would cost more
    than all the checks, and comparing every one with '' took 0.9 ms per 25,000 cells."""
    blank = np.zeros(len(cells.lengths), dtype=bool)
    if suspects.any():
        blank[suspects] = (cells.text(suspects).str.strip() == "").to_numpy(dtype=bool)
    return blank


def _parse_starts(cells: Cells, grid: Grid) -> tuple[IntArray, list[tuple[str, str, BoolArray]]]:
    instants, has_offset = _read_instants(cells)
    empty = _blank(cells, ~has_offset)
    has_offset = has_offset & ~empty
    unparsable = np.isnat(instants) & has_offset
    ok = ~(empty | ~has_offset | unparsable)
    starts = np.where(ok, instants.view(np.int64), -1)
    # On the grid means: local wall-clock time is a whole number of intervals after a local
    # midnight, i.e. its naive-local nanoseconds are a multiple of the interval length.
    local_ns = pd.DatetimeIndex(starts, tz="UTC").tz_convert(grid.timezone).tz_localize(None).asi8
    off_grid = ok & (local_ns % (grid.interval_minutes * 60 * 1_000_000_000) != 0)
    future = ok & (starts > grid.now_ns)
    return starts, [
        ("interval_start", "required", empty),
        (
            "interval_start",
            "needs a UTC offset, e.g. 2026-10-01T08:30:00+02:00",
            ~empty & ~has_offset,
        ),
        ("interval_start", "not an RFC 3339 date-time", unparsable),
        (
            "interval_start",
            f"not on the {grid.interval_minutes}-minute grid of the activity in {grid.timezone}",
            off_grid,
        ),
        ("interval_start", "is in the future: actuals are recorded after the fact", future),
    ]


def _read_instants(cells: Cells) -> tuple[DatetimeArray, BoolArray]:
    """Each cell's instant (NaT if none) and whether it ends with a UTC offset.

    Cells in the plain form of `_plain_instants` are read by numpy; the others by the offset
    regex and `pd.to_datetime`, which cost 16 and 15 ms per 25,000 cells and decide every
    case the plain form leaves out (blanks, fractions, a lowercase 'z', bad dates...).
    """
    instants, plain = _plain_instants(cells)
    has_offset = plain.copy()
    other = ~plain
    if other.any():
        rest = cells.text(other)
        suffixed = rest.str.contains(_OFFSET_SUFFIX, regex=True).to_numpy(dtype=bool)
        has_offset[other] = suffixed
        parsed = pd.to_datetime(rest.where(suffixed), utc=True, errors="coerce", format="ISO8601")
        instants[other] = _nanoseconds(parsed)
    return instants, has_offset


_NANOSECOND_RANGE = (pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC"))


def _nanoseconds(parsed: "pd.Series[pd.Timestamp]") -> IntArray:
    """Parsed instants as UTC nanoseconds, NaT (not a date-time an interval can have) for one
    beyond datetime64[ns]'s range. pandas may keep such an instant at a coarser unit, which
    the conversion to nanoseconds then refuses with an error: the property test of the
    parsers met one (year 0), which was a 500."""
    low, high = _NANOSECOND_RANGE
    inside = parsed.isna() | ((parsed >= low) & (parsed <= high))
    nanoseconds: IntArray = pd.DatetimeIndex(
        parsed.where(inside).astype("datetime64[ns, UTC]")
    ).asi8
    return nanoseconds


_DATE_TIME = "9999-99-99T99:99:99"
"""The plain form's date and time; '9' stands for any digit. It is followed by 'Z' or by an
offset '+99:99' / '-99:99'."""
_OFFSET = "99:99"
_PLAIN_YEARS = (1678, 2261)
"""Years whose every instant, whatever the offset, is within datetime64[ns]'s range: the
cells of other years take `pd.to_datetime`'s path, which names them."""


def _plain_instants(cells: Cells) -> tuple[DatetimeArray, BoolArray]:
    """The instants of cells written exactly `YYYY-MM-DDTHH:MM:SSZ` or `...+HH:MM`, a valid
    date and time, as the feeds write them; NaT and False for every other cell.

    numpy reads a chunk of 25,000 such cells from their code points in 5.5 ms, where the regex
    and `pd.to_datetime` took 31 ms; the result is the same instant to the nanosecond (tested).
    """
    lengths = cells.lengths
    codes = cells.codes(len(_DATE_TIME) + 1 + len(_OFFSET))
    head = len(_DATE_TIME)
    sign = codes[:, head]
    zulu = (lengths == head + 1) & (sign == ord("Z"))
    offset_form = (
        (lengths == codes.shape[1])
        & ((sign == ord("+")) | (sign == ord("-")))
        & _matches(codes[:, head + 1 :], _OFFSET)
    )
    year, month, day = _digits(codes, 0, 4), _digits(codes, 5, 7), _digits(codes, 8, 10)
    hour, minute, second = _digits(codes, 11, 13), _digits(codes, 14, 16), _digits(codes, 17, 19)
    offset_hours, offset_minutes = _digits(codes, 20, 22), _digits(codes, 23, 25)
    plain = (
        _matches(codes[:, :head], _DATE_TIME)
        & (zulu | offset_form)
        & (year >= _PLAIN_YEARS[0])
        & (year <= _PLAIN_YEARS[1])
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= _days_in_month(year, month))
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
        & (offset_hours <= 23)
        & (offset_minutes <= 59)
    )
    offset = np.where(offset_form, offset_hours * 60 + offset_minutes, 0)
    offset = np.where(sign == ord("-"), -offset, offset)
    seconds = (
        _days_from_civil(year, month, day) * 86_400
        + hour * 3_600
        + minute * 60
        + second
        - offset * 60
    )
    instants = np.where(plain, seconds * 1_000_000_000, np.iinfo(np.int64).min)
    return instants.view("datetime64[ns]"), plain


def _days_in_month(year: IntArray, month: IntArray) -> IntArray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    days: IntArray = lengths[np.clip(month, 1, 12) - 1] + (leap & (month == 2))
    return days


def _days_from_civil(year: IntArray, month: IntArray, day: IntArray) -> IntArray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`)."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days: IntArray = era * 146_097 + day_of_era - 719_468
    return days


def _is_digit(codes: CodeArray) -> BoolArray:
    digit: BoolArray = codes - ord("0") <= 9  # below '0' wraps around to a large number
    return digit


def _matches(codes: CodeArray, template: str) -> BoolArray:
    """Which rows of `codes` spell `template`, where '9' stands for any digit."""
    low = np.array([ord("0" if char == "9" else char) for char in template], dtype=codes.dtype)
    span = np.array([9 if char == "9" else 0 for char in template], dtype=codes.dtype)
    # In the codes' own unsigned type, below `low` wraps around.
    rows: BoolArray = np.all(np.subtract(codes, low, dtype=codes.dtype) <= span, axis=1)
    return rows


def _digits(codes: CodeArray, start: int, stop: int) -> IntArray:
    """The number written by code points `start:stop` of each row (meaningless unless they
    are digits)."""
    weights = 10 ** np.arange(stop - start - 1, -1, -1, dtype=np.int64)
    number: IntArray = (codes[:, start:stop].astype(np.int64) - ord("0")) @ weights
    return number


def _parse_counts(name: str, cells: Cells) -> tuple[IntArray, list[tuple[str, str, BoolArray]]]:
    numbers = _read_numbers(cells)
    empty = _blank(cells, np.isnan(numbers))
    not_number = np.isnan(numbers) & ~empty
    present = ~np.isnan(numbers)
    with np.errstate(invalid="ignore"):
        fractional = present & (np.floor(numbers) != numbers)
        negative = present & (numbers < 0)
        too_large = present & (numbers > MAX_COUNT)
    values = np.where(present & ~fractional & ~too_large, numbers, 0).astype(np.int64)
    return values, [
        (name, "required", empty),
        (name, "not a number", not_number),
        (name, "must be a whole number", fractional),
        (name, "must be >= 0", negative),
        (name, f"must be at most {MAX_COUNT}", too_large),
    ]


def _read_numbers(cells: Cells) -> FloatArray:
    """Each cell's number, NaN if it is none, as `pd.to_numeric` reads it.

    Cells of plain decimals are read by `_plain_decimals`; `pd.to_numeric`, which took 7 ms
    to read 25,000 cells, reads only the others.
    """
    numbers, plain = _plain_decimals(cells)
    other = ~plain
    if other.any():
        numbers[other] = pd.to_numeric(cells.text(other), errors="coerce").to_numpy(dtype=float)
    return numbers


_PLAIN_DIGITS = 15
"""Digits of a plain decimal at most: its digits then make an integer below 2**53."""
_POWERS_OF_TEN = np.array([float(10**k) for k in range(_PLAIN_DIGITS)])


def _plain_decimals(cells: Cells) -> tuple[FloatArray, BoolArray]:
    """The values of cells written as digits with at most one '.' between digits (`42`,
    `312.5`), of at most `_PLAIN_DIGITS` digits; NaN and False for every other cell.

    numpy checks the form and reads the value from the code points: the digits as one integer
    n, divided by 10**k for the k digits after the point. n and 10**k are below 2**53, so both
    are exact in float64 and the division rounds the exact decimal once, to its nearest
    float64, as `float` and `pd.to_numeric` do (Clinger's fast path). Python's `float` on
    each plain cell took 1 ms per 25,000, and its strings are what a CSV read by numpy lacks.
    """
    lengths = cells.lengths
    width = int(np.clip(lengths.max(initial=1), 1, _PLAIN_DIGITS + 1))
    codes = cells.codes(width)
    digit, dot = _is_digit(codes), codes == ord(".")
    dots = dot.sum(axis=1)
    last = codes[np.arange(len(codes)), np.clip(lengths, 1, width) - 1]
    plain = (
        ((digit | dot).sum(axis=1) == lengths)  # no other character, nothing cut off
        & (dots <= 1)
        & (lengths - dots <= _PLAIN_DIGITS)
        & digit[:, 0]
        & _is_digit(last)
    )
    # Each digit's weight is 10 to the number of digits after it in its cell.
    after = np.clip((lengths - dots)[:, None] - np.cumsum(digit, axis=1), 0, _PLAIN_DIGITS - 1)
    values = np.where(digit, codes.astype(np.int64) - ord("0"), 0)
    integers = (values * 10**after).sum(axis=1)
    fraction_digits = np.where(dots == 1, lengths - 1 - np.argmax(dot, axis=1), 0)
    numbers = np.full(len(lengths), np.nan)
    numbers[plain] = integers[plain].astype(np.float64) / _POWERS_OF_TEN[fraction_digits[plain]]
    return numbers, plain


def _parse_aht(
    cells: Cells, handled: IntArray
) -> tuple[IntArray, BoolArray, list[tuple[str, str, BoolArray]]]:
    seconds = _read_numbers(cells)
    empty = _blank(cells, np.isnan(seconds))
    not_number = np.isnan(seconds) & ~empty
    present = ~np.isnan(seconds)
    with np.errstate(invalid="ignore"):
        negative = present & (seconds < 0)
        too_long = present & (seconds >= MAX_AHT_SECONDS)
    missing = empty & (handled > 0)
    aht_ms = np.where(present & ~negative & ~too_long, np.round(seconds * 1000), 0)
    return (
        aht_ms.astype(np.int64),
        present,
        [
            ("aht_seconds", "required when handled > 0", missing),
            ("aht_seconds", "not a number", not_number),
            ("aht_seconds", "must be >= 0", negative),
            ("aht_seconds", f"must be below {MAX_AHT_SECONDS} s (24 h)", too_long),
        ],
    )


def _collect(
    problems: list[tuple[str, str, BoolArray]], rows: IntArray, max_errors: int
) -> tuple[list[RowError], int]:
    found: list[RowError] = []
    count = 0
    for name, reason, mask in problems:
        positions = np.flatnonzero(mask)
        count += len(positions)
        found += [RowError(int(rows[i]), name, reason) for i in positions[:max_errors]]
    found.sort(key=lambda error: error.row)
    return found[:max_errors], count


def cross_chunk_duplicates(
    starts_ns: IntArray, rows: IntArray, max_errors: int
) -> tuple[list[RowError], int]:
    """Intervals repeated across chunks of one request (within a chunk is checked already)."""
    order = np.argsort(starts_ns, kind="stable")
    sorted_starts = starts_ns[order]
    repeated = np.flatnonzero(sorted_starts[1:] == sorted_starts[:-1]) + 1
    errors = [
        RowError(
            int(rows[order[i]]),
            "interval_start",
            "the same interval appears earlier in the request",
        )
        for i in repeated[:max_errors]
    ]
    return sorted(errors, key=lambda error: error.row), len(repeated)

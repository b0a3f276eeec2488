"""Vectorised validation of interval actuals, shared by the JSON and CSV forms.

Both forms are turned into chunks of text columns (a CSV cell and a JSON value read alike), so
one set of rules decides what is valid and the two forms store identical data. Each rule is a
numpy mask over the whole chunk: a million rows are checked without a Python loop per row.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any
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
CodeArray = npt.NDArray[np.uint32]
ObjectArray = npt.NDArray[np.object_]


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


def csv_chunks(stream: IO[bytes]) -> Iterator[tuple[pd.DataFrame, IntArray]]:
    """Read a CSV in bounded chunks of text columns, with the file line number of each row.

    Memory stays proportional to the chunk size, not to the file: a million-row upload is
    validated and written `CSV_CHUNK_ROWS` rows at a time.
    """
    header_line = stream.readline().decode("utf-8-sig").strip()
    header = [name.strip() for name in header_line.split(",")]
    if sorted(header) != sorted(COLUMNS):
        raise HeaderError(
            f"the CSV header must name the columns {','.join(COLUMNS)}; got {header_line!r}"
        )
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
    next_line = 2
    for frame in reader:
        lines = np.arange(next_line, next_line + len(frame), dtype=np.int64)
        next_line += len(frame)
        yield frame, lines


def json_chunk(records: list[Any]) -> tuple[pd.DataFrame, IntArray, list[RowError]]:
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
    return pd.DataFrame(cells, dtype=str), np.arange(len(records), dtype=np.int64), errors


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


def validate_chunk(frame: pd.DataFrame, rows: IntArray, grid: Grid, max_errors: int) -> ChunkResult:
    """Check every cell of a chunk; return the valid rows and (up to `max_errors`) the errors."""
    # The parsers below tolerate surrounding blanks themselves (`_blank`); stripping every cell
    # first would cost more than all the checks together.
    text = {name: frame[name].astype(str) for name in COLUMNS}
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

    bad = np.zeros(len(frame), dtype=bool)
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


def _blank(cells: "pd.Series[str]", suspects: BoolArray) -> BoolArray:
    """Which cells are empty or only blanks. They are looked for among `suspects` only (the
    cells that failed to parse, as a blank one does): stripping every cell would cost more
    than all the checks, and comparing every one with '' took 0.9 ms per 25,000 cells."""
    blank = np.zeros(len(cells), dtype=bool)
    if suspects.any():
        blank[suspects] = (cells[suspects].str.strip() == "").to_numpy(dtype=bool)
    return blank


def _parse_starts(
    cells: "pd.Series[str]", grid: Grid
) -> tuple[IntArray, list[tuple[str, str, BoolArray]]]:
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


def _read_instants(cells: "pd.Series[str]") -> tuple[DatetimeArray, BoolArray]:
    """Each cell's instant (NaT if none) and whether it ends with a UTC offset.

    Cells in the plain form of `_plain_instants` are read by numpy; the others by the offset
    regex and `pd.to_datetime`, which cost 16 and 15 ms per 25,000 cells and decide every
    case the plain form leaves out (blanks, fractions, a lowercase 'z', bad dates...).
    """
    instants, plain = _plain_instants(cells)
    has_offset = plain.copy()
    other = ~plain
    if other.any():
        rest = cells[other]
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


def _plain_instants(cells: "pd.Series[str]") -> tuple[DatetimeArray, BoolArray]:
    """The instants of cells written exactly `YYYY-MM-DDTHH:MM:SSZ` or `...+HH:MM`, a valid
    date and time, as the feeds write them; NaT and False for every other cell.

    numpy reads a chunk of 25,000 such cells from their code points in 5.5 ms, where the regex
    and `pd.to_datetime` took 31 ms; the result is the same instant to the nanosecond (tested).
    """
    values = cells.to_numpy(dtype=object)
    lengths = _lengths(values)
    codes = _code_points(values, len(_DATE_TIME) + 1 + len(_OFFSET))
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


def _lengths(values: ObjectArray) -> IntArray:
    """The cells' lengths, by which the plain forms tell a cut cell or a NUL from padding."""
    return np.fromiter(map(len, values), dtype=np.int64, count=len(values))


def _code_points(values: ObjectArray, width: int) -> CodeArray:
    """The first `width` code points of each cell, one row per cell, zero-padded."""
    codes: CodeArray = values.astype(f"U{width}").view(np.uint32).reshape(len(values), width)
    return codes


def _is_digit(codes: CodeArray) -> BoolArray:
    digit: BoolArray = codes - ord("0") <= 9  # below '0' wraps around to a large uint32
    return digit


def _matches(codes: CodeArray, template: str) -> BoolArray:
    """Which rows of `codes` spell `template`, where '9' stands for any digit."""
    low = np.array([ord("0" if char == "9" else char) for char in template], dtype=np.uint32)
    span = np.array([9 if char == "9" else 0 for char in template], dtype=np.uint32)
    rows: BoolArray = np.all(codes - low <= span, axis=1)  # below `low` wraps around
    return rows


def _digits(codes: CodeArray, start: int, stop: int) -> IntArray:
    """The number written by code points `start:stop` of each row (meaningless unless they
    are digits)."""
    weights = 10 ** np.arange(stop - start - 1, -1, -1, dtype=np.int64)
    number: IntArray = (codes[:, start:stop].astype(np.int64) - ord("0")) @ weights
    return number


def _parse_counts(
    name: str, cells: "pd.Series[str]"
) -> tuple[IntArray, list[tuple[str, str, BoolArray]]]:
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


def _read_numbers(cells: "pd.Series[str]") -> FloatArray:
    """Each cell's number, NaN if it is none, as `pd.to_numeric` reads it.

    Cells of plain decimals are read by `_plain_decimals` (3.3 ms per 25,000 cells);
    `pd.to_numeric`, which took 7 ms to read them all, reads only the others.
    """
    numbers, plain = _plain_decimals(cells)
    other = ~plain
    if other.any():
        numbers[other] = pd.to_numeric(cells[other], errors="coerce").to_numpy(dtype=float)
    return numbers


_PLAIN_DIGITS = 15
"""Digits of a plain decimal at most: `pd.to_numeric` was compared with `float` on decimals of
up to 15 digits."""


def _plain_decimals(cells: "pd.Series[str]") -> tuple[FloatArray, BoolArray]:
    """The values of cells written as digits with at most one '.' between digits (`42`,
    `312.5`), of at most `_PLAIN_DIGITS` digits; NaN and False for every other cell.

    numpy checks the form on the code points, then Python's `float` reads the plain cells: it
    rounds a decimal to the nearest float64 as `pd.to_numeric` does (the same on 2,000,000
    random decimals), in 1 ms per 25,000 cells, and is given no cell it would read otherwise
    (it also takes blanks, '1_0' or 'nan').
    """
    values = cells.to_numpy(dtype=object)
    lengths = _lengths(values)
    width = int(np.clip(lengths.max(initial=1), 1, _PLAIN_DIGITS + 1))
    codes = _code_points(values, width)
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
    numbers = np.full(len(values), np.nan)
    numbers[plain] = values[plain].astype(np.float64)
    return numbers, plain


def _parse_aht(
    cells: "pd.Series[str]", handled: IntArray
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

"""The two forms a commitment version arrives in, read into one JSON-shaped body.

A WFM suite exports CSV; a program sends JSON. Both become the same `{"label", "lines"}`
body, validated by the same schema and checked by the same rules, and every error found is put
back where the caller wrote it: `lines.3.volume` of a CSV is line 5 (the header is line 1),
column `volume`.

CSV layout (README, "Commitments by CSV"): a header naming the columns `period`, `volume` and,
optionally, `aht_seconds`, plus `activity` (an activity's id or name) for the contract-wide
form; one line per (activity, period). Commas or semicolons (a French spreadsheet's export)
separate the cells; an empty cell is an absent value.
"""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from app.contracts.service import Activity
from app.core.errors import FieldError, failed

ACTIVITY_COLUMN = "activity"
LINE_COLUMNS = ("period", "volume", "aht_seconds")
REQUIRED_COLUMNS = ("period", "volume")
_HEADER_ROW = 1
_LABEL_WITH_JSON = FieldError("query", "label", "only for a CSV body; JSON sends it in the body")


@dataclass(frozen=True)
class Received:
    """What the router read: a parsed JSON body or the CSV text, and the `label` query (which
    only a CSV body may have: JSON sends its label in the body)."""

    form: Literal["json", "csv"]
    body: Any = None
    text: str = ""
    label: str | None = None

    @classmethod
    def of(cls, version: BaseModel) -> "Received":
        """A version built in code (the demo, imports), received as its JSON would be."""
        return cls("json", body=version.model_dump(mode="json", exclude_none=True))


@dataclass(frozen=True)
class Submission:
    """The body to validate, the CSV's own errors (a line's cell count, an ambiguous activity
    name, already located), and the form, which decides where the other errors are reported."""

    body: Any
    form: Literal["json", "csv"]
    problems: list[FieldError] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)
    """The CSV line number of each of `body["lines"]`."""

    def locate(self, error: FieldError) -> FieldError:
        """`error` (found on the JSON-shaped body) where the caller wrote the value."""
        if self.form == "json":
            return error
        parts = error.field.split(".")
        if parts[0] == "lines" and len(parts) >= 3 and parts[1].isdigit():
            column = ACTIVITY_COLUMN if parts[2] == "activity_id" else ".".join(parts[2:])
            return FieldError("csv", column, error.reason, row=self.line_numbers[int(parts[1])])
        if error.field == "label":
            return FieldError("query", "label", error.reason)
        if error.field == "lines":
            return FieldError("csv", "file", "no line after the header", row=_HEADER_ROW + 1)
        return FieldError("csv", error.field, error.reason)


def read(received: Received, activities: Sequence[Activity] | None) -> Submission:
    """The submission of `received`; `activities` are the contract's for the contract-wide form
        (whose CSV names each line's activity) and None for one activity's form. Blank lines are
    skipped; errors still name the file's own line numbers."""
    if received.form == "json":
        problems = [] if received.label is None else [_LABEL_WITH_JSON]
        return Submission(received.body, "json", problems)
    return _read_csv(received.text, received.label, activities)


def _read_csv(text: str, label: str | None, activities: Sequence[Activity] | None) -> Submission:
    columns = (ACTIVITY_COLUMN, *LINE_COLUMNS) if activities is not None else LINE_COLUMNS
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = [(reader.line_num, cells) for cells in reader if any(cell.strip() for cell in cells)]
    body: dict[str, Any] = {"lines": []}
    if label is not None:
        body["label"] = label
    if not rows:
        raise failed([_header_error(columns, "the file is empty")])
    header = [name.strip().lower() for name in rows[0][1]]
    unknown = [name for name in header if name not in columns]
    missing = [
        name
        for name in (ACTIVITY_COLUMN, *REQUIRED_COLUMNS)
        if name in columns
        if name not in header
    ]
    if unknown or missing or len(set(header)) != len(header):
        reasons = [f"unknown column {name!r}" for name in unknown]
        reasons += [f"missing column {name!r}" for name in missing]
        if len(set(header)) != len(header):
            reasons.append("a column appears twice")
        raise failed([_header_error(columns, "; ".join(reasons))])  # nothing else is readable
    problems: list[FieldError] = []
    resolve = _activity_resolver(activities)
    for row, cells in rows[1:]:
        if len(cells) != len(header):
            problems.append(
                FieldError("csv", "line", f"{len(cells)} cells, the header has {len(header)}", row)
            )
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
        line = {name: value for name, value in values.items() if value and name in LINE_COLUMNS}
        if values.get(ACTIVITY_COLUMN):
            activity_id, error = resolve(values[ACTIVITY_COLUMN])
            line["activity_id"] = activity_id
            if error:
                problems.append(FieldError("csv", ACTIVITY_COLUMN, error, row))
        body["lines"].append(line)
    return Submission(body, "csv", problems, [row for row, _ in rows[1:]])


def _header_error(columns: Sequence[str], reason: str) -> FieldError:
    expected = ",".join(columns)
    return FieldError("csv", "header", f"{reason} (expected {expected})", row=_HEADER_ROW)


def _activity_resolver(activities: Sequence[Activity] | None) -> Any:
    """Read an `activity` cell as an id of the contract's activities or as a name (ignoring
    case), which a WFM export knows better than our ids."""
    ids = {activity.id for activity in activities or ()}
    by_name: dict[str, list[str]] = {}
    for activity in activities or ():
        by_name.setdefault(activity.name.strip().casefold(), []).append(activity.id)

    def resolve(value: str) -> tuple[str, str | None]:
        if value in ids:
            return value, None
        named = by_name.get(value.casefold(), [])
        if len(named) == 1:
            return named[0], None
        if len(named) > 1:
            return value, f"{len(named)} activities are named {value!r}: use the activity's id"
        return value, None  # unknown: the service names it, as for the JSON form

    return resolve

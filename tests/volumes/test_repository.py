"""The bulk upsert's own formatting writes what SQLAlchemy writes for the same instant."""

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from app.volumes import repository

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(
    st.lists(
        st.datetimes(min_value=datetime(1678, 1, 1), max_value=datetime(2261, 12, 31)),
        min_size=1,
        max_size=50,
    )
)
def test_sqlite_instants_are_sqlalchemys_text(instants: list[datetime]) -> None:
    """SQLAlchemy stores an aware instant on SQLite as its naive UTC `isoformat(" ")` to the
    microsecond (`UTCDateTime`), before 1970 too."""
    microseconds = [
        (instant.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1) for instant in instants
    ]
    starts_ns = np.array(microseconds, dtype=np.int64) * 1000
    expected = [instant.isoformat(" ", timespec="microseconds") for instant in instants]
    assert repository._sqlite_instants(starts_ns) == expected

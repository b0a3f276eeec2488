"""Ids are a prefix, ten Crockford digits of the millisecond clock and sixteen of randomness:
they sort by creation time across the C-encoded conversion."""

from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from app.core import ids

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def crockford(value: int, digits: int) -> str:
    """The digits one at a time, most significant first: the definition the ids follow."""
    return "".join(CROCKFORD[(value >> (5 * shift)) & 31] for shift in reversed(range(digits)))


@given(millis=st.integers(0, 2**50 - 1), random=st.integers(0, 2**80 - 1))
def test_an_id_is_the_clock_then_the_randomness_in_crockford_digits(
    millis: int, random: int
) -> None:
    with (
        mock.patch.object(ids.time, "time_ns", return_value=millis * 1_000_000),
        mock.patch.object(ids.secrets, "randbits", return_value=random),
    ):
        assert ids.new_id("inv") == f"inv_{crockford(millis, 10)}{crockford(random, 16)}"


def test_ids_of_later_milliseconds_sort_after() -> None:
    with mock.patch.object(ids.time, "time_ns", return_value=1_800_000_000_000 * 1_000_000):
        earlier = ids.new_id("ctr")
    with mock.patch.object(ids.time, "time_ns", return_value=1_800_000_000_001 * 1_000_000):
        later = ids.new_id("ctr")
    assert earlier < later

"""The risk estimates of many cases at once equal each case's alone (a portfolio computes
them together), and a case is the expectation the charter's rule gives."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.outlook import risk


def test_a_case_is_the_probability_below_trigger_and_the_mean_billed_units() -> None:
    """Totals 1 to 4, trigger 3, floor 3.5: two totals are below (1 and 2, billed 2.5 and
    1.5 up to the floor), so P = 0.5 and the expected billed units are 4 / 4 = 1."""
    [found] = risk.outlooks([([1.0, 2.0, 3.0, 4.0], Decimal(3), Decimal("3.5"))])
    assert found == risk.Outlook(0.5, Decimal("1.000"))


cases = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=4).flatmap(
            lambda size: st.lists(
                st.floats(min_value=0, max_value=2_000, allow_nan=False),
                min_size=size * 5,
                max_size=size * 5,
            )
        ),
        st.decimals(min_value=0, max_value=2_000, places=3),
        st.decimals(min_value=0, max_value=2_000, places=3),
    ),
    max_size=12,
)


@given(cases=cases)
def test_many_cases_at_once_equal_each_case_alone(
    cases: list[tuple[list[float], Decimal, Decimal]],
) -> None:
    together = risk.outlooks([(np.asarray(s), trigger, floor) for s, trigger, floor in cases])
    alone = [risk.outlooks([(np.asarray(s), t, f)])[0] for s, t, f in cases]
    assert together == alone


def test_a_case_without_samples_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        risk.outlooks([([], Decimal(1), Decimal(1))])

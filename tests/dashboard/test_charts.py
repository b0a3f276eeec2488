"""The portfolio's risk bar: as long as the probability of falling below the trigger, with a
sliver for a small risk and nothing filled for none."""

import re

from app.dashboard import charts


def _filled(svg: str) -> list[tuple[str, str]]:
    """(width, level) of each filled rectangle, the track left out."""
    return re.findall(
        r'<rect width="([\d.]+)" height="10" rx="2" class="risk-(low|medium|high)"', svg
    )


def test_no_risk_draws_the_track_alone() -> None:
    svg = str(charts.risk_bar(0.0))
    assert "risk-track" in svg
    assert _filled(svg) == []


def test_a_small_risk_keeps_a_visible_sliver() -> None:
    assert _filled(str(charts.risk_bar(0.001))) == [("1.5", "low")]


def test_the_bar_is_as_long_as_the_probability_and_coloured_by_level() -> None:
    assert _filled(str(charts.risk_bar(0.3))) == [("30.0", "medium")]
    assert _filled(str(charts.risk_bar(1.0))) == [("100.0", "high")]

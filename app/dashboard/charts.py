"""Charts drawn on the server as inline SVG: nothing to download, nothing to run in the
browser, and the page works with no internet access.

One chart shape serves every page: bars (actuals), a shaded band (the forecast's 80 %
interval), and lines (commitments, trigger, pace) over labelled slots (days, months,
intervals of the day)."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

from app.dashboard.formatting import number

WIDTH, HEIGHT = 1000, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 12, 12, 60
_LEGEND_ROW = 16


@dataclass(frozen=True)
class Line:
    label: str
    values: Sequence[float | None]
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    title: str
    slots: Sequence[str]
    bars: Sequence[float | None] = ()
    bar_label: str = ""
    band: Sequence[tuple[float, float] | None] = ()
    band_label: str = ""
    lines: Sequence[Line] = field(default_factory=list)


def _scale(chart: Chart) -> tuple[float, float]:
    """The top of the axis and the step between its ticks: a round step (1, 2 or 5 × 10^n)
    that gives four or five ticks above the largest value."""
    values = [v for v in chart.bars if v is not None]
    values += [b[1] for b in chart.band if b is not None]
    values += [v for line in chart.lines for v in line.values if v is not None]
    top = max(values, default=0.0)
    if top <= 0:
        return 1.0, 0.25
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * math.ceil(top / step), step


def render(chart: Chart) -> Markup:
    """The chart as an accessible inline SVG (its title is read out; a legend names each
    series; each bar says its slot and value when pointed at)."""
    count = max(len(chart.slots), 1)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / count
    top, tick_step = _scale(chart)

    def x(index: int) -> float:
        return _LEFT + step * (index + 0.5)

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(chart.title)}</title>",
    ]
    for tick in range(round(top / tick_step) + 1):
        value = tick_step * tick
        parts.append(
            f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'class="grid"/>'
            f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" class="tick" text-anchor="end">'
            f"{number(value)}</text>"
        )
    points = [(i, b) for i, b in enumerate(chart.band) if b is not None]
    if points:
        upper = " ".join(f"{x(i):.1f},{y(hi):.1f}" for i, (_, hi) in points)
        lower = " ".join(f"{x(i):.1f},{y(lo):.1f}" for i, (lo, _) in reversed(points))
        if len(points) == 1:
            i, (lo, hi) = points[0]
            parts.append(
                f'<rect x="{x(i) - step * 0.45:.1f}" y="{y(hi):.1f}" width="{step * 0.9:.1f}" '
                f'height="{max(y(lo) - y(hi), 1):.1f}" class="band"/>'
            )
        else:
            parts.append(f'<polygon points="{upper} {lower}" class="band"/>')
    bar_w = step * 0.6
    for i, bar in enumerate(chart.bars):
        if bar is not None:
            parts.append(
                f'<rect x="{x(i) - bar_w / 2:.1f}" y="{y(bar):.1f}" width="{bar_w:.1f}" '
                f'height="{max(y(0) - y(bar), 0):.1f}" class="bar">'
                f"<title>{escape(chart.slots[i])} : {number(bar)}</title></rect>"
            )
    for line in chart.lines:
        parts.append(_polyline(line, x, y, step * 0.4))
    label_every = max(1, count // 12)
    for i, slot in enumerate(chart.slots):
        if i % label_every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - _BOTTOM + 16}" class="tick" '
                f'text-anchor="middle">{escape(slot)}</text>'
            )
    parts.append(_legend(chart))
    parts.append("</svg>")
    return Markup("".join(parts))


def _polyline(
    line: Line, x: Callable[[int], float], y: Callable[[float], float], half_slot: float
) -> str:
    """The line's runs of values; a lone value (one month committed) is a level across its
    slot, like a target mark on the bar."""
    runs: list[list[str]] = [[]]
    for i, value in enumerate(line.values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append(f"{x(i):.1f},{y(value):.1f}")
    dash = ' stroke-dasharray="6 4"' if line.dashed else ""
    drawn = []
    for run in runs:
        if len(run) == 1:
            cx, cy = (float(part) for part in run[0].split(","))
            drawn.append(
                f'<line x1="{cx - half_slot:.1f}" x2="{cx + half_slot:.1f}" y1="{cy:.1f}" '
                f'y2="{cy:.1f}" stroke="{line.colour}" stroke-width="2.5"{dash}/>'
            )
        elif run:
            drawn.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{line.colour}" '
                f'stroke-width="2"{dash}/>'
            )
    return "".join(drawn)


def _legend(chart: Chart) -> str:
    """One entry per series that has data, wrapped onto a second row when needed."""
    entries: list[tuple[str, str]] = []
    if any(v is not None for v in chart.bars):
        entries.append(('<rect width="14" height="10" y="-9" class="bar"/>', chart.bar_label))
    if any(b is not None for b in chart.band):
        entries.append(('<rect width="14" height="10" y="-9" class="band"/>', chart.band_label))
    for line in chart.lines:
        if all(v is None for v in line.values):
            continue
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        entries.append(
            (
                f'<line x1="0" x2="14" y1="-4" y2="-4" stroke="{line.colour}" '
                f'stroke-width="2"{dash}/>',
                line.label,
            )
        )
    parts: list[str] = []
    offset, row = float(_LEFT), 0
    for swatch, label in entries:
        width = 30 + 6.5 * len(label)
        if offset + width > WIDTH and offset > _LEFT:
            offset, row = _LEFT, row + 1
        y = HEIGHT - _BOTTOM + 36 + row * _LEGEND_ROW
        parts.append(
            f'<g transform="translate({offset:.0f},{y})">{swatch}'
            f'<text x="18" y="0" class="legend">{escape(label)}</text></g>'
        )
        offset += width
    return "".join(parts)


def risk_bar(probability: float | None) -> Markup:
    """A bar as long as the probability of falling below the trigger, coloured by level."""
    if probability is None:
        return Markup('<svg class="risk" viewBox="0 0 100 10" aria-hidden="true"></svg>')
    track = '<rect width="100" height="10" rx="2" class="risk-track"/>'
    if probability == 0:
        # No simulated total below the trigger, or a closed month above it: the track alone
        # (the sliver kept for small risks would read as some risk).
        return Markup(f'<svg class="risk" viewBox="0 0 100 10" aria-hidden="true">{track}</svg>')
    level = "high" if probability >= 0.5 else "medium" if probability >= 0.2 else "low"
    width = max(probability * 100, 1.5)
    return Markup(
        f'<svg class="risk" viewBox="0 0 100 10" aria-hidden="true">{track}'
        f'<rect width="{width:.1f}" height="10" rx="2" class="risk-{level}"/></svg>'
    )

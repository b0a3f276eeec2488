"""Charts drawn on the server as inline SVG: nothing to download, nothing to run in the
browser, and the page works with no internet access.

One chart shape serves every page: bars (actuals), a shaded band (the forecast's 80 %
interval), and lines (commitments, trigger, pace) over labelled slots (days, months,
intervals of the day)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

from app.dashboard.formatting import number

WIDTH, HEIGHT = 760, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 12, 12, 52


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


def _ceiling(chart: Chart) -> float:
    values = [v for v in chart.bars if v is not None]
    values += [hi for b in chart.band if b is not None for hi in (b[1],)]
    values += [v for line in chart.lines for v in line.values if v is not None]
    top = max(values, default=0.0)
    return top * 1.1 if top > 0 else 1.0


def render(chart: Chart) -> Markup:
    """The chart as an accessible inline SVG (its title is read out; a legend names each
    series)."""
    count = max(len(chart.slots), 1)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / count
    top = _ceiling(chart)

    def x(index: int) -> float:
        return _LEFT + step * (index + 0.5)

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(chart.title)}</title>",
    ]
    for tick in range(5):
        value = top * tick / 4
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
                f'height="{max(y(0) - y(bar), 0):.1f}" class="bar"/>'
            )
    for line in chart.lines:
        parts.append(_polyline(line, x, y))
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


def _polyline(line: Line, x: Callable[[int], float], y: Callable[[float], float]) -> str:
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
            cx, cy = run[0].split(",")
            drawn.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{line.colour}"/>')
        elif run:
            drawn.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{line.colour}" '
                f'stroke-width="2"{dash}/>'
            )
    return "".join(drawn)


def _legend(chart: Chart) -> str:
    entries: list[tuple[str, str]] = []
    if chart.bars:
        entries.append(('<rect width="14" height="10" y="-9" class="bar"/>', chart.bar_label))
    if chart.band:
        entries.append(('<rect width="14" height="10" y="-9" class="band"/>', chart.band_label))
    for line in chart.lines:
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        entries.append(
            (
                f'<line x1="0" x2="14" y1="-4" y2="-4" stroke="{line.colour}" '
                f'stroke-width="2"{dash}/>',
                line.label,
            )
        )
    parts, offset = [], _LEFT
    for swatch, label in entries:
        parts.append(
            f'<g transform="translate({offset},{HEIGHT - 10})">{swatch}'
            f'<text x="18" y="0" class="legend">{escape(label)}</text></g>'
        )
        offset += 30 + 7 * len(label)
    return "".join(parts)


def risk_bar(probability: float | None) -> Markup:
    """A bar as long as the probability of falling below the trigger, coloured by level."""
    if probability is None:
        return Markup('<svg class="risk" viewBox="0 0 100 10" aria-hidden="true"></svg>')
    level = "high" if probability >= 0.5 else "medium" if probability >= 0.2 else "low"
    width = max(probability * 100, 1.5)
    return Markup(
        '<svg class="risk" viewBox="0 0 100 10" aria-hidden="true">'
        '<rect width="100" height="10" rx="2" class="risk-track"/>'
        f'<rect width="{width:.1f}" height="10" rx="2" class="risk-{level}"/></svg>'
    )

"""Server-rendered SVG charts: readable without JavaScript, styled by class (the CSP forbids inline styles).

Each chart is an ``<svg role="img">`` with a ``<title>`` (what screen readers
announce) and a ``<title>`` per data point (what a pointer shows). Values are
escaped; nothing here touches the database.
"""

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from html import escape

from django.utils.safestring import SafeString, mark_safe


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, title: str, body: str, css: str) -> SafeString:
    label = escape(title)
    return mark_safe(  # noqa: S308 - every value interpolated below is escaped or numeric
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}" focusable="false"><title>{label}</title>{body}</svg>'
    )


def _when(when) -> str:
    return f"{when:%Y-%m-%d %H:%M}" if isinstance(when, datetime) else f"{when:%Y-%m-%d}"


def _y(value: float, lo: float, hi: float, top: float, bottom: float) -> float:
    span = (hi - lo) or 1.0
    return bottom - (min(max(value, lo), hi) - lo) / span * (bottom - top)


def sparkline(
    values: Sequence[float | None],
    *,
    title: str,
    width: int = 120,
    height: int = 28,
    lo: float = 0,
    hi: float = 100,
) -> SafeString:
    """A small line of the last values; gaps (None) are skipped. An empty series draws a dashed baseline."""
    return _sparkline(tuple(values), title, width, height, lo, hi)


# The overview draws a sparkline per cluster on every visit, from daily scores that change once a
# scan finishes: the same few hundred series again and again. The drawing is a pure function.
@lru_cache(maxsize=4096)
def _sparkline(values: tuple, title: str, width: int, height: int, lo: float, hi: float) -> SafeString:
    points = [(index, value) for index, value in enumerate(values) if value is not None]
    pad = 3
    if not points:
        body = f'<line class="chart-empty" x1="0" y1="{height - pad}" x2="{width}" y2="{height - pad}"/>'
        return _svg(width, height, title, body, "spark")
    count = max(len(values) - 1, 1)
    coords = [
        (pad + index / count * (width - 2 * pad), _y(value, lo, hi, pad, height - pad))
        for index, value in points
    ]
    last_x, last_y = coords[-1]
    dot = f'<circle class="chart-dot" cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5"/>'
    if len(coords) == 1:
        # One day of data is a point where it happened, not a line across the whole period.
        return _svg(width, height, title, dot, "spark")
    line = " ".join("%.1f,%.1f" % point for point in coords)  # noqa: UP031 - the fastest form, 6,000 a page
    body = f'<polyline class="chart-line" points="{line}"/>{dot}'
    return _svg(width, height, title, body, "spark")


def line_chart(
    points: Sequence[tuple[datetime | date, float | None]],
    *,
    title: str,
    width: int = 960,
    height: int = 200,
    lo: float = 0,
    hi: float = 100,
    unit: str = "",
    point_label=None,
) -> SafeString:
    """Values over time with a 0/50/100 grid, dated ends and a hover title per point.

    ``point_label(when, value)`` words a point's title; by default "2026-11-20: 84.2".
    """
    left, right, top, bottom = 34, 10, 10, height - 24
    grid = []
    for tick in (lo, (lo + hi) / 2, hi):
        y = _fmt(_y(tick, lo, hi, top, bottom))
        grid.append(
            f'<line class="chart-grid" x1="{left}" y1="{y}" x2="{width - right}" y2="{y}"/>'
            f'<text class="chart-axis" x="{left - 6}" y="{y}" text-anchor="end" dominant-baseline="middle">'
            f"{_fmt(tick)}{escape(unit)}</text>"
        )
    valued = [(when, value) for when, value in points if value is not None]
    if not valued:
        body = "".join(grid) + (
            f'<text class="chart-axis" x="{width / 2}" y="{(top + bottom) / 2}" text-anchor="middle">'
            "No finished scans in this period</text>"
        )
        return _svg(width, height, title, body, "line")
    start, end = valued[0][0], valued[-1][0]
    span = (end - start).total_seconds() or 1.0

    def x_of(when: datetime) -> float:
        if len(valued) == 1:
            return (left + width - right) / 2
        return left + (when - start).total_seconds() / span * (width - right - left)

    coords = [(x_of(when), _y(value, lo, hi, top, bottom), when, value) for when, value in valued]
    line = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y, _w, _v in coords)
    label = point_label or (lambda when, value: f"{_when(when)}: {_fmt(value)}{unit}")
    # Dots only where they stay distinguishable; the line carries the rest.
    dots = "".join(
        f'<circle class="chart-dot" cx="{_fmt(x)}" cy="{_fmt(y)}" r="3">'
        f"<title>{escape(label(when, value))}</title></circle>"
        for x, y, when, value in coords
        if len(coords) <= 120
    )
    axis = (
        f'<text class="chart-axis" x="{left}" y="{height - 6}">{start:%Y-%m-%d}</text>'
        f'<text class="chart-axis" x="{width - right}" y="{height - 6}" text-anchor="end">'
        f"{end:%Y-%m-%d}</text>"
    )
    body = "".join(grid) + f'<polyline class="chart-line" points="{line}"/>' + dots + axis
    return _svg(width, height, title, body, "line")


def bar_chart(
    items: Sequence[tuple[str, float, str]],
    *,
    title: str,
    width: int = 360,
    bar_height: int = 18,
    unit: str = "",
) -> SafeString:
    """Horizontal bars: (label, value, css class) each, labelled on the left, the value on the right."""
    gap, label_width, value_width = 6, 110, 56
    height = max(len(items), 1) * (bar_height + gap)
    peak = max((value for _label, value, _css in items), default=0) or 1
    rows = []
    for index, (label, value, css) in enumerate(items):
        y = index * (bar_height + gap)
        length = (width - label_width - value_width) * value / peak
        middle = y + bar_height / 2
        rows.append(
            f'<text class="chart-label" x="{label_width - 8}" y="{_fmt(middle)}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(label)}</text>'
            f'<rect class="chart-bar {escape(css)}" x="{label_width}" y="{y}" width="{_fmt(max(length, 1))}" '
            f'height="{bar_height}" rx="2"><title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>'
            f'<text class="chart-value" x="{_fmt(label_width + length + 6)}" y="{_fmt(middle)}" '
            f'dominant-baseline="middle">{_fmt(value)}{escape(unit)}</text>'
        )
    if not items:
        rows.append(f'<text class="chart-axis" x="0" y="{bar_height - 4}">Nothing to show</text>')
    return _svg(width, height, title, "".join(rows), "bars")

"""Turnout over time as an inline SVG line chart: no script, no external file, prints as drawn."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from ops.demo.casting import TurnoutSample
from ops.demo.outcome import Event

WIDTH_PX: Final = 720
HEIGHT_PX: Final = 280
MARGIN_LEFT_PX: Final = 56
MARGIN_RIGHT_PX: Final = 16
MARGIN_TOP_PX: Final = 28
MARGIN_BOTTOM_PX: Final = 40
MAX_TICKS: Final = 8
NICE_STEPS: Final = (1, 2, 5)
EVENT_ROW_PX: Final = 14
"""Each event's label sits one row lower than the previous one so close events stay legible."""


def nice_step(span: float, max_ticks: int = MAX_TICKS) -> float:
    """The smallest 1/2/5 x 10^k step that covers `span` in at most `max_ticks` steps."""
    assert span > 0 and max_ticks >= 1, (span, max_ticks)
    magnitude = 1.0
    while magnitude * 10 < span / max_ticks:
        magnitude *= 10
    while magnitude > span / max_ticks:
        magnitude /= 10
    for factor in (*NICE_STEPS, 10):
        if span / (magnitude * factor) <= max_ticks:
            return magnitude * factor
    raise AssertionError("unreachable: factor 10 always fits")


def _ticks(top: float) -> list[float]:
    step = nice_step(top)
    count = int(top / step + 1e-9)
    return [step * k for k in range(count + 1)]


def _label(value: float) -> str:
    return f"{value:g}"


def turnout_svg(samples: Sequence[TurnoutSample], roll_size: int, events: Sequence[Event]) -> str:
    """Ballots recorded (y, 0..roll size) against seconds since casting began (x); events drawn as
    labelled dashed lines (e.g. the validator that was killed and restarted)."""
    assert roll_size >= 1, roll_size
    x_top = max([s.elapsed_s for s in samples] + [e.elapsed_s for e in events] + [1.0])
    plot_w = WIDTH_PX - MARGIN_LEFT_PX - MARGIN_RIGHT_PX
    plot_h = HEIGHT_PX - MARGIN_TOP_PX - MARGIN_BOTTOM_PX

    def x(seconds: float) -> float:
        return MARGIN_LEFT_PX + plot_w * seconds / x_top

    def y(ballots: float) -> float:
        return MARGIN_TOP_PX + plot_h * (1 - ballots / roll_size)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH_PX} {HEIGHT_PX}" '
        f'width="{WIDTH_PX}" height="{HEIGHT_PX}" role="img" aria-label="Turnout over time" '
        'font-family="sans-serif" font-size="11">'
    ]
    for value in _ticks(roll_size):
        parts.append(
            f'<line x1="{MARGIN_LEFT_PX}" x2="{WIDTH_PX - MARGIN_RIGHT_PX}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}" stroke="#e3e3e3"/>'
            f'<text x="{MARGIN_LEFT_PX - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{_label(value)}</text>'
        )
    for value in _ticks(x_top):
        parts.append(
            f'<text x="{x(value):.1f}" y="{HEIGHT_PX - MARGIN_BOTTOM_PX + 16}" '
            f'text-anchor="middle">{_label(value)}</text>'
        )
    parts.append(
        f'<line x1="{MARGIN_LEFT_PX}" x2="{WIDTH_PX - MARGIN_RIGHT_PX}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
        'stroke="#444"/>'
        f'<line x1="{MARGIN_LEFT_PX}" x2="{MARGIN_LEFT_PX}" y1="{MARGIN_TOP_PX}" y2="{y(0):.1f}" '
        'stroke="#444"/>'
        f'<text x="{MARGIN_LEFT_PX + plot_w / 2:.1f}" y="{HEIGHT_PX - 6}" text-anchor="middle">'
        "seconds since casting began</text>"
        f'<text x="{MARGIN_LEFT_PX}" y="{MARGIN_TOP_PX - 10}">ballots recorded (roll: {roll_size})</text>'
    )
    for row, event in enumerate(events):
        parts.append(
            f'<line x1="{x(event.elapsed_s):.1f}" x2="{x(event.elapsed_s):.1f}" y1="{MARGIN_TOP_PX}" '
            f'y2="{y(0):.1f}" stroke="#b4441c" stroke-dasharray="4 3"/>'
            f'<text x="{x(event.elapsed_s) + 4:.1f}" y="{MARGIN_TOP_PX + 12 + EVENT_ROW_PX * row}" '
            'fill="#b4441c">'
            f"{escape(event.text)}</text>"
        )
    if samples:
        points = " ".join(f"{x(s.elapsed_s):.1f},{y(s.ballots):.1f}" for s in samples)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)

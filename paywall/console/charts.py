"""Chart geometry for the dashboard's server-side SVG: plain numbers in, shapes out.

The templates (``console/_charts.html``) only draw what these return; every shape
carries its value as text (a ``<title>``) and every chart has a table of its numbers.
Coordinates are in a fixed view box that the page scales to its width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 360, 180
LEFT, RIGHT, TOP, BOTTOM = 34, 22, 12, 24  # room for the axis labels
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # which series: its colour
    label: str  # what it shows, as text


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A drawn chart: bars, or a line through ``points``; axis labels; the top value."""

    bars: tuple[Bar, ...] = ()
    points: tuple[tuple[float, float, str], ...] = ()
    x_ticks: tuple[Tick, ...] = ()
    y_ticks: tuple[Tick, ...] = ()

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


def nice_top(value: float) -> int:
    """A round number at or above ``value`` for the top of the axis (at least 1)."""
    if value <= 1:
        return 1
    step = 1
    while step * 10 <= value:
        step *= 10
    for multiple in (1, 2, 5, 10):
        if multiple * step >= value:
            return multiple * step
    return 10 * step  # pragma: no cover (the loop always answers)


def _y(value: float, top: int) -> float:
    return TOP + PLOT_HEIGHT * (1 - value / top)


def _y_ticks(top: int) -> tuple[Tick, ...]:
    return tuple(Tick(LEFT - 4, _y(v, top) + 4, _number(v)) for v in (0, top / 2, top))


def _number(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0")


def _x_ticks(labels: Sequence[str], centres: Sequence[float], every: int) -> tuple[Tick, ...]:
    last = len(labels) - 1
    return tuple(
        Tick(centres[i], HEIGHT - 6, labels[i])
        for i in range(len(labels))
        if i % every == last % every
    )


def grouped_bars(
    labels: Sequence[str], series: Sequence[Sequence[int]], names: Sequence[str]
) -> Chart:
    """Bars side by side for each label (e.g. new and churned per week)."""
    top = nice_top(max((v for values in series for v in values), default=0))
    slot = PLOT_WIDTH / max(len(labels), 1)
    width = slot * 0.8 / max(len(series), 1)
    bars = []
    for index, label in enumerate(labels):
        for which, values in enumerate(series):
            value = values[index]
            height = PLOT_HEIGHT * value / top
            bars.append(
                Bar(
                    x=LEFT + slot * index + slot * 0.1 + width * which,
                    y=TOP + PLOT_HEIGHT - height,
                    width=width,
                    height=height,
                    series=which,
                    label=f"{label}: {value} {names[which]}",
                )
            )
    centres = [LEFT + slot * (i + 0.5) for i in range(len(labels))]
    return Chart(
        bars=tuple(bars),
        x_ticks=_x_ticks(labels, centres, every=3),
        y_ticks=_y_ticks(top),
    )


def line(labels: Sequence[str], values: Sequence[float], value_text: Sequence[str]) -> Chart:
    """A line through one value per label (e.g. subscribers running at each week's end)."""
    top = nice_top(max(values, default=0))
    step = PLOT_WIDTH / max(len(values) - 1, 1)
    points = tuple(
        (LEFT + step * i, _y(v, top), f"{labels[i]}: {value_text[i]}") for i, v in enumerate(values)
    )
    return Chart(
        points=points,
        x_ticks=_x_ticks(labels, [x for x, _, _ in points], every=3),
        y_ticks=_y_ticks(top),
    )

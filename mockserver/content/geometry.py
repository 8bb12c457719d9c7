"""A report chart (``chartType``, ``title``, ``labels``, ``datasets``, ``ylabel``) as a placed
:class:`~mockserver.content.model.Chart`: its values read once, its axis and bars computed once.

The y axis runs from zero (or the lowest negative value, rounded down to a step) to a round
number above the largest value, with 8 % of headroom for the value labels over the bars; the
step is 1, 2, 2.5 or 5 times a power of ten, about five ticks. One group of bars per label, one
bar per dataset, the bars of a group 70 % of its width together and each at most a tenth of the
plot. Every position is a fraction of the plot, so the PNG and the SVG writers only scale it.
Malformed parts are skipped, never raised: a value that is not a finite number draws no bar.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from mockserver.content.model import Bar, Chart, Series, Tick, format_number, plain_text

__all__ = ["CHART_COLOURS", "build_chart", "chart_numbers", "nice_step"]

#: Bar colours, one per dataset, in order; readable on white.
CHART_COLOURS = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b")
_HEADROOM = 1.08
_GROUP_FILL = 0.7
_MAX_BAR = 0.1


def chart_numbers(values: object) -> list[float | None]:
    """A dataset's values as floats; anything not a finite number becomes ``None`` (no bar)."""
    if not isinstance(values, Sequence) or isinstance(values, str):
        return []
    return [
        float(v)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        else None
        for v in values
    ]


def nice_step(span: float, ticks: int = 5) -> float:
    """A round axis step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks;
    never below 1e-9, so a span of almost nothing still gets a drawable axis."""
    raw = max(span / ticks, 1e-9) if span > 0 else 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10.0 * magnitude


def _series(raw: object) -> list[Series]:
    if not isinstance(raw, list):
        return []
    datasets = [item for item in raw if isinstance(item, Mapping)]
    return [
        Series(
            plain_text(item.get("label")) or f"Series {number + 1}",
            CHART_COLOURS[number % len(CHART_COLOURS)],
            tuple(chart_numbers(item.get("data"))),
        )
        for number, item in enumerate(datasets)
    ]


def _ticks(values: Sequence[float]) -> tuple[float, float, list[Tick]]:
    """The axis (low, high) and its ticks for ``values``."""
    low, high = min(0.0, *values), max(0.0, *values)
    step = nice_step(high - low)
    low = math.floor(low / step) * step
    high = max(math.ceil(high * _HEADROOM / step) * step, low + step)
    decimals = max(0, 1 - math.floor(math.log10(step)))  # 2.5 -> 1, 0.25 -> 3: sums stay exact
    ticks = []
    for number in range(round((high - low) / step) + 1):
        value = round(low + number * step, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
        ticks.append(Tick(value, format_number(value), (value - low) / (high - low)))
    return low, high, ticks


def build_chart(raw: Mapping[str, object]) -> Chart:
    """``raw`` (one entry of a section's ``data.charts``) as a chart with its geometry."""
    raw_labels = raw.get("labels")
    labels = [plain_text(label) for label in raw_labels] if isinstance(raw_labels, list) else []
    series = _series(raw.get("datasets"))
    count = max([len(labels), *(len(s.values) for s in series)], default=0)
    labels += [""] * (count - len(labels))
    series = [
        Series(s.label, s.colour, s.values + (None,) * (count - len(s.values))) for s in series
    ]
    title = plain_text(raw.get("title")) or plain_text(raw.get("chartType")) or "Chart"
    values = [v for s in series for v in s.values if v is not None]
    chart = Chart(
        kind=plain_text(raw.get("chartType")),
        title=title,
        ylabel=plain_text(raw.get("ylabel")),
        labels=tuple(labels),
        series=tuple(series),
        ticks=(),
        zero=0.0,
        bars=(),
    )
    if not values:
        return chart
    low, high, ticks = _ticks(values)

    def height(value: float) -> float:
        return (value - low) / (high - low)

    group = 1 / count
    width = min(_MAX_BAR, group * _GROUP_FILL / len(series))
    bars = []
    for position in range(count):
        first = chart.group_centre(position) - width * len(series) / 2
        for number, one in enumerate(series):
            value = one.values[position]
            if value is not None:
                left = first + number * width
                bars.append(
                    Bar(
                        number,
                        position,
                        value,
                        format_number(value),
                        left,
                        left + width,
                        height(0.0),
                        height(value),
                    )
                )
    return Chart(
        chart.kind,
        chart.title,
        chart.ylabel,
        chart.labels,
        chart.series,
        tuple(ticks),
        height(0.0),
        tuple(bars),
    )

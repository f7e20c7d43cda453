"""Bar charts drawn on the server as SVG: no script, nothing fetched from elsewhere, so the
content security policy stays as it is. Every chart has its figures as a table beside it
(the GOV.UK "show the data as a table" pattern), which is what screen readers are given."""

from dataclasses import dataclass

WIDTH = 640
HEIGHT = 240
LEFT = 48  # room for the value axis labels
BOTTOM = 40  # room for the period labels
TOP = 16
GAP = 0.25  # share of each slot left empty between bars


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    short_label: str
    value: int
    label_x: float


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class BarChart:
    """One series of counts over periods, laid out for templates/registry/dashboard/_chart.html."""

    chart_id: str
    title: str
    description: str
    value_heading: str
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM

    @property
    def rows(self) -> list[tuple[str, int]]:
        return [(bar.label, bar.value) for bar in self.bars]


def _nice_top(largest: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `largest` (at least 4)."""
    top = max(largest, 4)
    step = 1
    while True:
        for multiple in (1, 2, 5):
            if step * multiple >= top:
                return step * multiple
        step *= 10


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    value_heading: str,
    labels: list[str],
    short_labels: list[str],
    values: list[int],
) -> BarChart:
    """Lay out one bar per period; `short_labels` go under the bars, `labels` in the table."""
    top = _nice_top(max(values, default=0))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(values), 1)
    bars = []
    for index, (label, short_label, value) in enumerate(zip(labels, short_labels, values, strict=True)):
        height = plot_height * value / top
        x = LEFT + slot * index + slot * GAP / 2
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(HEIGHT - BOTTOM - height, 1),
                width=round(slot * (1 - GAP), 1),
                height=round(height, 1),
                label=label,
                short_label=short_label,
                value=value,
                label_x=round(x + slot * (1 - GAP) / 2, 1),
            )
        )
    ticks = [
        Tick(y=round(HEIGHT - BOTTOM - plot_height * fraction, 1), value=round(top * fraction))
        for fraction in (0, 0.5, 1)
    ]
    return BarChart(
        chart_id=chart_id, title=title, description=description, value_heading=value_heading, bars=bars, ticks=ticks
    )

"""Bar charts of a view, drawn by plotext (through textual-plotext) in the panel's widget."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from tui.admin.views import Chart

MAX_BARS = 14
MAX_LABEL = 26
SELECTED_MARK = "\N{BLACK RIGHT-POINTING TRIANGLE} "


def chart_labels(chart: Chart, selected: int | None) -> list[str]:
    """Bar labels; the selected bar's is marked by a triangle (not by colour alone), a suppressed
    one says so."""
    labels = []
    for index, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True)):
        if len(label) > MAX_LABEL:
            label = label[: MAX_LABEL - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"
        text = label if value is not None else f"{label} (suppressed)"
        labels.append(f"{SELECTED_MARK}{text}" if index == selected else text)
    return labels


def window(count: int, selected: int | None) -> range:
    """The bars shown: all of them, or :data:`MAX_BARS` around the selected one."""
    if count <= MAX_BARS:
        return range(count)
    start = 0 if selected is None else max(0, min(selected - MAX_BARS // 2, count - MAX_BARS))
    return range(start, start + MAX_BARS)


def draw(widget: PlotextPlot, chart: Chart | None, selected: int | None) -> None:
    """Replace the widget's plot with ``chart`` (or an empty frame saying there is none)."""
    plot = widget.plt
    plot.clear_data()
    plot.clear_figure()
    if chart is None:
        plot.title("No numbers to chart here: t shows the table")
        widget.refresh()
        return
    shown = window(len(chart.values), selected)
    labels = chart_labels(chart, selected)
    bar_labels = [labels[index] for index in shown]
    bar_values = [chart.values[index] or 0.0 for index in shown]
    title = chart.title
    if len(shown) < len(chart.values):
        title = f"{title} ({shown.start + 1}-{shown.stop} of {len(chart.values)})"
    if chart.horizontal:
        plot.bar(
            list(reversed(bar_labels)),
            list(reversed(bar_values)),
            orientation="horizontal",
            width=0.8,
        )
    else:
        plot.bar(bar_labels, bar_values, width=0.8)
    top = max(bar_values, default=0.0)
    if top <= 0:
        (plot.xlim if chart.horizontal else plot.ylim)(0, 1)
    plot.title(title)
    widget.refresh()

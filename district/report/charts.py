"""SVG bar charts for the HTML report, drawn by pygal with no script and no external reference
(the file must open with no network, and runs nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pygal
from pygal.style import Style

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222222",
    foreground_strong="#000000",
    foreground_subtle="#666666",
    colors=("#1f5f99",),
    font_family="Helvetica, Arial, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    value_font_size=10,
    title_font_size=13,
    tooltip_font_size=11,
)
MAX_BARS = 31
WIDTH = 720
BAR_HEIGHT = 22


def _without_scripts(root: Any) -> Any:
    """pygal writes its config (labels included) into a ``<script>``: the report runs no script,
    so every script element is dropped before the SVG is serialized."""
    for parent in list(root.iter()):
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def bar_chart_svg(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    horizontal: bool,
    value_name: str,
) -> str:
    """An inline ``<svg>`` of one bar per label; a missing (suppressed) value draws no bar and
    its label says "suppressed"."""
    labels = list(labels)[:MAX_BARS]
    values = list(values)[:MAX_BARS]
    shown = [
        label if value is not None else f"{label} (suppressed)"
        for label, value in zip(labels, values, strict=True)
    ]
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    height = max(220, 60 + BAR_HEIGHT * len(shown)) if horizontal else 300
    chart = kind(
        js=[],
        disable_xml_declaration=True,
        width=WIDTH,
        height=height,
        style=STYLE,
        show_legend=False,
        print_values=True,
        print_values_position="top",
        title=title,
        x_label_rotation=0 if horizontal or len(shown) <= 6 else 35,
        truncate_label=40,
        margin=8,
        spacing=6,
        dynamic_print_values=False,
        value_formatter=_number_text,
    )
    chart.add_xml_filter(_without_scripts)
    chart.x_labels = list(reversed(shown)) if horizontal else shown
    points = [value if value is not None else None for value in values]
    chart.add(value_name, list(reversed(points)) if horizontal else points)
    svg: str = chart.render(is_unicode=True)
    return svg


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2f}"

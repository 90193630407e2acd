"""Plotly figures as plain dicts (validated against plotly.py in the tests), drawn by static/js/charts.js."""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence

COLOURS = ("#1b6e53", "#3d8cb8", "#e0a526", "#c2553d", "#7a5aa6", "#5b6770", "#2a9d8f")
FONT = {"family": "IPAGothic, 'Noto Sans JP', 'Hiragino Sans', Meiryo, sans-serif", "size": 13}


def _layout(x_title: str, height: int) -> dict:
    return {
        "height": height,
        "margin": {"l": 8, "r": 16, "t": 8, "b": 40},
        "xaxis": {"title": {"text": x_title}, "rangemode": "tozero", "fixedrange": True},
        "yaxis": {"automargin": True, "fixedrange": True, "autorange": "reversed"},
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
    }


def _kg(grams: int) -> float:
    # Plotly wants JSON numbers; these are display values only, never money or stored figures.
    return float(Decimal(grams) / 1000)


def breakdown_figure(labels: Sequence[str], grams: Sequence[int], x_title: str) -> dict:
    """Horizontal bars: kg-CO2 a year per source."""
    return {
        "data": [{
            "type": "bar", "orientation": "h", "y": list(labels), "x": [_kg(g) for g in grams],
            "marker": {"color": [COLOURS[i % len(COLOURS)] for i in range(len(labels))]},
            "hovertemplate": "%{y}: %{x:,.0f} kg<extra></extra>",
        }],
        "layout": _layout(x_title, 60 + 36 * max(len(labels), 1)),
    }


def comparison_figure(categories: Sequence[str], yours: Sequence[int], averages: Sequence[int],
                      yours_label: str, average_label: str, x_title: str) -> dict:
    """Grouped horizontal bars: your household next to the national average, per category."""
    layout = _layout(x_title, 80 + 70 * max(len(categories), 1))
    layout["barmode"] = "group"
    layout["showlegend"] = True
    layout["legend"] = {"orientation": "h", "y": -0.25}
    layout["margin"]["b"] = 70
    return {
        "data": [
            {"type": "bar", "orientation": "h", "name": yours_label, "y": list(categories),
             "x": [_kg(g) for g in yours], "marker": {"color": COLOURS[0]},
             "hovertemplate": "%{y}: %{x:,.0f} kg<extra>" + yours_label + "</extra>"},
            {"type": "bar", "orientation": "h", "name": average_label, "y": list(categories),
             "x": [_kg(g) for g in averages], "marker": {"color": "#9aa5ad"},
             "hovertemplate": "%{y}: %{x:,.0f} kg<extra>" + average_label + "</extra>"},
        ],
        "layout": layout,
    }

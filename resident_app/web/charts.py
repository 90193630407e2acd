"""Plotly figures as plain dicts (validated against plotly.py in the tests), drawn by static/js/charts.js."""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence

COLOURS = ("#1b6e53", "#3d8cb8", "#e0a526", "#c2553d", "#7a5aa6", "#5b6770", "#2a9d8f")
# IPAPGothic is the proportional face; IPAGothic is monospaced and makes Latin text look typed.
FONT = {"family": "IPAPGothic, 'Noto Sans JP', 'Hiragino Sans', Meiryo, sans-serif", "size": 13}


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
    # Legend above the plot, so it never sits on the axis title on a narrow phone.
    layout["legend"] = {"orientation": "h", "x": 0, "y": 1.02, "xanchor": "left", "yanchor": "bottom"}
    layout["margin"]["t"] = 36
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


def daily_figure(days: Sequence[str], yen: Sequence[int], units: Sequence[int], yen_label: str,
                 units_label: str) -> dict:
    """Yen paid per day as bars, units as a line on a second axis; days are ISO dates (Asia/Tokyo)."""
    units_axis = {"title": {"text": units_label}, "overlaying": "y", "side": "right", "rangemode": "tozero",
                  "automargin": True, "fixedrange": True, "showgrid": False, "tickformat": ",d"}
    if max(units, default=0) <= 10:
        units_axis["dtick"] = 1  # whole units only: no "1.5 tickets" on a quiet add-on
    return {
        "data": [
            {"type": "bar", "name": yen_label, "x": list(days), "y": list(yen), "yaxis": "y",
             "marker": {"color": COLOURS[0]}, "hovertemplate": "%{x}: %{y:,}<extra>" + yen_label + "</extra>"},
            {"type": "scatter", "mode": "lines+markers", "name": units_label, "x": list(days),
             "y": list(units), "yaxis": "y2", "line": {"color": COLOURS[2]},
             "hovertemplate": "%{x}: %{y:,}<extra>" + units_label + "</extra>"},
        ],
        "layout": {
            "height": 320,
            "margin": {"l": 8, "r": 8, "t": 8, "b": 40},
            "xaxis": {"type": "date", "fixedrange": True, "tickformat": "%Y-%m-%d"},
            "yaxis": {"title": {"text": yen_label}, "rangemode": "tozero", "automargin": True,
                      "fixedrange": True, "tickformat": ",d"},
            "yaxis2": units_axis,
            "font": FONT,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "showlegend": True,
            "legend": {"orientation": "h", "y": -0.2},
            "bargap": 0.3,
        },
    }

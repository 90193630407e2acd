"""Plotly figures for the staff dashboard, as plain dicts (drawn by static/js/charts.js)."""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from ..web.charts import COLOURS, FONT


def _kg(grams: int) -> float:
    # Plotly wants JSON numbers; shown on hover only, never stored or summed.
    return float(Decimal(grams) / 1000)


def totals_bar_figure(labels: Sequence[str], yen: Sequence[int], grams: Sequence[int], *, yen_title: str,
                      kg_label: str, horizontal: bool = False) -> dict:
    """Yen paid per group as bars; kg-CO2 on hover. Months read left to right (vertical bars);
    add-ons, kinds and organisers top to bottom, largest first (horizontal bars)."""
    hover_value = "%{x:,}" if horizontal else "%{y:,}"
    hover_label = "%{y}" if horizontal else "%{x}"
    trace = {
        "type": "bar", "orientation": "h" if horizontal else "v",
        "x": list(yen) if horizontal else list(labels), "y": list(labels) if horizontal else list(yen),
        "customdata": [_kg(g) for g in grams],
        "marker": {"color": COLOURS[0]},
        "hovertemplate": f"{hover_label}: {hover_value} ({yen_title})<br>%{{customdata:,.1f}} {kg_label}<extra></extra>",
    }
    value_axis = {"title": {"text": yen_title}, "rangemode": "tozero", "automargin": True, "fixedrange": True,
                  "tickformat": ",d"}
    label_axis = {"type": "category", "automargin": True, "fixedrange": True}
    if horizontal:
        label_axis["autorange"] = "reversed"
    return {
        "data": [trace],
        "layout": {
            "height": 80 + 34 * max(len(labels), 1) if horizontal else 320,
            "margin": {"l": 8, "r": 16, "t": 8, "b": 40},
            "xaxis": value_axis if horizontal else label_axis,
            "yaxis": label_axis if horizontal else value_axis,
            "font": FONT,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "showlegend": False,
            "bargap": 0.3,
        },
    }

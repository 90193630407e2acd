"""The public transparency report (情報公開) at /transparency, with its open data as
/transparency.csv and /transparency.json, and the pool ledger itself as /transparency/ledger.csv
and /transparency/ledger.json (streamed: it grows with every payment).

It follows the disclosure items of the Ministry of the Environment's guideline on information for
carbon offset claims: what was offset and how it was calculated, which credits and how many,
when they were invalidated, and the evidence, so anyone can check the money in against the
tonnes out."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, current_app, jsonify, render_template, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .services.open_ledger import ledger_head, ledger_json_chunks, ledger_rows
from .services.transparency import TransparencyReport, last_change, report_json, report_rows, transparency_report
from .web.charts import COLOURS, FONT
from .web.csv_export import csv_response
from .web.openapi import COUNT, DATETIME, INTEGER, TEXT, array, obj, ok, operation

bp = Blueprint("transparency", __name__)

REPORT = obj({
    "generated_at": DATETIME,
    "ledger": obj({"head": COUNT, "entries": COUNT, "csv": TEXT, "json": TEXT}),
    "units": obj({"money": TEXT, "co2": TEXT, "credits": TEXT}),
    "pool": {"type": "object"}, "retired_contributions_g": COUNT, "awaiting_g": COUNT, "credits_spent_yen": COUNT,
    "months": array(obj({"month": TEXT, "contributions": COUNT, "paid_yen": COUNT, "co2_g": COUNT,
                         "invalidated_t": COUNT})),
    "programmes": array(obj({"programme": TEXT, "contributions": COUNT, "paid_yen": COUNT, "co2_g": COUNT})),
    "batches": array({"type": "object", "required": ["number", "invalidations"]}),
    "rates": array(obj({"effective_from": DATETIME, "yen_per_t": INTEGER, "reason": TEXT})),
})

LEDGER = obj({"head": COUNT, "units": {"type": "object", "additionalProperties": TEXT},
              "columns": array(TEXT),
              "entries": array({"type": "object",
                                "additionalProperties": {"type": ["string", "integer", "null"]}})})

PROGRAMME_LABELS = {
    "community_bus": _l("Community bus"),
    "events": _l("Events"),
    "households": _l("Households"),
    "other": _l("Other"),
}


def notice_url(invalidation_id: int) -> str | None:
    """The public link to an invalidation's registry notice, while the evidence route exists."""
    if "evidence.notice" not in current_app.view_functions:
        return None
    return url_for("evidence.notice", invalidation_id=invalidation_id, _external=True)


def ledger_urls() -> dict[str, str]:
    """Where the ledger behind the report's figures can be downloaded."""
    return {"csv": url_for("transparency.ledger_csv", _external=True),
            "json": url_for("transparency.ledger_json", _external=True)}


def _tonnes(grams: int) -> float:
    # A chart's display value only: the data table and the open data keep integer grams.
    return float(Decimal(grams) / 1_000_000)


def monthly_figure(report: TransparencyReport, pooled_label: str, invalidated_label: str, y_title: str) -> dict:
    """Bars per month: t-CO2 paid into the pool, and t-CO2 of credits invalidated."""
    months = [m.month for m in report.months]
    return {
        "data": [
            {"type": "bar", "name": pooled_label, "x": months, "y": [_tonnes(m.co2_g) for m in report.months],
             "marker": {"color": COLOURS[0]}, "hovertemplate": "%{x}: %{y:,.3f} t<extra>" + pooled_label + "</extra>"},
            {"type": "bar", "name": invalidated_label, "x": months, "y": [m.invalidated_t for m in report.months],
             "marker": {"color": COLOURS[1]},
             "hovertemplate": "%{x}: %{y:,} t<extra>" + invalidated_label + "</extra>"},
        ],
        "layout": {
            "height": 320, "barmode": "group", "bargap": 0.25,
            "margin": {"l": 8, "r": 8, "t": 8, "b": 40},
            "xaxis": {"type": "category", "fixedrange": True},
            "yaxis": {"title": {"text": y_title}, "rangemode": "tozero", "automargin": True, "fixedrange": True},
            "font": FONT, "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
            "showlegend": True, "legend": {"orientation": "h", "x": 0, "y": -0.2},
        },
    }


@bp.get("/transparency")
def index():
    """Money in, CO2 pooled, tonnes invalidated, the balance carried, every confirmed batch."""
    report = transparency_report()
    figure = monthly_figure(report, _("CO2 paid for (t)"), _("Credits invalidated (t)"), _("t-CO2"))
    return render_template("transparency/index.html", report=report, figures=report.figures, fig=figure,
                           programme_labels=PROGRAMME_LABELS, notice_url=notice_url, updated=last_change())


@bp.get("/transparency.json")
@operation("The transparency report as open data", tags=("open data",), responses={
    200: ok("Money in, CO2 pooled, every confirmed batch with its credits and the rate history", REPORT)})
def data_json():
    """The same figures as the page, enough to rebuild it."""
    response = jsonify(report_json(transparency_report(), notice_url, ledger_urls))
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


@bp.get("/transparency.csv")
def data_csv():
    """The same figures as long rows (section, key, field, value), UTF-8 with BOM."""
    response = csv_response(report_rows(transparency_report(), notice_url, ledger_urls), "transparency.csv")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/transparency/ledger.csv")
def ledger_csv():
    """Every ledger entry's public columns, oldest first, streamed (UTF-8 with BOM)."""
    response = csv_response(ledger_rows(ledger_head()), "pool-ledger.csv")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/transparency/ledger.json")
@operation("The pool ledger as open data, every entry up to the head", tags=("open data",), responses={
    200: ok("The head, the units, the column names and one object per entry, oldest first", LEDGER)})
def ledger_json():
    """The same entries as JSON, streamed."""
    response = Response(stream_with_context(ledger_json_chunks(ledger_head())), mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response

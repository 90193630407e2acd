"""The staff dashboard: the pool's figures, totals by month, add-on, kind and organiser, what
awaits the next batch, and contributions flagged for review."""
from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton
from flask import render_template
from flask_babel import gettext as _

from ..public.labels import addon_kind_label
from ..services.pool import awaiting_figures, dashboard_totals
from ..web.i18n import locale_code
from ..web.labels import organiser_name
from . import bp
from .charts import totals_bar_figure
from .queries import flagged_contributions, open_batch_count

bp.add_app_template_global(organiser_name)

CHART_ROWS = 15  # the tables list every row; the charts show the largest


def month_label(month: str) -> str:
    """"2026-12" as 2026年12月 or Dec 2026."""
    year, _sep, number = month.partition("-")
    try:
        return format_skeleton("yMMM", date(int(year), int(number), 1), locale=locale_code())
    except ValueError:
        return month


@bp.get("/")
def dashboard():
    """Paid, pooled, retired and carried; the totals as charts with their tables; the queue."""
    totals = dashboard_totals()
    months, addons, kinds, organisers = totals.months, totals.addons, totals.kinds, totals.organisers
    yen_title, kg_label = _("Yen paid"), _("kg-CO2")

    def figure(labels, rows, horizontal=True):
        rows = list(rows)[:CHART_ROWS] if horizontal else list(rows)
        return totals_bar_figure(list(labels)[:len(rows)], [r.paid_yen for r in rows], [r.co2_g for r in rows],
                                 yen_title=yen_title, kg_label=kg_label, horizontal=horizontal)

    locale = locale_code()
    charts = {
        "month": figure([month_label(m.month) for m in months], months, horizontal=False),
        "addon": figure([(a.title_en if locale != "ja" and a.title_en else a.title_ja) for a in addons], addons),
        "kind": figure([addon_kind_label(k.kind) for k in kinds], kinds),
        "organiser": figure([organiser_name(o.owner_id, o.organisation) for o in organisers], organisers),
    }
    flagged, flagged_total = flagged_contributions()
    return render_template("staff/dashboard.html", figures=totals.figures, awaiting=awaiting_figures(),
                           open_batches=open_batch_count(), months=months, addons=addons, kinds=kinds,
                           organisers=organisers, charts=charts, month_label=month_label,
                           flagged=flagged, flagged_total=flagged_total)

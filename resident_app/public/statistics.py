"""Municipal statistics (public): results residents added anonymously, by municipality and size."""
from __future__ import annotations

from flask import render_template

from ..carbon.municipalities import AREAS
from ..carbon.statistics import MIN_RESULTS
from ..services.municipal_stats import SIZES, municipality_stats
from . import bp
from .labels import AREA_LABELS


@bp.get("/statistics/municipalities")
def municipal_statistics():
    """Per municipality: how many results, and the median and quartiles by household size where
    at least MIN_RESULTS exist. Nothing about any one result is shown."""
    stats = municipality_stats()
    groups = [(AREA_LABELS[area], [s for s in stats if s.place.area == area]) for area in AREAS]
    return render_template("public/municipal_statistics.html", groups=groups, sizes=SIZES,
                           minimum=MIN_RESULTS, total=sum(s.count for s in stats))

"""GET /api/v1/pool: the pool's running totals, open data."""
from flask import jsonify

from ..services.pool import pool_figures
from . import bp


@bp.get("/pool")
def pool():
    """Counts paid contributions only; retirement figures come from recorded invalidations."""
    return jsonify(pool_figures().as_json())

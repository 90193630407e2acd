"""GET /api/v1/pool: the pool's running totals, open data."""
from flask import jsonify

from ..services.pool import pool_figures
from ..web.openapi import COUNT, obj, ok, operation
from . import bp

POOL = obj({"contributions": COUNT, "paid_yen": COUNT, "co2_g": COUNT, "retired_t": COUNT,
            "balance_g": {"type": "integer"}, "rate_yen_per_t": COUNT})


@bp.get("/pool")
@operation("The pool's running totals", tags=("open data",), responses={
    200: ok("Paid contributions, grams pooled, tonnes retired, the balance carried and the rate", POOL)})
def pool():
    """Counts paid contributions only; retirement figures come from recorded invalidations."""
    return jsonify(pool_figures().as_json())

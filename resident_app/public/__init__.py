"""Pages for residents and the public."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import calculator, events, pages, site_files, statistics  # noqa: E402,F401  (routes register on import)

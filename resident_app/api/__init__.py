"""The public JSON API, version 1: open data and embedding."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import addons, events, footprint, openapi, pool  # noqa: E402,F401

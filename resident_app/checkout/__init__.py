"""Residents paying an offset add-on: landing page, Stripe Checkout, thanks, certificate."""
from flask import Blueprint

bp = Blueprint("checkout", __name__)

from . import views  # noqa: E402,F401

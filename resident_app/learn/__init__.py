"""Learn (学ぶ): short guides rendered from Markdown, one file per page per language."""
from flask import Blueprint

bp = Blueprint("learn", __name__)

from . import views  # noqa: E402,F401  (routes register on import)

"""Imports every staff route module so their routes register on the blueprint."""
from . import dashboard, batches, offline, files, reviews  # noqa: F401
from . import audit, exports, settings, users  # noqa: F401
from . import calculator_settings  # noqa: F401

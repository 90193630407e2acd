"""Translatable names for sources, units and input errors, shared by pages and the API."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..carbon.sources import InputError
from ..web.i18n import number
from ..web.labels import ADDON_KIND_LABELS, addon_kind_label  # noqa: F401  (pages import them from here)

SOURCE_LABELS = {
    "electricity": _l("Electricity"),
    "city_gas": _l("City gas"),
    "lpg": _l("LPG"),
    "kerosene": _l("Kerosene"),
    "gasoline": _l("Gasoline"),
    "diesel": _l("Diesel"),
    "water": _l("Tap water"),
}
UNIT_LABELS = {"kWh": "kWh", "m3": "m³", "L": "L", "yen": _l("yen")}


def unit_label(unit: str) -> str:
    return str(UNIT_LABELS.get(unit, unit))


def error_message(error: InputError) -> str:
    """A message for one field's InputError, in the page's language."""
    if error.code == "negative":
        return _("Enter 0 or more; a negative amount is not possible.")
    if error.code == "too_large":
        return _("This is more than a household could use (at most %(limit)s %(unit)s). "
                 "Please check the figure.",
                 limit=number(int(error.params["limit"])), unit=unit_label(str(error.params["unit"])))
    if error.code == "invalid_period":
        return _("Choose a month or a year.")
    if error.code == "invalid_household_size":
        return _("Enter the number of people as a whole number, 1 or more.")
    return _("Enter a number, for example 320 or 12.5.")

"""Translatable names for sources, units and input errors, shared by pages and the API."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..carbon.sources import InputError
from ..web.i18n import number, yen
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
END_USE_LABELS = {
    "heating": _l("Heating"),
    "cooling": _l("Cooling"),
    "hot_water": _l("Hot water and bath"),
    "kitchen": _l("Kitchen"),
    "fridge": _l("Fridge"),
    "lighting": _l("Lighting"),
    "tv": _l("Television"),
    "toilet_seat": _l("Heated toilet seat"),
    "laundry": _l("Laundry"),
    "car": _l("Car"),
    "electricity_supply": _l("Where your electricity comes from"),
    "other": _l("Other appliances"),
}
FUEL_LABELS = {**SOURCE_LABELS, "car_fuel": _l("Car fuel (gasoline and diesel)")}
ARCHETYPE_LABELS = {
    "gas_ac": _l("Gas for hot water, air conditioner for heating"),
    "gas_kerosene": _l("Gas for hot water, kerosene for heating"),
    "electric_ac": _l("All electric (heat-pump water heater), air conditioner for heating"),
    "electric_kerosene": _l("Electric hot water, kerosene for heating"),
}
# How each action's saving is worked out, for residents; the figures come from the parameters.
ACTION_MODELS = {
    "heating_setpoint": _l("%(rate_per_degc)s of your heating energy (every fuel) for each degree lower."),
    "heating_hours": _l("%(rate)s of your heating energy: the energy agency's one-hour case against its one-degree "
                        "case for the same air conditioner."),
    "ac_filter": _l("%(heating_rate)s of the air conditioner's heating electricity and %(cooling_rate)s of its "
                    "cooling electricity."),
    "cooling_setpoint": _l("%(rate_per_degc)s of your cooling electricity for each degree higher."),
    "cooling_hours": _l("%(rate)s of your cooling electricity, from the energy agency's one-hour case."),
    "fridge_setting": _l("%(rate)s of your fridge's electricity."),
    "fridge_wall": _l("%(rate)s of your fridge's electricity."),
    "led_living": _l("A %(lamp_w)s W fluorescent ceiling light used %(hours_per_day)s hours a day replaced by an LED "
                     "light giving the same light with half the power; never more than half of your lighting."),
    "tv_hour": _l("One hour out of %(hours_per_day)s hours of viewing a day."),
    "tv_brightness": _l("%(rate)s of your television's electricity."),
    "toilet_lid": _l("%(rate)s of the heated seat's electricity."),
    "toilet_temp": _l("%(rate)s of the heated seat's electricity."),
    "shower_1min": _l("Each person, one minute a day at %(flow_l_per_min)s litres a minute, heated from "
                      "%(cold_c)s °C to %(hot_c)s °C by your water heater; the water saved counts if you entered "
                      "tap water."),
    "bath_no_reheat": _l("A %(tub_l)s litre bath cooling %(drop_c_per_h)s °C an hour for %(gap_h)s hours, reheated "
                         "as needed; households of two or more."),
    "laundry_air_dry": _l("The dryer's part of your laundry electricity."),
    "eco_start": _l("%(rate)s of your car fuel."),
    "eco_steady": _l("%(rate)s of your car fuel."),
    "eco_accel_off": _l("%(rate)s of your car fuel."),
    "idling_stop": _l("%(rate)s of your car fuel."),
    "renewable_menu": _l("The CO2 of the electricity that remains after your other actions; such menus often cost "
                         "a little more (we assume %(premium_yen_per_kwh)s yen per kWh)."),
}
AREA_LABELS = {"ku": _l("The 23 wards"), "tama": _l("Tama"), "islands": _l("The islands")}


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
    if error.code == "invalid_ampere":
        return _("Choose a contract of 10, 15, 20, 30, 40, 50 or 60 amperes.")
    if error.code == "unknown_menu":
        return _("Choose an electricity menu from the list.")
    if error.code == "unknown_municipality":
        return _("Choose a municipality of Tokyo from the list.")
    if error.code == "below_basic":
        if error.params.get("ampere"):
            return _("This is less than the basic charge of %(amount)s for %(ampere)s A. Check the amount or "
                     "the contract.", amount=yen(int(error.params["basic"])), ampere=error.params["ampere"])
        return _("This is less than the smallest basic charge (%(amount)s). Check the amount.",
                 amount=yen(int(error.params["basic"])))
    return _("Enter a number, for example 320 or 12.5.")

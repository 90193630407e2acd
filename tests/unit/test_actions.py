"""Reduction actions that scale with the household, applied one after another (pure)."""
from decimal import Decimal as D

import pytest

from resident_app.carbon import actions, enduse
from resident_app.carbon.actions import Household, plan_actions
from resident_app.carbon.tariffs import annual_cost

from .test_tariffs import TOKYO_GAS, tepco

FACTORS = {"electricity": D("0.423"), "city_gas": D("2.21"), "lpg": D("6.0"), "kerosene": D("2.49"),
           "gasoline": D("2.32"), "diesel": D("2.58"), "water": D("0.239")}
FLAT = {"electricity": D("2929.2"), "city_gas": D("362.4")}                       # ¥10,000 and ¥5,000 a month
FAMILY = {"electricity": D("3986.4"), "city_gas": D("547.2"), "gasoline": D(480)}  # ¥14,000 (40 A), ¥7,000, 40 L
TAMA = {"electricity": D("3133.2"), "city_gas": D("316.8"), "kerosene": D(300), "gasoline": D(360)}
PRICES = {"gasoline": D(143), "kerosene": D("127.2"), "water": D(260)}


class Pricing:
    def annual_cost(self, source, quantity):
        if source == "electricity":
            return annual_cost(lambda kwh: tepco().monthly_bill(kwh, 30), quantity)
        if source == "city_gas":
            return annual_cost(TOKYO_GAS.monthly_bill, quantity)
        return quantity * PRICES[source] if source in PRICES else None


def household(annual, persons=2, factors=FACTORS, water=False, end_uses=None):
    return Household(persons, annual, factors, enduse.split(annual) if end_uses is None else end_uses,
                     enduse.archetype(annual), Pricing(), water_entered=water)


def energy(plan, key, source):
    return float(plan.by_key()[key].energy_by_source.get(source, 0))


# --- the three reference households: ours vs the open うちエコ診断 engine (d62 @722789b) -------------
# d62 was given the bills that buy the same kWh, m³ and L (see the issue-11 note for the run).
# Where the gap is over 25 % the id says why; those rows check our own figure, not d62's.
REFERENCE_HOUSEHOLDS = [
    # household, persons, action, source, d62 saving a year, ours a year
    ("flat", 2, "fridge_setting", "electricity", 60.4, 45.7),
    ("flat", 2, "fridge_wall", "electricity", 50.4, 38.1),
    ("flat", 2, "tv_brightness", "electricity", 52.5, 41.0),
    ("flat", 2, "toilet_temp__d62_gives_the_seat_5.4_percent_we_4", "electricity", 15.7, 11.7),
    ("flat", 2, "heating_setpoint__d62_lowers_2C_from_22", "electricity", 160.1, 76.2),
    ("flat", 2, "shower_1min__d62_applies_the_shower_share_twice", "city_gas", 9.8, 23.4),
    ("flat", 2, "ac_filter__d62_one_room_only", "electricity", 13.0, 61.8),
    ("flat", 2, "cooling_setpoint__d62_one_room_only", "electricity", 7.5, 32.2),
    ("family", 4, "fridge_setting", "electricity", 54.3, 62.2),
    ("family", 4, "fridge_wall", "electricity", 45.3, 51.8),
    ("family", 4, "led_living__ours_one_70W_light_d62_scales_its_lamp", "electricity", 61.2, 76.7),
    ("family", 4, "tv_hour", "electricity", 31.4, 32.8),
    ("family", 4, "tv_brightness", "electricity", 47.2, 55.8),
    ("family", 4, "toilet_lid", "electricity", 14.1, 15.9),
    ("family", 4, "laundry_air_dry", "electricity", 30.8, 36.2),
    ("family", 4, "renewable_menu", "electricity", 3986.3, 3986.4),
    ("tama", 3, "led_living", "electricity", 81.2, 76.7),
    ("tama", 3, "fridge_setting", "electricity", 79.3, 63.9),
    ("tama", 3, "laundry_air_dry", "electricity", 33.8, 28.5),
    ("tama", 3, "toilet_lid", "electricity", 20.6, 15.7),
    ("tama", 3, "heating_setpoint__d62_lowers_2C", "kerosene", 41.9, 30.0),
    ("tama", 3, "bath_no_reheat__d62_3h_keep_warm_share", "city_gas", 10.9, 18.6),
]
ANNUAL = {"flat": FLAT, "family": FAMILY, "tama": TAMA}


@pytest.mark.parametrize("name, persons, action, source, d62, ours", REFERENCE_HOUSEHOLDS,
                         ids=[f"{r[0]}-{r[2]}" for r in REFERENCE_HOUSEHOLDS])
def test_reference_households_against_d62(name, persons, action, source, d62, ours):
    key = action.split("__")[0]
    plan = plan_actions(household(ANNUAL[name], persons))
    saved = float(ANNUAL[name]["electricity"]) if key == "renewable_menu" else energy(plan, key, source)
    assert saved == pytest.approx(ours, abs=0.05)
    if "__" not in action:  # both engines model it the same way: within 25 %
        assert abs(saved - d62) / d62 <= 0.25


# --- each model against its reference case from the energy agency's portal ----------------------
def ac_household(heating=D(0), cooling=D(0)):
    """One 2.2 kW air conditioner: the portal's 1 °C cases imply 530.8 kWh heating, 302.4 kWh cooling."""
    uses = {("heating", "electricity"): heating, ("cooling", "electricity"): cooling}
    return household({"electricity": heating + cooling}, end_uses={k: v for k, v in uses.items() if v})


REFERENCE_CASES = [
    # action, household, source, portal figure, tolerance
    ("heating_setpoint", lambda: ac_household(heating=D("530.8")), "electricity", 53.08, 0.01),
    ("heating_hours", lambda: ac_household(heating=D("530.8")), "electricity", 40.73, 0.01),
    ("ac_filter", lambda: ac_household(heating=D("530.8")), "electricity", 31.95, 0.01),
    ("cooling_setpoint", lambda: ac_household(cooling=D("302.4")), "electricity", 30.24, 0.01),
    ("cooling_hours", lambda: ac_household(cooling=D("302.4")), "electricity", 18.78, 0.01),
    # a 400 L class fridge of the ordinary kind uses 500 kWh a year (d62's table)
    ("fridge_setting", lambda: household({"electricity": D(500)}, end_uses={("fridge", "electricity"): D(500)}),
     "electricity", 61.72, 0.05),
    ("fridge_wall", lambda: household({"electricity": D(500)}, end_uses={("fridge", "electricity"): D(500)}),
     "electricity", 45.08, 0.15),
    # Tokyo HTT: a fluorescent ceiling light replaced by LED saves 68.0 kWh
    ("led_living", lambda: household({"electricity": D(400)}, end_uses={("lighting", "electricity"): D(400)}),
     "electricity", 68.0, 0.15),
    # the portal's 50-inch set: 28.87 kWh for 1 h a day is 79.1 W; watched 8.5 h a day
    ("tv_hour", lambda: household({"electricity": D("245.4")}, end_uses={("tv", "electricity"): D("245.4")}),
     "electricity", 28.87, 0.01),
    # toilet seat: d62's 200 kWh seat; the 2020 catalogue's seat uses more (storage type, 26.4 kWh for a lower setting)
    ("toilet_temp", lambda: household({"electricity": D(200)}, end_uses={("toilet_seat", "electricity"): D(200)}),
     "electricity", 26.4, 0.25),
    # car: the portal's e-start case (83.57 L) is 10 % of 835.7 L a year
    ("eco_start", lambda: household({"gasoline": D("835.7")}), "gasoline", 83.57, 0.01),
    ("eco_steady", lambda: household({"gasoline": D("835.7")}), "gasoline", 29.29, 0.01),
    ("eco_accel_off", lambda: household({"gasoline": D("835.7")}), "gasoline", 18.09, 0.10),
    ("idling_stop", lambda: household({"gasoline": D("835.7")}), "gasoline", 17.33, 0.02),
]


@pytest.mark.parametrize("key, make, source, portal, tolerance", REFERENCE_CASES, ids=[r[0] for r in REFERENCE_CASES])
def test_each_model_against_its_reference_case(key, make, source, portal, tolerance):
    saved = energy(plan_actions(make()), key, source)
    assert abs(saved - portal) / portal <= tolerance, saved


def test_the_shower_formula_under_the_reference_conditions():
    """家庭の省エネ大事典2012: 45 °C, one person, 12.78 m³ gas and 4.38 m³ water a year (12 L/min)."""
    table = dict(actions.parameters())
    for name, value in (("flow_l_per_min", D(12)), ("hot_c", D(45))):
        table[("shower_1min", name)] = actions.Parameter("shower_1min", name, value, "", "", "", "")
    plan = plan_actions(household({"city_gas": D(300), "water": D(100)}, persons=1, water=True), params=table)
    assert energy(plan, "shower_1min", "water") == pytest.approx(4.38)
    assert abs(energy(plan, "shower_1min", "city_gas") - 12.78) / 12.78 <= 0.25  # ours 15.7: colder mains water


def test_the_bath_formula_under_the_reference_conditions():
    """The 大事典 case (200 L cooled 4.5 °C in 2 h, reheated every day): 38.2 m³ of city gas."""
    table = dict(actions.parameters())
    for name, value in (("drop_c_per_h", D("2.25")), ("reheated_share", D(1))):
        table[("bath_no_reheat", name)] = actions.Parameter("bath_no_reheat", name, value, "", "", "", "")
    plan = plan_actions(household({"city_gas": D(500)}, persons=2), params=table)
    assert abs(energy(plan, "bath_no_reheat", "city_gas") - 38.2) / 38.2 <= 0.15


# --- the old fixed amounts are gone ---------------------------------------------------------------
def test_savings_scale_with_the_households_own_use():
    small, big = plan_actions(household({"gasoline": D(108)})), plan_actions(household({"gasoline": D(1080)}))
    assert energy(small, "eco_start", "gasoline") == pytest.approx(10.8)
    assert energy(big, "eco_start", "gasoline") == pytest.approx(108)
    together = plan_actions(household({"gasoline": D(108)}), selected=["eco_start", "eco_steady", "eco_accel_off",
                                                                       "idling_stop"])
    litres = sum(float(r.energy_by_source["gasoline"]) for r in together.results if r.selected)
    assert litres < 108 * 0.17  # four habits on 108 L: about 18 L, not the 148 L of fixed figures


@pytest.mark.parametrize("annual, absent", [
    ({"electricity": D(3000)}, {"eco_start", "idling_stop"}),  # all-electric: the heat pump heats the water
    ({"electricity": D(3000), "city_gas": D(300)}, {"eco_start", "idling_stop"}),
    ({"gasoline": D(500)}, {"renewable_menu", "fridge_setting", "shower_1min"}),
])
def test_actions_that_do_not_apply_are_not_offered(annual, absent):
    offered = set(plan_actions(household(annual)).by_key())
    assert not offered & absent


def test_no_renewable_action_on_a_zero_menu_and_electricity_saves_no_co2():
    zero = {**FACTORS, "electricity": D(0)}
    plan = plan_actions(household(FLAT, factors=zero)).by_key()
    assert "renewable_menu" not in plan
    assert plan["fridge_setting"].saving_g == 0 and plan["fridge_setting"].saving_yen > 0


def test_chosen_actions_apply_one_after_another_never_summed():
    alone = plan_actions(household(TAMA, 3)).by_key()
    both = plan_actions(household(TAMA, 3), selected=["heating_setpoint", "heating_hours"]).by_key()
    first, second = sorted((both["heating_setpoint"], both["heating_hours"]), key=lambda r: -alone[r.key].saving_g)
    assert first.saving_g == alone[first.key].saving_g
    assert second.saving_g < alone[second.key].saving_g  # on the heating the first one left
    total_heating = sum(q for (use, s), q in enduse.split(TAMA).items() if use == "heating")
    remaining = total_heating * (1 - D("0.10")) * (1 - D("0.077"))
    saved = sum(sum(r.energy_by_source.values()) for r in (first, second))
    assert saved == pytest.approx(total_heating - remaining)


def test_the_order_shown_does_not_change_when_a_box_is_ticked():
    plain = [r.key for r in plan_actions(household(FAMILY, 4)).results]
    ticked = [r.key for r in plan_actions(household(FAMILY, 4), selected=[plain[0], plain[3]]).results]
    assert plain == ticked
    savings = [r.saving_g for r in plan_actions(household(FAMILY, 4)).results]
    assert savings == sorted(savings, reverse=True)


def test_a_renewable_menu_is_applied_after_efficiency_and_the_total_is_order_free():
    chosen = ["renewable_menu", "fridge_setting", "led_living"]
    plan = plan_actions(household(FLAT), selected=chosen)
    electricity_g = int(FLAT["electricity"] * FACTORS["electricity"] * 1000)
    assert abs(sum(plan.by_key()[k].saving_g for k in chosen) - electricity_g) <= 2
    assert plan.by_key()["renewable_menu"].saving_yen < 0  # d62's premium of 2 yen/kWh
    assert plan.by_key()["tv_brightness"].saving_g == 0     # on top of a clean supply: no CO2 left to save


def test_yen_saved_follows_the_tariff_at_the_margin():
    plan = plan_actions(household(FLAT)).by_key()
    fridge = plan["fridge_setting"]
    # 244.1 kWh a month sits in the second band: 36.40 + 3.98 yen per kWh
    assert fridge.saving_yen == round(float(fridge.energy_by_source["electricity"]) * 40.38)


def test_water_counts_only_when_the_household_entered_it():
    without = plan_actions(household({**FLAT, "water": D(150)})).by_key()["shower_1min"]
    with_water = plan_actions(household({**FLAT, "water": D(150)}, water=True)).by_key()["shower_1min"]
    assert "water" not in without.energy_by_source
    assert with_water.energy_by_source["water"] == pytest.approx(D("7.3"))


def test_a_single_person_is_not_offered_the_bath_action():
    assert "bath_no_reheat" not in plan_actions(household(FLAT, persons=1)).by_key()

"""The event maths (carbon.event) and its reader (carbon.event_input): every item, the rounding, the
surcharge, the reader, the survey.

The festival below is the issue's example: 200 participants, 12 staff, one day, 800 kWh, rail 60 %
at 18 km, car 25 % at 9 km, walking 15 %, staff by car at 15 km, 20 hotel nights, 12 kg of paper,
40 kg of waste left out of the boundary."""
from decimal import Decimal

import pytest

from resident_app.carbon.event import (DISTANCE_BANDS, ITEMS, EventInputs, SurveyAnswer, TravelLeg, claim,
                                       event_emissions, item_kg, offset_percent, suggested_surcharge_yen, survey_travel)
from resident_app.carbon.event_input import EventInputError, read_event_inputs

FACTORS = {"electricity": Decimal("0.423"), "city_gas": Decimal("2.21"), "rail": Decimal("0.017"),
           "bus": Decimal("0.057"), "car": Decimal("0.125"), "air_domestic": Decimal("0.091"),
           "hotel_night": Decimal("15"), "paper": Decimal("1.62"), "waste": Decimal("0.38")}
ONES = {key: Decimal(1) for key in FACTORS}

FESTIVAL = {"participants": 200, "staff": 12, "days": 1,
            "venue_electricity_kwh": 800, "venue_gas_m3": 0,
            "participant_travel": [{"mode": "rail", "share_percent": 60, "one_way_km": 18},
                                   {"mode": "car", "share_percent": 25, "one_way_km": 9},
                                   {"mode": "walk", "share_percent": 15, "one_way_km": 1}],
            "staff_travel": [{"mode": "car", "share_percent": 100, "one_way_km": 15}],
            "lodging_person_nights": 20, "paper_kg": 12, "waste_kg": 40,
            "exclude": ["waste"]}


def grams(item, factors=FACTORS, **fields):
    inputs = read_event_inputs({"participants": 1, **fields})
    return event_emissions(inputs, factors).items_g[item]


@pytest.mark.parametrize("item, fields, expected", [
    ("venue_electricity", {"venue_electricity_kwh": 800}, 338_400),            # 800 x 0.423 kg
    ("venue_electricity", {"venue_hours": 10, "venue_kw": 20}, 84_600),         # 10 h x 20 kW = 200 kWh
    ("venue_electricity", {"venue_electricity_kwh": 5, "venue_hours": 10, "venue_kw": 20}, 2_115),  # kWh wins
    ("venue_electricity", {"venue_hours": 10}, 0),                              # hours without kW: nothing
    ("venue_gas", {"venue_gas_m3": "12.5"}, 27_625),
    ("lodging", {"lodging_person_nights": 20}, 300_000),                        # 20 x 15 kg
    ("paper", {"paper_kg": 12}, 19_440),                                        # 12 x 1.62 kg
    ("paper", {"paper_a4_sheets": 1000}, 6_480),                                # 1,000 x 4 g = 4 kg
    ("paper", {"paper_kg": 12, "paper_a4_sheets": 1000}, 25_920),
    ("waste", {"waste_kg": 40}, 15_200),                                        # 40 x 0.38 kg
    ("waste", {}, 0),                                                           # absent is 0
])
def test_each_item(item, fields, expected):
    inputs = read_event_inputs({"participants": 1, "participant_travel": [{"mode": "walk", "share_percent": 100,
                                                                          "one_way_km": 0}],
                                **{k: v for k, v in fields.items()}}, text_numbers=True)
    assert event_emissions(inputs, FACTORS).items_g[item] == expected


@pytest.mark.parametrize("legs, persons, days, expected", [
    # 2 x km x persons x share x days x factor
    ([("rail", 60, 18), ("car", 25, 9), ("walk", 15, 1)], 200, 1, 185_940),   # 73.44 kg + 112.5 kg
    ([("rail", 60, 18), ("car", 25, 9), ("walk", 15, 1)], 200, 2, 371_880),   # two days: twice
    ([("car", 100, 15)], 12, 1, 45_000),
    ([("air_domestic", 50, 900), ("rail", 50, 500)], 10, 1, 904_000),          # 819 kg + 85 kg
    ([("bus", 100, 3)], 7, 1, 2_394),
    ([("walk", 100, 2)], 500, 3, 0),                                            # walking and cycling: 0
])
def test_travel_by_shares(legs, persons, days, expected):
    rows = [{"mode": m, "share_percent": s, "one_way_km": km} for m, s, km in legs]
    inputs = read_event_inputs({"participants": persons, "days": days, "participant_travel": rows,
                                "staff": persons, "staff_travel": rows})
    result = event_emissions(inputs, FACTORS)
    assert result.items_g["participant_travel"] == expected
    assert result.items_g["staff_travel"] == expected


def test_origins_table_is_scaled_to_the_participants():
    # 40 by rail from 12 km and 10 by car from 5 km describe 100 participants: x2.
    rows = [{"origin": "世田谷区", "mode": "rail", "persons": 40, "one_way_km": 12},
            {"origin": "", "mode": "car", "persons": 10, "one_way_km": 5}]
    inputs = read_event_inputs({"participants": 100, "participant_travel": rows})
    assert inputs.participant_travel[0].origin == "世田谷区"
    assert event_emissions(inputs, FACTORS).items_g["participant_travel"] == 57_640  # 32.64 + 25 kg


@pytest.mark.parametrize("km, expected", [
    ("0.00025", 1),       # 2 x 0.00025 kg = 0.5 g: half rounds up
    ("0.0002499", 0),     # just under half
    ("0.00075", 2),       # 1.5 g -> 2, half up, not banker's
])
def test_each_item_rounds_half_up_once(km, expected):
    inputs = read_event_inputs({"participants": 1, "participant_travel": [
        {"mode": "rail", "share_percent": 100, "one_way_km": km}]}, text_numbers=True)
    assert event_emissions(inputs, ONES).items_g["participant_travel"] == expected


def test_an_item_is_rounded_as_a_whole_not_leg_by_leg():
    # Two legs of 0.3 g each: 0.6 g rounds to 1 g; rounding each leg first would give 0.
    rows = [{"mode": "rail", "share_percent": 50, "one_way_km": "0.0003"},
            {"mode": "bus", "share_percent": 50, "one_way_km": "0.0003"}]
    inputs = read_event_inputs({"participants": 1, "participant_travel": rows}, text_numbers=True)
    assert item_kg("participant_travel", inputs, ONES) == Decimal("0.0006")
    assert event_emissions(inputs, ONES).items_g["participant_travel"] == 1


def test_the_festival():
    result = event_emissions(read_event_inputs(FESTIVAL), FACTORS)
    assert result.items_g == {"venue_electricity": 338_400, "venue_gas": 0, "participant_travel": 185_940,
                              "staff_travel": 45_000, "lodging": 300_000, "paper": 19_440}
    assert result.excluded == ("waste",)
    assert result.total_g == 888_780
    assert result.per_participant_g == 4_444          # 4,443.9 g half up
    assert result.share_percent("lodging") == 34      # 33.75 % half up
    assert suggested_surcharge_yen(result.per_participant_g, 10_000) == 50


def test_the_total_is_the_sum_of_rounded_items_and_per_participant_rounds_half_up():
    inputs = read_event_inputs({"participants": 2, "participant_travel": [
        {"mode": "rail", "share_percent": 50, "one_way_km": "0.00025"},
        {"mode": "walk", "share_percent": 50, "one_way_km": 0}], "paper_kg": "0.002"}, text_numbers=True)
    result = event_emissions(inputs, ONES)
    assert result.items_g["participant_travel"] == 1 and result.items_g["paper"] == 2
    assert result.total_g == 3
    assert result.per_participant_g == 2              # 1.5 g half up


@pytest.mark.parametrize("per_participant_g, rate, share, expected", [
    (4_444, 10_000, 100, 50),      # 44.44 yen -> 50 (up to 10 yen, and the 50 yen floor)
    (4_444, 10_000, 50, 50),       # 22.22 -> 30 -> the floor of 50
    (12_345, 10_000, 100, 130),    # 123.45 -> 130
    (12_000, 10_000, 100, 120),    # exactly 120: no step up
    (12_001, 10_000, 100, 130),    # a fraction of a yen over: up
    (100_000, 3_246, 100, 330),    # 324.6 -> 330
    (24_690, 10_000, 50, 130),     # 123.45 -> 130
    (0, 10_000, 100, 50),
])
def test_suggested_surcharge_rounds_up_to_ten_yen_with_a_floor_of_fifty(per_participant_g, rate, share, expected):
    assert suggested_surcharge_yen(per_participant_g, rate, share) == expected


@pytest.mark.parametrize("rate, share", [(0, 100), (10_000, 0), (10_000, 101)])
def test_surcharge_refuses_a_missing_rate_or_share(rate, share):
    with pytest.raises(ValueError):
        suggested_surcharge_yen(1_000, rate, share)


@pytest.mark.parametrize("covered, total, expected", [
    (0, 1_000, 0), (999, 1_000, 99), (1_000, 1_000, 100), (5_000, 1_000, 100), (0, 0, 100),
])
def test_offset_percent_never_claims_more(covered, total, expected):
    assert offset_percent(covered, total) == expected


@pytest.mark.parametrize("total, covered, retired, expected", [
    (1_000, 0, 0, "not_offset"),
    (1_000, 400, 0, "paid_awaiting"),       # paid, not yet invalidated: no claim of an offset yet
    (1_000, 1_200, 0, "paid_awaiting"),
    (1_000, 1_000, 400, "partly_offset"),   # only what was invalidated counts
    (1_000, 1_000, 1_000, "offset"),
    (1_000, 1_500, 1_500, "offset"),
    (0, 0, 0, "not_offset"),
])
def test_what_the_organiser_may_claim(total, covered, retired, expected):
    assert claim(total, covered, retired) == expected


def problems(payload, **kwargs):
    with pytest.raises(EventInputError) as raised:
        read_event_inputs(payload, **kwargs)
    return {field: p.code for field, p in raised.value.by_field().items()}


@pytest.mark.parametrize("change, field, code", [
    ({"participants": None}, "participants", "required"),
    ({"participants": 0}, "participants", "too_small"),
    ({"participants": "200"}, "participants", "type"),            # JSON numbers, not text
    ({"participants": True}, "participants", "type"),
    ({"participants": [200]}, "participants", "type"),
    ({"participants": 12.5}, "participants", "not_whole"),
    ({"participants": 2_000_000}, "participants", "too_large"),
    ({"days": 0}, "days", "too_small"),
    ({"days": 40}, "days", "too_large"),
    ({"venue_electricity_kwh": -1}, "venue_electricity_kwh", "negative"),
    ({"venue_electricity_kwh": 1e12}, "venue_electricity_kwh", "too_large"),
    ({"waste_kg": float("nan")}, "waste_kg", "invalid"),
    ({"lodging_person_nights": 2.5}, "lodging_person_nights", "not_whole"),
    ({"bogus": 1}, "bogus", "unknown_field"),
    ({"exclude": "waste"}, "exclude", "type"),
    ({"exclude": ["waste", "fireworks"]}, "exclude[1]", "unknown_item"),
    ({"participant_travel": {"mode": "rail"}}, "participant_travel", "type"),
    ({"participant_travel": []}, "participant_travel", "no_travel"),
    ({"participant_travel": [{"mode": "rail", "share_percent": 60, "one_way_km": 18},
                             {"mode": "car", "share_percent": 35, "one_way_km": 9}]},
     "participant_travel", "shares_sum"),
    ({"participant_travel": [{"mode": "bike", "share_percent": 100, "one_way_km": 1}]},
     "participant_travel[0].mode", "unknown_mode"),
    ({"participant_travel": [{"mode": "rail", "share_percent": 100}]},
     "participant_travel[0].one_way_km", "required"),
    ({"participant_travel": [{"mode": "rail", "share_percent": 100, "one_way_km": 40_000}]},
     "participant_travel[0].one_way_km", "too_large"),
    ({"participant_travel": [{"mode": "rail", "share_percent": 120, "one_way_km": 1}]},
     "participant_travel[0].share_percent", "too_large"),
    ({"participant_travel": ["rail"]}, "participant_travel[0]", "type"),
    ({"participant_travel": [{"mode": "rail", "share_percent": 50, "one_way_km": 1},
                             {"mode": "car", "persons": 5, "one_way_km": 1}]}, "participant_travel", "mixed_rows"),
    ({"participant_travel": [{"mode": "rail", "persons": 0, "one_way_km": 1}]}, "participant_travel", "no_persons"),
    ({"participant_travel": [{"mode": "rail", "persons": 1, "one_way_km": 1, "origin": "x" * 101}]},
     "participant_travel[0].origin", "too_long"),
    ({"participant_travel": [{"mode": "rail", "share_percent": 100, "one_way_km": 1, "speed": 3}]},
     "participant_travel[0].speed", "unknown_field"),
    ({"staff_travel": []}, "staff_travel", "no_travel"),
])
def test_reader_refuses_with_a_problem_per_field(change, field, code):
    payload = {**FESTIVAL, **change}
    payload = {k: v for k, v in payload.items() if v is not None}
    assert problems(payload)[field] == code


def test_reader_reports_every_field_at_once():
    found = problems({**FESTIVAL, "participants": "many", "days": 0, "waste_kg": -3})
    assert found == {"participants": "type", "days": "too_small", "waste_kg": "negative"}


def test_travel_left_out_of_the_boundary_needs_no_modes():
    inputs = read_event_inputs({"participants": 50, "staff": 3, "exclude": ["participant_travel", "staff_travel"]})
    result = event_emissions(inputs, FACTORS)
    assert "participant_travel" not in result.items_g and result.excluded == ("participant_travel", "staff_travel")


def test_no_staff_needs_no_staff_travel():
    inputs = read_event_inputs({**{k: v for k, v in FESTIVAL.items() if k != "staff_travel"}, "staff": 0})
    assert event_emissions(inputs, FACTORS).items_g["staff_travel"] == 0


def test_forms_may_type_numbers_as_text_with_full_width_digits_and_commas():
    inputs = read_event_inputs({"participants": "２００", "venue_electricity_kwh": "1,200.5", "days": "",
                                "exclude": ["participant_travel"]}, text_numbers=True)
    assert (inputs.participants, inputs.electricity_kwh, inputs.days) == (200, Decimal("1200.5"), 1)


def test_inputs_survive_a_round_trip_through_their_json():
    inputs = read_event_inputs({**FESTIVAL, "venue_gas_m3": 12.5, "paper_a4_sheets": 300})
    again = read_event_inputs(inputs.as_json(), text_numbers=True)
    assert again == inputs
    assert inputs.as_json()["venue_gas_m3"] == "12.5"
    assert [item for item in ITEMS if not again.includes(item)] == ["waste"]


def test_survey_answers_become_persons_per_mode_with_mean_distances():
    answers = [SurveyAnswer("rail", Decimal(2)), SurveyAnswer("rail", Decimal(2)), SurveyAnswer("rail", Decimal(20)),
               SurveyAnswer("car", DISTANCE_BANDS["3-10"]), SurveyAnswer("walk", DISTANCE_BANDS["0-1"]),
               SurveyAnswer("rail", None)]      # an origin whose distance is not known yet
    survey = survey_travel(answers)
    assert (survey.answers, survey.used) == (6, 5)
    assert survey.legs == (TravelLeg("rail", Decimal("8.0"), persons=3), TravelLeg("car", Decimal("6.5"), persons=1),
                           TravelLeg("walk", Decimal("0.5"), persons=1))
    assert survey.share_percent("rail") == 60
    # Scaled to 300 participants: rail 180 x 2 x 8 km x 0.017 + car 60 x 2 x 6.5 km x 0.125 = 146.46 kg
    inputs = EventInputs(participants=300, participant_travel=survey.legs)
    assert event_emissions(inputs, FACTORS).items_g["participant_travel"] == 146_460


def test_a_survey_without_distances_has_no_legs():
    survey = survey_travel([SurveyAnswer("rail", None)])
    assert (survey.answers, survey.used, survey.legs, survey.share_percent("rail")) == (1, 0, (), 0)


def test_rows_that_carry_nobody_are_dropped_before_saving():
    inputs = read_event_inputs({**FESTIVAL, "participant_travel": [
        {"mode": "rail", "share_percent": 100, "one_way_km": 18}, {"mode": "bus", "share_percent": 0, "one_way_km": 0}]})
    kept = inputs.without_empty_legs()
    assert [leg.mode for leg in kept.participant_travel] == ["rail"]
    assert event_emissions(kept, FACTORS) == event_emissions(inputs, FACTORS)

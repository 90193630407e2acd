"""POST /api/v1/event-estimate: the issue's example, exactly; errors per field in the caller's
language; types before values; no CSRF token (a JSON API, like the footprint API)."""
from __future__ import annotations

import pytest

from ..unit.test_event import FESTIVAL  # the issue's example

URL = "/api/v1/event-estimate"


def test_the_issues_example(client):
    response = client.post(URL, json=FESTIVAL)
    assert response.status_code == 200
    body = response.get_json()
    assert body["items"] == {"venue_electricity": 338_400, "venue_gas": 0, "participant_travel": 185_940,
                             "staff_travel": 45_000, "lodging": 300_000, "paper": 19_440}
    assert body["excluded"] == ["waste"]
    assert (body["total_g"], body["per_participant_g"], body["rate_yen_per_t"], body["suggested_surcharge_yen"]) == \
        (888_780, 4_444, 10_000, 50)
    assert isinstance(body["factor_set_id"], int) and isinstance(body["event_factor_set_id"], int)


def test_waste_inside_the_boundary_and_a_bigger_surcharge(client):
    body = client.post(URL, json={**FESTIVAL, "exclude": [], "participants": 20}).get_json()
    assert body["items"]["waste"] == 15_200 and body["excluded"] == []
    # 20 participants: their travel is a tenth (18,594 g); total 736,634 g = 36,832 g each -> 368.32 yen -> 370
    assert (body["total_g"], body["per_participant_g"], body["suggested_surcharge_yen"]) == (736_634, 36_832, 370)


@pytest.mark.parametrize("change, field, english", [
    ({"participants": "200"}, "participants", "JSON number"),
    ({"participants": None}, "participants", "Enter a number"),
    ({"days": 0}, "days", "or more"),
    ({"venue_gas_m3": -1}, "venue_gas_m3", "not negative"),
    ({"paper_kg": 1e9}, "paper_kg", "at most 100,000"),
    ({"participant_travel": [{"mode": "rail", "share_percent": 50, "one_way_km": 18}]}, "participant_travel",
     "add up to 50 %"),
    ({"participant_travel": [{"mode": "bike", "share_percent": 100, "one_way_km": 3}]},
     "participant_travel[0].mode", "rail, bus, car"),
    ({"participant_travel": [{"mode": "rail", "share_percent": "100", "one_way_km": 3}]},
     "participant_travel[0].share_percent", "JSON number"),
    ({"exclude": ["fireworks"]}, "exclude[0]", "venue_electricity"),
    ({"colour": "green"}, "colour", "Unknown field"),
])
def test_errors_name_the_field_in_english(client, change, field, english):
    response = client.post(URL, json={**FESTIVAL, **change}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert english in errors[field], errors


def test_errors_speak_japanese_by_default_and_list_every_field(client):
    response = client.post(URL, json={**FESTIVAL, "participants": True, "waste_kg": -2, "staff_travel": "car"})
    errors = response.get_json()["errors"]
    assert set(errors) == {"participants", "waste_kg", "staff_travel"}
    assert errors["participants"] == "ここには数値（文字列ではなくJSONの数値）を送ってください。"
    assert errors["waste_kg"] == "0以上の数を入力してください。"


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "null", ""])
def test_a_body_that_is_not_an_object_is_a_400(client, body):
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400 and "body" in response.get_json()["errors"]


def test_no_csrf_token_is_needed_and_get_is_not_allowed(client):
    assert client.post(URL, json=FESTIVAL).status_code == 200     # the test config has CSRF on
    assert client.get(URL).status_code == 405

"""The JSON API: factors, footprint arithmetic, and 400s with per-field errors."""
import pytest

from resident_app.carbon.sources import API_FIELDS

from ..conftest import calculator_form, csrf_token


def test_factors_lists_the_active_set(client):
    body = client.get("/api/v1/factors").get_json()
    assert set(body["factor_set"]) >= {"id", "name", "fiscal_year"}
    keys = [f["key"] for f in body["factors"]]
    assert keys == ["electricity", "city_gas", "lpg", "kerosene", "gasoline", "diesel", "water"]
    electricity = body["factors"][0]
    assert electricity["kg_co2_per_unit"] == "0.423" and electricity["unit"] == "kWh"
    assert electricity["confidence"] == "S" and "MOE" in electricity["source"]


def test_footprint_per_the_documented_formula(client):
    response = client.post("/api/v1/footprint", json={
        "period": "month", "household_size": 3, "electricity_kwh": 300, "city_gas_m3": 20,
        "lpg_m3": 1.5, "kerosene_l": 10, "gasoline_l": 40, "diesel_l": 0, "water_m3": 15})
    body = response.get_json()
    assert response.status_code == 200
    assert body["by_source_g_per_year"] == {
        "electricity": 1_522_800, "city_gas": 530_400, "lpg": 108_000, "kerosene": 298_800,
        "gasoline": 1_113_600, "diesel": 0, "water": 43_020}
    assert body["total_g_per_year"] == sum(body["by_source_g_per_year"].values()) == 3_616_620
    assert body["average_home_g_per_year"] == 3_440_000
    assert body["average_car_g_per_year"] == 1_030_000
    assert isinstance(body["factor_set_id"], int)


def test_year_and_month_agree_and_absent_is_zero(client):
    month = client.post("/api/v1/footprint", json={"period": "month", "household_size": 1,
                                                   "electricity_kwh": 250}).get_json()
    year = client.post("/api/v1/footprint", json={"period": "year", "household_size": 1,
                                                  "electricity_kwh": 3000}).get_json()
    assert month["total_g_per_year"] == year["total_g_per_year"] == 1_269_000
    assert month["by_source_g_per_year"]["water"] == 0


@pytest.mark.parametrize("size, average", [(1, 1_510_000), (6, 5_420_000), (12, 5_420_000)])
def test_six_and_more_use_the_6_plus_average(client, size, average):
    body = client.post("/api/v1/footprint", json={"period": "year", "household_size": size}).get_json()
    assert body["average_home_g_per_year"] == average and body["total_g_per_year"] == 0


@pytest.mark.parametrize("payload, field", [
    ({"period": "week", "household_size": 2}, "period"),
    ({"household_size": 2}, "period"),
    ({"period": "month", "household_size": 0}, "household_size"),
    ({"period": "month", "household_size": "2"}, "household_size"),
    ({"period": "month", "household_size": True}, "household_size"),
    ({"period": "month", "household_size": 2.5}, "household_size"),
    ({"period": "month", "household_size": 2, "electricity_kwh": -1}, "electricity_kwh"),
    ({"period": "month", "household_size": 2, "electricity_kwh": "300"}, "electricity_kwh"),
    ({"period": "month", "household_size": 2, "electricity_kwh": 20_001}, "electricity_kwh"),
    ({"period": "year", "household_size": 2, "water_m3": 12_001}, "water_m3"),
    ({"period": "month", "household_size": 2, "gasoline_l": True}, "gasoline_l"),
    ({"period": "month", "household_size": 2, "gasoline_l": [1]}, "gasoline_l"),
    ({"period": "month", "household_size": 2, "electricity": 300}, "electricity"),
])
def test_invalid_input_is_400_with_the_field(client, payload, field):
    response = client.post("/api/v1/footprint", json=payload, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert field in errors and isinstance(errors[field], str) and errors[field]


def test_errors_come_in_the_requested_language(client):
    payload = {"period": "month", "household_size": 2, "electricity_kwh": -1}
    en = client.post("/api/v1/footprint", json=payload, headers={"Accept-Language": "en"}).get_json()
    ja = client.post("/api/v1/footprint", json=payload, headers={"Accept-Language": "ja"}).get_json()
    assert "negative" in en["errors"]["electricity_kwh"]
    assert ja["errors"]["electricity_kwh"] != en["errors"]["electricity_kwh"]


@pytest.mark.parametrize("body, content_type", [
    ("{not json", "application/json"), ("[1, 2]", "application/json"), ("", "application/json"),
    ("period=month", "application/x-www-form-urlencoded"), ('"text"', "application/json"),
])
def test_malformed_json_is_400(client, body, content_type):
    response = client.post("/api/v1/footprint", data=body, content_type=content_type)
    assert response.status_code == 400
    assert "body" in response.get_json()["errors"]


def test_api_needs_no_csrf_but_the_form_does(app):
    app.config["WTF_CSRF_CHECK_DEFAULT"] = True
    client = app.test_client()
    assert client.post("/api/v1/footprint", json={"period": "year", "household_size": 1}).status_code == 200
    assert client.post("/calculator", data=calculator_form(electricity="1")).status_code == 400


def test_api_and_page_agree(client):
    form = calculator_form(electricity="412", city_gas="33.3", gasoline="27", water="18", household_size="4")
    form["csrf_token"] = csrf_token(client)
    html = client.post("/calculator", data=form).get_data(as_text=True)
    body = client.post("/api/v1/footprint", json={
        "period": "month", "household_size": 4, "electricity_kwh": 412, "city_gas_m3": 33.3,
        "gasoline_l": 27, "water_m3": 18}).get_json()
    kg = round(body["total_g_per_year"] / 1000)
    assert f'id="total-kg">{kg:,}<' in html


def test_every_api_field_is_documented_on_the_methodology_page(client):
    html = client.get("/methodology").get_data(as_text=True)
    assert "/api/v1/footprint" in html and "/api/v1/factors" in html
    assert len(API_FIELDS) == 7


def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404

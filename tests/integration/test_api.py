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
    assert electricity["confidence"] == "S" and "環境省" in electricity["source"]  # Japanese by default
    assert electricity["source_url"].startswith("https://") and "verify" not in electricity["source"]


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


# --- bills, menus, municipalities, actions and the comparison --------------------------------------

def test_electricity_menus_list_key_label_and_factor(client):
    menus = client.get("/api/v1/electricity-menus", headers={"Accept-Language": "en"}).get_json()
    by_key = {m["key"]: m for m in menus}
    assert by_key["unknown"]["kg_co2_per_kwh"] == "0.423"        # the factor set's electricity factor
    assert by_key["renewable_100"]["kg_co2_per_kwh"] == "0"
    assert by_key["tepco_ep_standard"]["kg_co2_per_kwh"] == "0.421"
    assert all({"key", "label", "kg_co2_per_kwh"} <= set(m) for m in menus)
    assert "verify" not in str(menus).lower()


def test_a_bill_becomes_an_estimated_quantity_through_the_tariff(client):
    body = client.post("/api/v1/footprint", json={
        "period": "month", "household_size": 2, "electricity_bill_yen": 10000, "contract_ampere": 30,
        "city_gas_bill_yen": 5000}).get_json()
    assert body["estimated_quantities"] == {"electricity_kwh_per_year": 2914.8, "city_gas_m3_per_year": 362.4}
    assert body["by_source_g_per_year"]["electricity"] == 1_232_960  # 2,914.8 x 0.423 kg
    none = client.post("/api/v1/footprint", json={"period": "month", "household_size": 2,
                                                  "electricity_kwh": 300}).get_json()
    assert none["estimated_quantities"] == {}


def test_actions_are_sorted_by_saving_with_their_source(client):
    body = client.post("/api/v1/footprint", json={"period": "month", "household_size": 4, "electricity_kwh": 330,
                                                  "city_gas_m3": 45, "gasoline_l": 40}).get_json()
    actions = body["actions"]
    savings = [a["saving_g_per_year"] for a in actions]
    assert savings == sorted(savings, reverse=True)
    eco = next(a for a in actions if a["key"] == "eco_start")
    assert eco["source"] == "gasoline" and eco["saving_g_per_year"] == 111_360  # 10 % of 480 L x 2.32 kg
    assert {"key", "source", "saving_g_per_year", "saving_yen_per_year"} <= set(eco)
    assert not any(a["key"] == "renewable_menu" and a["saving_yen_per_year"] > 0 for a in actions)


def test_a_renewable_menu_emits_nothing_for_electricity(client):
    body = client.post("/api/v1/footprint", json={"period": "month", "household_size": 2, "electricity_kwh": 300,
                                                  "electricity_menu": "renewable_100"}).get_json()
    assert body["by_source_g_per_year"]["electricity"] == 0 and body["electricity_kg_co2_per_kwh"] == "0"
    assert "renewable_menu" not in {a["key"] for a in body["actions"]}


def test_the_comparison_uses_the_same_units_and_one_factor(client):
    body = client.post("/api/v1/footprint", json={"period": "year", "household_size": 2, "electricity_kwh": 2929.2,
                                                  "city_gas_m3": 362.4}).get_json()
    comparison = body["comparison"]
    assert comparison["basis"] == "same_units_same_factors" and comparison["region"] == "national"
    assert comparison["averages"]["electricity_kwh_per_year"] == 3958
    assert comparison["averages"]["city_gas_m3_per_year"] == 215.5
    assert comparison["home_g_per_year"] == body["total_g_per_year"]
    assert comparison["average_home_g_per_year"] == 2_738_337  # every average quantity x 0.423, 2.21, 6.0, 2.49


def test_the_municipality_is_kept_and_an_unknown_one_is_refused(client):
    ok = client.post("/api/v1/footprint", json={"period": "month", "household_size": 2, "municipality_code": "132012"})
    assert ok.status_code == 200 and ok.get_json()["municipality_code"] == "132012"


@pytest.mark.parametrize("payload, field", [
    ({"municipality_code": "999999"}, "municipality_code"),
    ({"municipality_code": "13201"}, "municipality_code"),
    ({"municipality_code": 132012}, "municipality_code"),            # a string of 6 digits, not a number
    ({"electricity_menu": "nope"}, "electricity_menu"),
    ({"electricity_menu": 3}, "electricity_menu"),
    ({"contract_ampere": 25}, "contract_ampere"),
    ({"contract_ampere": "30"}, "contract_ampere"),
    ({"contract_ampere": True}, "contract_ampere"),
    ({"electricity_bill_yen": "10000"}, "electricity_bill_yen"),
    ({"electricity_bill_yen": 500}, "electricity_bill_yen"),         # below the 30 A basic charge
    ({"electricity_bill_yen": 2_000_000}, "electricity_bill_yen"),
    ({"city_gas_bill_yen": [5000]}, "city_gas_bill_yen"),
    ({"electricity_kwh": 300, "electricity_bill_yen": 10000}, "electricity_bill_yen"),
])
def test_new_fields_are_checked_type_first(client, payload, field):
    response = client.post("/api/v1/footprint", json={"period": "month", "household_size": 2, **payload},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {field}

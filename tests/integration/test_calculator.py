"""The calculator through the Flask client: full page, htmx partial, errors, save/share/delete."""
import re
from datetime import date

import pytest
from sqlalchemy import inspect, select

from resident_app.extensions import db
from resident_app.models import SavedResult
from resident_app.services.factors import load_factor_set, read_factor_csv
from resident_app.services.defaults import DEFAULT_FACTOR_FILE

from ..conftest import calculator_form, csrf_token

JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}


def total_kg(html: str) -> str:
    match = re.search(r'id="total-kg">([^<]+)<', html)
    assert match, "no total on the page"
    return match.group(1)


def remainder_kg(html: str) -> str:
    return re.search(r'id="remainder-kg">([^<]+)<', html).group(1)


def test_empty_form_page(client):
    page = client.get("/calculator", headers=JA)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="ja">' in html
    assert 'id="f-electricity"' in html and 'name="electricity_unit"' in html
    assert 'id="total-kg"' not in html


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/calculator", data=calculator_form(electricity="300"))
    assert response.status_code == 400
    assert 'id="total-kg"' not in response.get_data(as_text=True)


def test_full_page_result(post_calculator):
    response = post_calculator(electricity="300", city_gas="20", household_size="3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html
    assert total_kg(html) == "2,053"            # 1,522.8 + 530.4 kg
    assert 'data-chart="breakdown"' in html and 'data-chart="comparison"' in html
    assert "<table" in html and "3,440" in html  # the 3-person national home average
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_gets_the_partial_with_out_of_band_errors(post_calculator):
    response = post_calculator(headers={"HX-Request": "true"}, electricity="300", water="abc")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith("{#") is False
    assert html.strip().startswith('<div id="result"')
    assert 'id="error-water" class="field-error" hx-swap-oob="true">' in html
    assert re.search(r'id="error-water"[^>]*>[^<]+<', html), "the water error travels out of band"
    assert re.search(r'id="error-electricity"[^>]*></span>', html), "a fixed field's error is cleared"
    assert total_kg(html) == "1,523"
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_whole_page(post_calculator):
    response = post_calculator(headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
                               electricity="300")
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize("field, value, message_en", [
    ("electricity", "abc", "Enter a number"),
    ("electricity", "-5", "negative"),
    ("electricity", "20001", "at most 20,000 kWh"),
    ("city_gas", "1,000,000", "at most 2,000 m³"),
    ("water", "1e999", "Enter a number"),  # digits only: no exponent notation
    ("water", "፩", "Enter a number"),      # an Ethiopic digit: isdigit() but not a number we read
    ("kerosene", "NaN", "Enter a number"),
])
def test_bad_input_gets_a_message_beside_the_field(client, field, value, message_en):
    form = calculator_form(**{"electricity": "300", field: value})
    form["csrf_token"] = csrf_token(client)
    response = client.post("/calculator", data=form, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    error = re.search(rf'id="error-{field}" class="field-error">([^<]*)<', html).group(1)
    assert message_en in error
    assert f'id="f-{field}"' in html and 'aria-invalid="true"' in html


def test_bad_household_and_period_never_500(client):
    form = calculator_form(electricity="300", household_size="lots", period="week", offset_percent="x")
    form["csrf_token"] = csrf_token(client)
    response = client.post("/calculator", data=form, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "whole number" in html and "month or a year" in html


def test_bill_in_yen_is_estimated_from_the_unit_price(post_calculator):
    by_bill = post_calculator(electricity="9300", electricity_unit="yen").get_data(as_text=True)
    by_kwh = post_calculator(electricity="300").get_data(as_text=True)
    assert total_kg(by_bill) == total_kg(by_kwh) == "1,523"  # ¥9,300 / ¥31 per kWh = 300 kWh
    assert 'class="note"' in by_bill and 'class="note"' not in by_kwh


def test_bill_bound_is_in_yen(client):
    form = calculator_form(city_gas="600000", city_gas_unit="yen")
    form["csrf_token"] = csrf_token(client)
    html = client.post("/calculator", data=form, headers=EN).get_data(as_text=True)
    assert "at most 500,000 yen" in html


def test_ticking_actions_changes_what_remains(post_calculator):
    before = post_calculator(electricity="300", city_gas="20").get_data(as_text=True)
    after = post_calculator(electricity="300", city_gas="20", action=["ac_cool_28", "shower_1min"])
    html = after.get_data(as_text=True)
    assert remainder_kg(before) == "2,053"
    # 2,053,200 - 12,792 - 28,244 = 2,012,164 g
    assert remainder_kg(html) == "2,012"
    assert 'id="action-ac_cool_28" name="action" value="ac_cool_28" checked' in html


def test_unknown_actions_are_ignored(post_calculator):
    html = post_calculator(electricity="300", action=["<script>", "nope"]).get_data(as_text=True)
    assert remainder_kg(html) == "1,523"


def test_actions_for_unused_sources_are_not_offered(post_calculator):
    html = post_calculator(electricity="300").get_data(as_text=True)
    assert 'id="action-ac_cool_28"' in html
    assert 'id="action-eco_fuwari"' not in html and 'id="action-shower_1min"' not in html


@pytest.mark.parametrize("percent, kg, yen_en", [("100", "1,523", "¥15,228"), ("50", "761", "¥7,614"),
                                                  ("10", "152", "¥1,523")])
def test_offset_quote_at_the_current_rate(client, percent, kg, yen_en):
    form = calculator_form(electricity="300", offset_percent=percent)
    form["csrf_token"] = csrf_token(client)
    html = client.post("/calculator", data=form, headers=EN).get_data(as_text=True)
    assert f"Offsetting {percent}% of what remains ({kg} kg) costs {yen_en} a year" in html
    assert "¥10,000 per tonne" in html


def test_yen_in_japanese(post_calculator, client):
    form = calculator_form(electricity="300")
    form["csrf_token"] = csrf_token(client)
    html = client.post("/calculator", data=form, headers=JA).get_data(as_text=True)
    assert "15,228円" in html and "10,000円" in html


def test_save_share_and_delete(client, app):
    form = calculator_form(electricity="300", city_gas="20", action=["ac_cool_28"], offset_percent="50")
    form["csrf_token"] = csrf_token(client)
    saved = client.post("/calculator/save", data=form)
    assert saved.status_code == 303
    link = saved.headers["Location"]
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 24
    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert total_kg(html) == "2,053" and remainder_kg(html) == "2,040"
    assert 'value="300"' in html and "checked" in html
    with app.app_context():
        row = db.session.scalar(select(SavedResult))
        assert row.total_g == 2_053_200 and row.remainder_g == 2_040_408
        assert row.actions == ["ac_cool_28"] and row.offset_percent == 50
        columns = {c["name"] for c in inspect(db.engine).get_columns("saved_results")}
    assert not columns & {"name", "email", "ip", "ip_address", "user_agent", "remote_addr"}
    delete = client.post(f"/r/{token}/delete", data={"csrf_token": csrf_token(client, link)})
    assert delete.status_code == 303
    assert client.get(link).status_code == 404
    again = client.post(f"/r/{token}/delete", data={"csrf_token": csrf_token(client)})
    assert again.status_code == 303


def test_delete_needs_csrf(client):
    form = calculator_form(electricity="300")
    form["csrf_token"] = csrf_token(client)
    link = client.post("/calculator/save", data=form).headers["Location"]
    token = link.rsplit("/", 1)[1]
    assert client.post(f"/r/{token}/delete").status_code == 400
    assert client.get(link).status_code == 200


def test_saving_nothing_is_refused_with_a_message(client):
    form = calculator_form()
    form["csrf_token"] = csrf_token(client)
    response = client.post("/calculator/save", data=form, headers=EN)
    assert response.status_code == 422
    assert "Enter at least one amount" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", ["nope", "x" * 200, "../../etc"])
def test_unknown_saved_link_is_404(client, token):
    assert client.get(f"/r/{token}").status_code == 404


def test_a_new_factor_set_never_changes_a_saved_result(client, app, tmp_path):
    form = calculator_form(electricity="300")
    form["csrf_token"] = csrf_token(client)
    link = client.post("/calculator/save", data=form).headers["Location"]
    newer = tmp_path / "fy2027.csv"
    text = DEFAULT_FACTOR_FILE.read_text(encoding="utf-8").replace("kWh,0.423,", "kWh,0.5,")
    newer.write_text(text, encoding="utf-8")
    with app.app_context():
        load_factor_set(read_factor_csv(newer), name="Tokyo FY2027", fiscal_year="FY2027",
                        effective_from=date(2027, 4, 1), activate=True, actor="test")
    assert total_kg(client.get(link).get_data(as_text=True)) == "1,523"   # 0.423 as saved
    form["csrf_token"] = csrf_token(client)
    assert total_kg(client.post("/calculator", data=form).get_data(as_text=True)) == "1,800"  # 0.5 now


def test_the_remainder_links_to_the_household_offset(client):
    form = calculator_form(electricity="300", offset_percent="50")
    form["csrf_token"] = csrf_token(client)
    html = client.post("/calculator", data=form, headers=EN).get_data(as_text=True)
    assert 'href="/a/household?amount=7614"' in html and "Offset it: pay ¥7,614" in html
    landing = client.get("/a/household?amount=7614").get_data(as_text=True)
    assert 'value="7614"' in landing


def test_a_tiny_remainder_is_raised_to_the_smallest_payment(client):
    form = calculator_form(water="1", offset_percent="10")
    form["csrf_token"] = csrf_token(client)
    html = client.post("/calculator", data=form, headers=EN).get_data(as_text=True)
    assert 'href="/a/household?amount=100"' in html and "adjusted" in html

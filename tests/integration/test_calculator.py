"""The calculator through the Flask client: full page, htmx partial, errors, save/share/delete."""
import hashlib
import re
from datetime import date
from decimal import Decimal

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
    assert "<table" in html and "5,131" in html  # the 3-person average: 5,131 kWh a year
    assert 'role="status" aria-live="polite"' in html  # one live region, there from the first paint
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_gets_out_of_band_swaps_only(post_calculator):
    response = post_calculator(headers={"HX-Request": "true"}, electricity="300", water="abc")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="error-water" class="field-error" hx-swap-oob="true">' in html
    assert re.search(r'id="error-water"[^>]*>[^<]+<', html), "the water error travels out of band"
    assert re.search(r'id="error-electricity"[^>]*></span>', html), "a fixed field's error is cleared"
    # no layout known yet: the whole result comes, as an out-of-band swap of #result
    assert '<div id="result" class="result" hx-swap-oob="true">' in html
    assert total_kg(html) == "1,523"
    assert "HX-Request" in response.headers["Vary"]


def test_a_keystroke_sends_only_the_figures_while_the_structure_stays(post_calculator):
    first = post_calculator(headers={"HX-Request": "true"}, electricity="300", city_gas="20")
    layout = re.search(r'name="result_layout" value="([^"]+)"', first.get_data(as_text=True)).group(1)
    second = post_calculator(headers={"HX-Request": "true"}, electricity="300", city_gas="20", result_layout=layout,
                             action=["cooling_setpoint"], offset_percent="50")
    html = second.get_data(as_text=True)
    assert 'id="result" ' not in html and 'id="reduce"' not in html  # the actions list stays in the page
    assert 'type="checkbox"' not in html                            # no control is replaced under the cursor
    assert 'id="saving-cooling_setpoint" hx-swap-oob="true"' in html
    assert '<div id="result-summary" hx-swap-oob="true">' in html and 'id="result-remainder"' in html
    assert 'id="result-announcement" hx-swap-oob="innerHTML"' in html
    assert len(second.data) <= 12 * 1024, len(second.data)
    new_source = post_calculator(headers={"HX-Request": "true"}, electricity="300", city_gas="20", gasoline="40",
                                 result_layout=layout).get_data(as_text=True)
    assert 'id="result" class="result" hx-swap-oob="true"' in new_source and 'id="action-eco_start"' in new_source


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


def test_a_bill_in_yen_is_read_through_the_tariff_and_shown_beside_the_field(post_calculator):
    by_bill = post_calculator(electricity="10000", electricity_unit="yen", headers=EN).get_data(as_text=True)
    # TEPCO Juryo Dento B, 30 A: 935.25 basic, 120 kWh at 29.80 + 4.18 (FY2026 surcharge), the rest at 36.40 + 4.18
    assert total_kg(by_bill) == "1,233"  # 242.9 kWh a month, not 10,000 / 31 = 323 kWh
    estimate = re.search(r'id="estimate-electricity" class="estimate">([^<]+)<', by_bill).group(1)
    assert "242.9 kWh a month" in estimate and "Juryo Dento B" in estimate and "April 1, 2024" in estimate
    by_kwh = post_calculator(electricity="300", headers=EN).get_data(as_text=True)
    assert re.search(r'id="estimate-electricity" class="estimate"></p>', by_kwh)
    bigger = post_calculator(electricity="10000", electricity_unit="yen", contract_ampere="60").get_data(as_text=True)
    assert total_kg(bigger) < total_kg(by_bill)  # a bigger contract: more basic charge, fewer kWh


def test_a_gas_bill_picks_the_tokyo_gas_table(post_calculator):
    html = post_calculator(city_gas="5000", city_gas_unit="yen", headers=EN).get_data(as_text=True)
    estimate = re.search(r'id="estimate-city_gas" class="estimate">([^<]+)<', html).group(1)
    assert "30.2 m³ a month" in estimate and "(B)" in estimate


@pytest.mark.parametrize("field, value, unit, message", [
    ("electricity", "500", "yen", "less than the basic charge of ¥935 for 30 A"),
    ("city_gas", "300", "yen", "less than the smallest basic charge (¥759)"),
])
def test_a_bill_below_the_basic_charge_is_a_field_error(post_calculator, field, value, unit, message):
    html = post_calculator(**{field: value, f"{field}_unit": unit}, headers=EN).get_data(as_text=True)
    assert message in re.search(rf'id="error-{field}" class="field-error">([^<]*)<', html).group(1)


@pytest.mark.parametrize("field, value", [("contract_ampere", "25"), ("electricity_menu", "nope"),
                                          ("municipality", "999999")])
def test_unknown_choices_are_field_errors_not_500s(post_calculator, field, value):
    html = post_calculator(electricity="300", **{field: value}, headers=EN).get_data(as_text=True)
    assert re.search(rf'id="error-{field}" class="field-error">[^<]+<', html)
    assert total_kg(html) == "1,523"


def test_a_renewable_menu_puts_electricity_at_zero(post_calculator):
    html = post_calculator(electricity="300", city_gas="20", electricity_menu="renewable_100",
                           headers=EN).get_data(as_text=True)
    assert total_kg(html) == "530"  # city gas only
    assert 'id="action-renewable_menu"' not in html
    assert "0 kg-CO2 per kWh" in html


def test_bill_bound_is_in_yen(client):
    form = calculator_form(city_gas="600000", city_gas_unit="yen")
    form["csrf_token"] = csrf_token(client)
    html = client.post("/calculator", data=form, headers=EN).get_data(as_text=True)
    assert "at most 500,000 yen" in html


def test_ticking_actions_changes_what_remains(post_calculator):
    before = post_calculator(electricity="300", city_gas="20").get_data(as_text=True)
    after = post_calculator(electricity="300", city_gas="20", action=["cooling_setpoint", "shower_1min"])
    html = after.get_data(as_text=True)
    assert remainder_kg(before) == "2,053"
    # the shower first (the larger saving): 23.44 m³ x 2.21 = 51.8 kg; then 11 % of 3,600 kWh is cooling,
    # 10 % of it x 0.423 = 16.8 kg: 2,053.2 - 51.8 - 16.8 = 1,984.6 kg
    assert remainder_kg(html) == "1,985"
    assert 'id="action-cooling_setpoint" name="action" value="cooling_setpoint" checked' in html


def test_unknown_actions_are_ignored(post_calculator):
    html = post_calculator(electricity="300", action=["<script>", "nope"]).get_data(as_text=True)
    assert remainder_kg(html) == "1,523"


def test_actions_for_unused_sources_are_not_offered(post_calculator):
    html = post_calculator(electricity="300").get_data(as_text=True)
    assert 'id="action-cooling_setpoint"' in html
    assert 'id="action-eco_start"' not in html and 'id="action-idling_stop"' not in html
    car = post_calculator(gasoline="40").get_data(as_text=True)
    assert 'id="action-eco_start"' in car and 'id="action-fridge_setting"' not in car


def test_the_top_actions_come_first_grouped_by_end_use_and_the_rest_behind_show_all(post_calculator):
    html = post_calculator(electricity="300", city_gas="20", gasoline="40", headers=EN).get_data(as_text=True)
    top, rest = html.split('class="more-actions"', 1)
    assert top.count('name="action"') == 5 and rest.count('name="action"') > 5
    assert '<h3 class="action-group-title">Car</h3>' in html
    # One Tab stop per action: the sources of all of them sit in one disclosure after the list,
    # each under the action's own name, in the list's order.
    assert html.count('<details class="action-sources" id="action-sources">') == 1 and "<summary>Sources</summary>" not in html
    sources = html.split('<details class="action-sources" id="action-sources">', 1)[1].split("</details>", 1)[0]
    listed = re.findall(r"<dt>([^<]+)</dt>", sources)
    shown = re.findall(r'<span class="action-label">([^<]+)</span>', html)
    assert listed == shown and len(set(listed)) == len(listed) == html.count('name="action"')
    assert "[secondary]" not in html and "verify" not in html.lower()


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
    form = calculator_form(electricity="300", city_gas="20", action=["cooling_setpoint"], offset_percent="50",
                           electricity_menu="tepco_ep_standard", municipality="131121")
    form["csrf_token"] = csrf_token(client)
    saved = client.post("/calculator/save", data=form)
    assert saved.status_code == 303
    link = saved.headers["Location"]
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 24
    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # TEPCO EP's 0.421: 300 x 12 x 0.421 + 530.4 = 2,046.0 kg; cooling 39.6 kWh x 0.421 = 16.7 kg
    assert total_kg(html) == "2,046" and remainder_kg(html) == "2,029"
    assert 'value="300"' in html and "checked" in html
    assert '<option value="131121" selected>' in html and '<option value="tepco_ep_standard" selected>' in html
    with app.app_context():
        row = db.session.scalar(select(SavedResult))
        assert row.total_g == 2_046_000 and row.remainder_g == 2_046_000 - 16_672
        assert row.actions == ["cooling_setpoint"] and row.offset_percent == 50
        assert row.electricity_menu == "tepco_ep_standard" and row.electricity_kg_co2_per_kwh == Decimal("0.421")
        assert row.municipality_code == "131121" and row.in_statistics is False
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


def save(client, **values) -> tuple[str, str]:
    """Save a result from `client`'s browser: its link and token."""
    form = calculator_form(electricity="300", **values)
    form["csrf_token"] = csrf_token(client)
    link = client.post("/calculator/save", data=form).headers["Location"]
    return link, link.rsplit("/", 1)[1]


def saved_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(SavedResult)).all())


@pytest.mark.parametrize("headers, message", [
    (EN, "Only the browser that saved this result can delete it. The link lets others see it, not delete it."),
    (JA, "この結果を削除できるのは、保存したブラウザだけです。リンクを受け取った人は見ることはできますが、削除はできません。")])
def test_someone_with_only_the_share_link_cannot_delete(client, app, headers, message):
    link, token = save(client)
    friend = app.test_client()  # the link was shared: a browser without the saver's cookies
    page = friend.get(link, headers=headers).get_data(as_text=True)
    assert total_kg(page) == "1,523" and f"/r/{token}/delete" not in page and "Delete this result" not in page
    refused = friend.post(f"/r/{token}/delete", data={"csrf_token": csrf_token(friend, link)}, headers=headers)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert message in html and total_kg(html) == "1,523"  # on the result's own page, beside what is kept
    assert friend.get(link).status_code == 200 and saved_count(app) == 1
    assert client.post(f"/r/{token}/delete", data={"csrf_token": csrf_token(client, link)}).status_code == 303
    assert saved_count(app) == 0


def test_the_saver_holds_the_delete_key_in_an_httponly_cookie_scoped_to_the_result(client, app):
    form = calculator_form(electricity="300")
    form["csrf_token"] = csrf_token(client)
    saved = client.post("/calculator/save", data=form)
    token = saved.headers["Location"].rsplit("/", 1)[1]
    cookie = next(c for c in saved.headers.getlist("Set-Cookie") if c.startswith("delete_key="))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "httponly" in attributes and attributes["samesite"] == "SameSite=Lax"
    assert attributes["path"] == f"Path=/r/{token}" and "secure" not in attributes  # plain http here
    assert int(attributes["max-age"].split("=")[1]) >= 365 * 24 * 3600
    key = cookie.split(";")[0].split("=", 1)[1]
    with app.app_context():
        row = db.session.scalar(select(SavedResult))
        assert row.delete_key_sha256 == hashlib.sha256(key.encode()).hexdigest()  # only its hash is kept
        assert key not in (row.token, row.delete_key_sha256) and len(key) >= 40
    page = client.get(saved.headers["Location"], headers=EN).get_data(as_text=True)
    assert f'action="/r/{token}/delete"' in page and "anyone you share the link with can only look" in page
    deleted = client.post(f"/r/{token}/delete", data={"csrf_token": csrf_token(client, f"/r/{token}")})
    assert deleted.status_code == 303 and saved_count(app) == 0
    assert any(c.startswith("delete_key=;") and f"Path=/r/{token}" in c
               for c in deleted.headers.getlist("Set-Cookie"))  # the key goes with the result


def test_the_delete_key_cookie_is_secure_over_https(app):
    browser = app.test_client()
    form = calculator_form(electricity="300")
    form["csrf_token"] = csrf_token(browser)
    saved = browser.post("/calculator/save", data=form, base_url="https://localhost",
                         headers={"Referer": "https://localhost/calculator"})  # Flask-WTF checks it on https
    assert saved.status_code == 303
    cookie = next(c for c in saved.headers.getlist("Set-Cookie") if c.startswith("delete_key="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_one_results_key_never_deletes_another(client, app):
    _, first = save(client)
    other_browser = app.test_client()
    second_link, second = save(other_browser, city_gas="20")
    key = client.get_cookie("delete_key", path=f"/r/{first}").value
    client.set_cookie("delete_key", key, path=f"/r/{second}")
    refused = client.post(f"/r/{second}/delete", data={"csrf_token": csrf_token(client)})
    assert refused.status_code == 403 and saved_count(app) == 2
    client.set_cookie("delete_key", "x" * 3000, path=f"/r/{second}")
    assert client.post(f"/r/{second}/delete", data={"csrf_token": csrf_token(client)}).status_code == 403


def test_a_result_saved_before_delete_keys_cannot_be_deleted_through_the_site(build_app):
    site = build_app(CONTACT_EMAIL="kankyo@city.example.jp")
    browser = site.test_client()
    link, token = save(browser)
    with site.app_context():  # as the migration leaves a result saved before it
        db.session.scalar(select(SavedResult)).delete_key_sha256 = None
        db.session.commit()
    page = browser.get(link, headers=EN).get_data(as_text=True)
    assert "Delete this result" not in page and "cannot be deleted from this site" in page
    assert "write to kankyo@city.example.jp with its link" in page
    refused = browser.post(f"/r/{token}/delete", data={"csrf_token": csrf_token(browser, link)}, headers=JA)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "このサイトからは削除できません" in html
    assert "kankyo@city.example.jp" in html and browser.get(link).status_code == 200


def test_deleting_a_result_that_is_gone_says_so(client):
    link, token = save(client)
    assert client.post(f"/r/{token}/delete", data={"csrf_token": csrf_token(client, link)}).status_code == 303
    again = client.post(f"/r/{token}/delete", data={"csrf_token": csrf_token(client)}, headers=EN,
                        follow_redirects=True)
    assert "That result was already deleted." in again.get_data(as_text=True)


def test_deleting_under_a_huge_token_sets_no_huge_cookie(client):
    # Found by Hypothesis: the answer cleared the key cookie on the path of whatever was asked for,
    # a 5,000-byte Set-Cookie header for a 5,000-character token (over browsers' and proxies' limits).
    client.set_cookie("delete_key", "k", path="/r/" + "x" * 3000)
    response = client.post("/r/" + "x" * 3000 + "/delete", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("delete_key=")]


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


def test_a_result_saved_with_the_old_fixed_actions_keeps_its_choices(client, app):
    form = calculator_form(electricity="300", city_gas="20")
    form["csrf_token"] = csrf_token(client)
    link = client.post("/calculator/save", data=form).headers["Location"]
    with app.app_context():
        row = db.session.scalar(select(SavedResult))
        row.actions = ["ac_cool_28", "eco_fuwari"]  # keys of the first release's fixed actions
        db.session.commit()
    html = client.get(link).get_data(as_text=True)
    assert 'value="cooling_setpoint" checked' in html and remainder_kg(html) == "2,036"

"""The calculator's staff settings: tariffs and monthly adjustments, electricity menus, regional
averages from e-Stat, and the municipal statistics export."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import AuditEntry, ElectricityMenu, Role, SavedResult, Tariff, TariffAdjustment
from resident_app.services.calculations import today_in_tokyo
from resident_app.services.tariffs import electricity_tariff_on

from ..conftest import calculator_form, csrf_token
from .factories import login, make_user, token_from

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}
STAFF = "staff@city.example.jp"


@pytest.fixture
def staff(app, client):
    make_user(app, STAFF, role=Role.STAFF, organisation="環境政策課")
    assert login(client, STAFF).status_code == 303
    return client


def post(client, url: str, data: dict, **kwargs):
    return client.post(url, data={**data, "csrf_token": token_from(client, "/staff/settings")}, headers=EN, **kwargs)


def test_the_settings_page_shows_tariffs_menus_averages_and_working_notes(staff):
    html = staff.get("/staff/settings", headers=EN).get_data(as_text=True)
    for anchor in ("tariffs", "adjustments", "menus", "averages", "action-models", "municipal-stats"):
        assert f'id="{anchor}"' in html
    assert "Portal: 30.24 kWh/yr" in html  # each action's reference case, for staff
    assert "Juryo Dento B" in html and "1870.5" in html  # the 60 A basic charge
    assert "Working note:" in html and "verify" in html.lower()  # notes are for staff
    assert 'name="basic_30" type="text" value="935.25"' in html


@pytest.mark.parametrize("url", ["/staff/settings/tariffs/electricity", "/staff/settings/tariff-adjustments",
                                 "/staff/settings/electricity-menus", "/staff/settings/averages",
                                 "/staff/settings/averages/use"])
def test_changes_need_a_staff_account_and_a_csrf_token(app, client, url):
    assert client.post(url, data={}).status_code in (302, 400)
    make_user(app, "npo@npo.example.jp", role=Role.ORGANISER)
    login(client, "npo@npo.example.jp")
    assert client.post(url, data={"csrf_token": token_from(client, "/organiser/")}).status_code == 403


def electricity_form(**overrides) -> dict:
    form = {f"basic_{a}": v for a, v in ((10, "320"), (15, "480"), (20, "640"), (30, "960"), (40, "1280"),
                                         (50, "1600"), (60, "1920"))}
    form.update(tier_1="30.5", tier_2="37.1", tier_3="41.2", tariff_effective_from="2026-10-01",
                tariff_confidence="P", tariff_cite_publisher_ja="東京電力エナジーパートナー",
                tariff_cite_publisher_en="TEPCO Energy Partner", tariff_cite_title_ja="従量電灯B 料金表",
                tariff_cite_title_en="Juryo Dento B prices", tariff_cite_year="2026",
                tariff_cite_url="https://www.tepco.co.jp/ep/", tariff_staff_note="checked on tepco.co.jp")
    form.update(overrides)
    return form


def test_new_electricity_prices_apply_from_their_date_and_read_bills(app, staff, client):
    response = post(staff, "/staff/settings/tariffs/electricity", electricity_form())
    assert response.status_code == 303
    with app.app_context():
        tariff = electricity_tariff_on(date(2026, 10, 1))
        assert tariff.basic_yen(30) == Decimal("960") and tariff.tiers[1].yen_per_kwh == Decimal("37.1")
        assert electricity_tariff_on(date(2026, 9, 30)).basic_yen(30) == Decimal("935.25")
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tariff.add")).actor == STAFF


@pytest.mark.parametrize("field, value, error_field", [
    ("tier_2", "abc", "tier_2"), ("basic_30", "-5", "basic_30"), ("tariff_effective_from", "", "tariff_effective_from"),
    ("tariff_cite_title_en", "", "tariff_cite_title_ja"), ("tariff_effective_from", "2024-04-01", "tariff_effective_from"),
])
def test_bad_electricity_prices_are_refused_beside_the_field(staff, field, value, error_field):
    response = post(staff, "/staff/settings/tariffs/electricity", electricity_form(**{field: value}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="f-{error_field}"' in html and 'aria-invalid="true"' in html
    assert f'<span id="error-{error_field}" class="field-error"></span>' not in html


def test_the_months_fuel_cost_adjustment_changes_what_a_bill_buys(app, staff, client):
    def kwh_for_10000():
        form = calculator_form(electricity="10000", electricity_unit="yen")
        form["csrf_token"] = csrf_token(client)
        html = client.post("/api/v1/footprint", json={"period": "month", "household_size": 2,
                                                       "electricity_bill_yen": 10000})
        return html.get_json()["estimated_quantities"]["electricity_kwh_per_year"]

    before = kwh_for_10000()
    month = today_in_tokyo().strftime("%Y-%m")
    response = post(staff, "/staff/settings/tariff-adjustments",
                    {"adj_kind": "fuel_cost", "adj_month": month, "adj_value": "-3.5", "adj_note": "TEPCO notice"})
    assert response.status_code == 303
    assert kwh_for_10000() > before  # a cheaper kWh: the same bill bought more
    again = post(staff, "/staff/settings/tariff-adjustments",
                 {"adj_kind": "fuel_cost", "adj_month": month, "adj_value": "1.25"})
    assert again.status_code == 303
    with app.app_context():
        rows = db.session.scalars(select(TariffAdjustment).where(TariffAdjustment.kind == "fuel_cost")).all()
        assert [r.yen_per_unit for r in rows] == [Decimal("1.25")]  # the same month is replaced, and audited


@pytest.mark.parametrize("data, field", [
    ({"adj_kind": "fuel_cost", "adj_month": "2026-13", "adj_value": "1"}, "adj_month"),
    ({"adj_kind": "fuel_cost", "adj_month": "2026-11", "adj_value": "lots"}, "adj_value"),
    ({"adj_kind": "fuel_cost", "adj_month": "2026-11", "adj_value": "150"}, "adj_value"),
    ({"adj_kind": "nonsense", "adj_month": "2026-11", "adj_value": "1"}, "adj_kind"),
])
def test_bad_adjustments_are_refused(staff, data, field):
    response = post(staff, "/staff/settings/tariff-adjustments", data)
    assert response.status_code == 422
    assert f'<span id="error-{field}" class="field-error"></span>' not in response.get_data(as_text=True)


def menu_form(**overrides) -> dict:
    form = {"menu_key": "tokyo_gas_standard", "retailer_ja": "東京ガス", "retailer_en": "Tokyo Gas",
            "menu_ja": "ずっとも電気", "menu_en": "Zuttomo Denki", "factor": "0.398", "menu_fiscal_year": "FY2024",
            "menu_confidence": "P", "menu_cite_publisher_ja": "環境省", "menu_cite_publisher_en": "MOE",
            "menu_cite_title_ja": "電気事業者別排出係数", "menu_cite_title_en": "Emission factors by supplier",
            "menu_cite_year": "FY2024", "menu_cite_url": "", "menu_staff_note": "from the MOE list p.12",
            "menu_listed": "1"}
    form.update(overrides)
    return form


def test_staff_add_a_menu_residents_can_choose_and_hide_it_later(app, staff, client):
    assert post(staff, "/staff/settings/electricity-menus", menu_form()).status_code == 303
    menus = client.get("/api/v1/electricity-menus").get_json()
    assert {"key": "tokyo_gas_standard", "kg_co2_per_kwh": "0.398"}.items() <= next(
        m for m in menus if m["key"] == "tokyo_gas_standard").items()
    assert post(staff, "/staff/settings/electricity-menus", menu_form(menu_listed="")).status_code == 303
    assert "tokyo_gas_standard" not in {m["key"] for m in client.get("/api/v1/electricity-menus").get_json()}


@pytest.mark.parametrize("field, value, error", [
    ("menu_key", "Tokyo Gas!", "menu_key"), ("factor", "2.5", "factor"), ("factor", "", "factor"),
    ("menu_cite_title_ja", "", "menu_cite_title_ja"), ("retailer_en", "", "retailer_ja"),
])
def test_a_menu_is_checked(staff, field, value, error):
    response = post(staff, "/staff/settings/electricity-menus", menu_form(**{field: value}))
    assert response.status_code == 422
    assert f'<span id="error-{error}" class="field-error"></span>' not in response.get_data(as_text=True)


ESTAT = """\ufeff"統計表","家庭部門のCO2排出実態統計調査"
"地方別 世帯人数別 世帯当たり年間エネルギー種別消費量"
"地方","世帯人数","エネルギー種別","単位","value"
"関東甲信","2人","電気","kWh","3,500"
"関東甲信","2人","都市ガス","m3","260"
"関東甲信","全体","灯油","L","60"
"関東甲信","2人","灯油","t-CO2","0.10"
"関東甲信","全体","灯油","t-CO2","0.15"
"北海道","2人","電気","kWh","4,800"
"関東甲信","2人","合計","GJ","30"
"""


def test_an_estat_table_for_kanto_koshin_is_read_and_used_for_comparisons(app, staff, client):
    response = post(staff, "/staff/settings/averages", {
        "avg_region": "kanto_koshin", "avg_filter": "関東甲信", "avg_name": "MOE FY2023 関東甲信", "avg_year": "FY2023",
        "avg_activate": "1", "avg_file": (io.BytesIO(ESTAT.encode("utf-8")), "estat.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    body = client.post("/api/v1/footprint", json={"period": "year", "household_size": 2,
                                                  "electricity_kwh": 3000}).get_json()
    averages = body["comparison"]["averages"]
    assert body["comparison"]["region"] == "kanto_koshin"
    assert averages["electricity_kwh_per_year"] == 3500 and averages["city_gas_m3_per_year"] == 260
    assert averages["kerosene_l_per_year"] == 40.0  # 60 L x 0.10 / 0.15
    assert averages["lpg_m3_per_year"] == 27.0       # not in the file: the national figure
    page = client.get("/calculator")  # the page says which comparison it uses
    post(staff, "/staff/settings/averages/use", {"avg_set": "national"})
    assert client.post("/api/v1/footprint", json={"period": "year", "household_size": 2}).get_json()[
        "comparison"]["region"] == "national"
    assert page.status_code == 200


@pytest.mark.parametrize("content, message", [
    ("just,some,columns\n1,2,3\n", "No header line"),
    ('"世帯人数","エネルギー種別","単位","value"\n"2人","電気","円","100"\n', "no rows we can use"),
])
def test_a_table_we_cannot_read_is_refused(staff, content, message):
    response = post(staff, "/staff/settings/averages", {
        "avg_region": "kanto_koshin", "avg_name": "x", "avg_year": "FY2023",
        "avg_file": (io.BytesIO(content.encode()), "x.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def save_with_statistics(client, code: str, size: str, electricity: str) -> str:
    form = calculator_form(electricity=electricity, household_size=size, municipality=code, in_statistics="1")
    form["csrf_token"] = csrf_token(client)
    response = client.post("/calculator/save", data=form)
    assert response.status_code == 303
    return response.headers["Location"]


def test_municipal_statistics_show_quartiles_only_from_ten_results_and_export(app, staff, client):
    for n in range(10):
        save_with_statistics(client, "131121", "2", str(200 + 10 * n))   # Setagaya, 2 people: ten results
    for n in range(3):
        save_with_statistics(client, "132012", "3", str(300 + n))       # Hachioji: three results
    form = calculator_form(electricity="500", household_size="2", municipality="131121")  # not ticked
    form["csrf_token"] = csrf_token(client)
    client.post("/calculator/save", data=form)
    html = client.get("/statistics/municipalities", headers=EN).get_data(as_text=True)
    setagaya = html[html.index("Setagaya City"):html.index("Setagaya City") + 600]
    assert ">10<" in setagaya and "2 people: <strong>1,244</strong> (1,129–1,358, 10 results)" in setagaya
    hachioji = html[html.index("Hachioji City"):html.index("Hachioji City") + 400]
    assert ">3<" in hachioji and "Fewer than 10" in hachioji and "<strong>" not in hachioji
    csv_text = staff.get("/staff/settings/municipal-statistics.csv").get_data().decode("utf-8-sig")
    assert "131121,世田谷区,Setagaya City,ku,10,2,10,1129,1244,1358" in csv_text
    assert "132012,八王子市,Hachioji City,tama,3,3,3,,," in csv_text
    with app.app_context():
        assert db.session.scalar(select(SavedResult).where(SavedResult.municipality_code == "132012")).household_size == 3


def test_deleting_a_result_removes_it_from_the_statistics(app, client):
    location = save_with_statistics(client, "131016", "1", "100")
    token = location.rsplit("/", 1)[1]
    assert ">1<" in client.get("/statistics/municipalities", headers=EN).get_data(as_text=True).split("Chiyoda City")[1][:200]
    client.post(f"/r/{token}/delete", data={"csrf_token": csrf_token(client, location)})
    with app.app_context():
        assert db.session.scalar(select(SavedResult)) is None


def test_the_statistics_export_is_staff_only(app, client):
    assert client.get("/staff/settings/municipal-statistics.csv").status_code == 302


@pytest.mark.parametrize("choice", ["99999999999999999999", "²", "", "-1", "1.5"])
def test_choosing_an_average_table_that_is_no_id_says_so(staff, choice):
    # 99999999999999999999 reached the database as an id past its integer range: a 500 (found by
    # tests/integration/test_hostile_events_and_settings.py).
    response = post(staff, "/staff/settings/averages/use", {"avg_set": choice}, follow_redirects=True)
    assert response.status_code == 200 and "There is no such table." in response.get_data(as_text=True)

"""Offset events through the Flask client: the forms, the estimate, the add-on made from it, the
actual figures, the money (top-up through the sandbox, staff's bank transfer), the report, the
public page, the transparency list, who may see what, and event factor sets per fiscal year.

The festival: 200 participants, 12 staff, one day, 800 kWh, rail 60 % at 18 km, car 25 % at 9 km,
walking 15 %, staff by car at 15 km, 20 hotel nights, 12 kg of paper, waste left out. At the
default factors that is 888,780 g, 4,444 g per participant, a 50 yen surcharge at 10,000 yen/t."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from resident_app.extensions import db
from resident_app.models import (AddOn, AuditEntry, Channel, Contribution, ContributionStatus, CreditType, Event,
                                 Registry, Role, User)
from resident_app.services.batches import close_batch, confirm_batch
from resident_app.services.days import tokyo_today
from resident_app.services.invalidations import InvalidationData, record_invalidation
from resident_app.services.purchases import PurchaseData, record_purchase
from resident_app.services.uploads import store_upload
from resident_app.services.event_survey import record_survey_answer

from .factories import addon_form, login, make_contribution, make_user, token_from
from .pool_data import PDF
from .test_payments import pay, session_id

EN = {"Accept-Language": "en"}
FACTS = {"name_ja": "みどり台 区民まつり", "name_en": "Midoridai Ward Festival", "starts_on": "2027-05-03",
         "ends_on": "2027-05-03", "venue": "みどり台公園", "municipality_code": "131121",
         "expected_participants": "200", "expected_staff": "12", "purpose_ja": "", "purpose_en": ""}
BOUNDARY = ("venue_electricity", "venue_gas", "participant_travel", "staff_travel", "lodging", "paper")
FESTIVAL = {"participants": "200", "staff": "12", "venue_electricity_kwh": "800", "pt_method": "shares",
            "pt_share_rail": "60", "pt_km_rail": "18", "pt_share_car": "25", "pt_km_car": "9",
            "pt_share_walk": "15", "pt_km_walk": "1", "st_share_car": "100", "st_km_car": "15",
            "lodging_person_nights": "20", "paper_kg": "12", "waste_kg": "40", "surcharge_share_percent": "100",
            **{f"include_{item}": "1" for item in BOUNDARY}}


def create_event(client, **facts) -> int:
    response = client.post("/organiser/events/new",
                           data={**FACTS, **facts, "csrf_token": token_from(client, "/organiser/events/new")})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/organiser/events/(\d+)/estimate", response.headers["Location"]).group(1))


def save_estimate(client, event_id: int, **changes):
    url = f"/organiser/events/{event_id}/estimate"
    return client.post(url, data={**FESTIVAL, **changes, "csrf_token": token_from(client, url)})


@pytest.fixture
def organiser(app, client):
    make_user(app)
    assert login(client).status_code == 303
    return client


@pytest.fixture
def festival(organiser) -> int:
    event_id = create_event(organiser)
    assert save_estimate(organiser, event_id).status_code == 303
    return event_id


def event_row(app, event_id: int) -> Event:
    with app.app_context():
        event = db.session.get(Event, event_id)
        db.session.expunge(event)
        return event


def text(response) -> str:
    return response.get_data(as_text=True)


# --- creating the event and its estimate ---------------------------------------------------------

def test_the_festival_is_estimated_and_shown_with_its_factors_and_rounding(app, organiser, festival):
    page = text(organiser.get(f"/organiser/events/{festival}"))
    assert 'id="estimate-total" data-grams="888780"' in page
    assert 'data-grams="4444"' in page and 'data-yen="50"' in page
    assert re.search(r'data-item="waste" class="excluded"', page)                 # left out, and says so
    assert "0.017" in page and "1.62" in page and "日本製紙連合会" in page           # factors with sources
    assert "10円単位に切り上げ" in page                                              # the rounding stated
    with app.app_context():
        event = db.session.get(Event, festival)
        assert event.estimate_inputs["exclude"] == ["waste"]
        assert (event.expected_participants, event.expected_staff, event.days) == (200, 12, 1)
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.estimate"))
        assert audit.after["total_g"] == 888_780 and audit.object_id == str(festival)


def test_the_estimate_page_without_javascript_saves_and_shows_the_result_in_english(organiser, festival):
    page = text(organiser.get(f"/organiser/events/{festival}/estimate", headers=EN))
    assert 'name="pt_share_rail"' in page and 'value="60"' in page         # the saved figures come back
    assert "Each item is computed exactly and rounded half up to a whole gram" in page
    assert 'data-grams="888780"' in page


def test_the_live_preview_is_a_fragment_and_saves_nothing(app, organiser, festival):
    url = f"/organiser/events/{festival}/estimate/preview"
    response = organiser.post(url, data={**FESTIVAL, "venue_electricity_kwh": "1000",
                                         "csrf_token": token_from(organiser, f"/organiser/events/{festival}/estimate")},
                              headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in text(response)
    assert 'data-grams="973380"' in text(response)                           # 200 kWh more: +84.6 kg
    assert event_row(app, festival).estimate_inputs["venue_electricity_kwh"] == "800"


@pytest.mark.parametrize("changes, field, message", [
    ({"pt_share_car": "20"}, "participant_travel", "合計が95"),
    ({"pt_km_car": "abc"}, "pt_km_car", "数字で"),
    ({"pt_km_rail": ""}, "pt_km_rail", "数を入力"),
    ({"participants": "0"}, "participants", "1以上"),
    ({"venue_electricity_kwh": "-5"}, "venue_electricity_kwh", "0以上"),
    ({"waste_kg": "99999999"}, "waste_kg", "上限"),
    ({"surcharge_share_percent": "150"}, "surcharge_share_percent", "1から100"),
    ({"pt_method": "origins", "pto_0_origin": "世田谷区", "pto_0_persons": "40"}, "pto_0_km", "数を入力"),
])
def test_estimate_errors_appear_beside_their_field_and_nothing_is_saved(app, organiser, festival, changes, field,
                                                                         message):
    response = save_estimate(organiser, festival, include_waste="1", **changes)
    assert response.status_code == 422
    error = re.search(rf'id="error-{field}" class="field-error"[^>]*>([^<]*)<', text(response))
    assert error and message in error.group(1), (field, error and error.group(1))
    assert event_row(app, festival).estimate_inputs["exclude"] == ["waste"]


def test_full_width_digits_and_an_origins_table_are_welcome(app, organiser, festival):
    response = save_estimate(organiser, festival, participants="１００", pt_method="origins",
                             pto_0_origin="世田谷区", pto_0_mode="rail", pto_0_persons="40", pto_0_km="12",
                             pto_1_mode="car", pto_1_persons="10", pto_1_km="5")
    assert response.status_code == 303
    event = event_row(app, festival)
    assert event.expected_participants == 100
    assert event.estimate_inputs["participant_travel"][0] == {"mode": "rail", "one_way_km": "12", "persons": 40,
                                                              "origin": "世田谷区"}
    page = text(organiser.get(f"/organiser/events/{festival}/estimate"))
    assert 'value="世田谷区"' in page and 'name="pt_method" value="origins" checked' in page


@pytest.mark.parametrize("changes, field", [
    ({"name_ja": ""}, "name_ja"),
    ({"ends_on": "2027-05-01"}, "ends_on"),
    ({"ends_on": "2027-07-01"}, "ends_on"),           # longer than 31 days
    ({"starts_on": "5月3日"}, "starts_on"),
    ({"expected_participants": "abc"}, "expected_participants"),
    ({"expected_participants": "0"}, "expected_participants"),
    ({"municipality_code": "999999"}, "municipality_code"),
])
def test_event_facts_are_checked_beside_each_field(organiser, changes, field):
    response = organiser.post("/organiser/events/new", data={**FACTS, **changes,
                                                             "csrf_token": token_from(organiser, "/organiser/events/new")})
    assert response.status_code == 422
    assert re.search(rf'id="error-{field}" class="field-error">[^<]+<', text(response)), field


def test_changing_the_dates_keeps_the_travel_days_in_step(app, organiser, festival):
    url = f"/organiser/events/{festival}/edit"
    response = organiser.post(url, data={**FACTS, "ends_on": "2027-05-04", "csrf_token": token_from(organiser, url)})
    assert response.status_code == 303
    assert event_row(app, festival).estimate_inputs["days"] == 2
    page = text(organiser.get(f"/organiser/events/{festival}"))
    assert 'data-grams="1119720"' in page                  # travel twice: 888,780 + 185,940 + 45,000


# --- the add-on made from the estimate -----------------------------------------------------------

def test_create_an_add_on_from_the_estimate_opens_the_form_filled_in_and_linked(app, organiser, festival):
    page = text(organiser.get(f"/organiser/addons/new?event={festival}"))
    assert re.search(r'name="unit_price_yen"[^>]*value="50"', page)
    assert f'name="event_id" value="{festival}"' in page and 'id="linked-event"' in page
    assert "みどり台 区民まつり" in page and "Midoridai Ward Festival" in page
    form = dict(re.findall(r'<input id="f-(\w+)" name="\w+" type="text" value="([^"]*)"', page))
    data = addon_form(title_ja=form["title_ja"], title_en=form["title_en"], unit_price_yen="50",
                      event_id=str(festival), csrf_token=token_from(organiser, "/organiser/addons/new"))
    response = organiser.post("/organiser/addons/new", data=data)
    assert response.status_code == 303
    with app.app_context():
        addon = db.session.scalar(select(AddOn).where(AddOn.event_id == festival))
        assert addon.unit_price_yen == 50 and not addon.is_event_topup
        make_contribution(app, addon.id, quantity=150)
    page = text(organiser.get(f"/organiser/events/{festival}"))
    assert "7,500円" in page                                         # 150 x 50 yen paid by participants


def test_an_add_on_cannot_be_linked_to_someone_elses_event(app, client, festival):
    make_user(app, "other@npo.example.jp", organisation="よその会")
    other = app.test_client()
    login(other, "other@npo.example.jp")
    data = addon_form(event_id=str(festival), csrf_token=token_from(other, "/organiser/addons/new"))
    response = other.post("/organiser/addons/new", data=data)
    assert response.status_code == 422 and "cannot be linked" in text(other.post(
        "/organiser/addons/new", data=data, headers=EN))
    assert other.get(f"/organiser/addons/new?event={festival}").status_code == 404


def test_without_an_estimate_the_add_on_link_goes_to_the_estimate(organiser):
    event_id = create_event(organiser)
    response = organiser.get(f"/organiser/addons/new?event={event_id}")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/events/{event_id}/estimate")


# --- who may see what ----------------------------------------------------------------------------

def test_events_are_the_organisers_own_and_staff_see_all(app, client, festival):
    urls = [f"/organiser/events/{festival}", f"/organiser/events/{festival}/estimate",
            f"/organiser/events/{festival}/actuals", f"/organiser/events/{festival}/report",
            f"/organiser/events/{festival}/edit", f"/organiser/events/{festival}/survey/qr.png"]
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/organiser/")})
    assert all(client.get(url).status_code == 302 for url in urls)             # signed out: log in first
    make_user(app, "other@npo.example.jp")
    login(client, "other@npo.example.jp")
    assert [client.get(url).status_code for url in urls] == [404] * len(urls)  # someone else's: not found
    assert "みどり台" not in text(client.get("/organiser/events"))
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/organiser/")})
    make_user(app, "staff@city.example.jp", role=Role.STAFF)
    login(client, "staff@city.example.jp")
    assert [client.get(url).status_code for url in urls] == [200] * len(urls)
    assert "みどり台 区民まつり" in text(client.get("/organiser/events"))


def test_only_staff_record_a_bank_transfer(organiser, festival):
    url = f"/organiser/events/{festival}/transfer"
    response = organiser.post(url, data={"transfer_amount_yen": "3000", "transfer_received_on": "2027-05-10",
                                         "csrf_token": token_from(organiser, f"/organiser/events/{festival}")})
    assert response.status_code == 403


# --- after the event -----------------------------------------------------------------------------

def enter_actuals(client, event_id: int, **values):
    url = f"/organiser/events/{event_id}/actuals"
    form = {"participants": "240", "staff": "12", "venue_electricity_kwh": "900", "lodging_person_nights": "18",
            "paper_kg": "10", "travel_source": "estimate", **values}
    return client.post(url, data={**form, "csrf_token": token_from(client, url)})


def test_actuals_sit_beside_the_estimate_and_keep_the_boundary(app, organiser, festival):
    page = text(organiser.get(f"/organiser/events/{festival}/actuals"))
    assert 'value="800"' in page and 'name="waste_kg"' not in page     # starts from the estimate; waste is out
    assert enter_actuals(organiser, festival).status_code == 303
    # 900 kWh 380.7 kg + travel 185.94 x 240/200 = 223.128 kg + staff 45 kg + 18 nights 270 kg + 10 kg paper 16.2 kg
    page = text(organiser.get(f"/organiser/events/{festival}"))
    assert re.search(r'id="compare-actual-total">935', page), re.search(r'compare-actual-total">[^<]*', page)
    assert re.search(r'id="compare-estimate-total">889', page)
    event = event_row(app, festival)
    assert event.actual_travel_source == "estimate" and event.actual_inputs["exclude"] == ["waste"]


def test_the_survey_replaces_the_travel_assumptions_with_its_sample_size(app, organiser, festival):
    with app.app_context():
        event = db.session.get(Event, festival)
        for mode, band in [("rail", "10-30"), ("rail", "10-30"), ("bus", "3-10"), ("walk", "0-1")]:
            record_survey_answer(event, mode=mode, distance_band=band, origin_code="")
        record_survey_answer(event, mode="car", distance_band="", origin_code="131091")   # origin only
    assert enter_actuals(organiser, festival, travel_source="survey").status_code == 303
    event = event_row(app, festival)
    assert (event.actual_travel_source, event.actual_survey_answers) == ("survey", 4)
    assert event.actual_inputs["participant_travel"] == [
        {"mode": "rail", "one_way_km": "20", "persons": 2}, {"mode": "bus", "one_way_km": "6.5", "persons": 1},
        {"mode": "walk", "one_way_km": "0.5", "persons": 1}]
    page = text(organiser.get(f"/organiser/events/{festival}", headers=EN))
    assert "travel survey, scaled to the actual attendance" in page and "Sample: 4 answers with a distance." in page


def test_the_survey_needs_answers_with_a_distance_before_it_can_be_used(organiser, festival):
    response = enter_actuals(organiser, festival, travel_source="survey")
    assert response.status_code == 422 and 'id="error-travel_source" class="field-error">' in text(response)


def test_actuals_need_the_estimate_first(organiser):
    event_id = create_event(organiser)
    response = organiser.get(f"/organiser/events/{event_id}/actuals")
    assert response.status_code == 303 and response.headers["Location"].endswith("/estimate")


@pytest.mark.parametrize("values, field", [({"participants": ""}, "participants"),
                                           ({"venue_electricity_kwh": "x"}, "venue_electricity_kwh"),
                                           ({"travel_source": "guess"}, "travel_source")])
def test_actual_errors_appear_beside_their_field(organiser, festival, values, field):
    response = enter_actuals(organiser, festival, **values)
    assert response.status_code == 422
    assert re.search(rf'id="error-{field}" class="field-error">[^<]+<', text(response)), field


# --- closing the gap -----------------------------------------------------------------------------

def test_the_organiser_pays_the_gap_through_the_same_checkout(app, organiser, festival):
    enter_actuals(organiser, festival)                     # actual total 935,028 g, nothing paid yet
    page = text(organiser.get(f"/organiser/events/{festival}"))
    assert 'id="offset-state" data-percent="0"' in page and "9,351円" in page
    response = organiser.post(f"/organiser/events/{festival}/topup",
                              data={"csrf_token": token_from(organiser, f"/organiser/events/{festival}")})
    assert response.status_code == 303 and "/pay/cs_" in response.headers["Location"]
    thanks = pay(response.headers["Location"])
    assert organiser.get(thanks).status_code == 303        # the success page fulfils it
    with app.app_context():
        row = db.session.scalar(select(Contribution).where(
            Contribution.stripe_session_id == session_id(response.headers["Location"])))
        assert (row.status, row.amount_yen, row.co2_g, row.addon.is_event_topup, row.addon.event_id) == \
            (ContributionStatus.PAID, 9_351, 935_100, True, festival)
    page = text(organiser.get(f"/organiser/events/{festival}"))
    assert 'data-percent="100"' in page and 'id="pay-gap"' not in page
    assert "みどり台 区民まつり" not in text(organiser.get("/organiser/"))   # the top-up is no add-on to edit
    with app.app_context():
        topup = db.session.scalar(select(AddOn).where(AddOn.is_event_topup.is_(True)))
    assert organiser.get(f"/organiser/addons/{topup.id}/edit").status_code == 404


def test_the_gap_is_paid_against_the_actual_figures(organiser, festival):
    url = f"/organiser/events/{festival}"
    response = organiser.post(f"{url}/topup", data={"csrf_token": token_from(organiser, url)})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{url}/actuals")


def test_a_bank_transfer_before_the_actual_figures_is_refused_with_a_message(app, client, organiser, festival):
    # Found by the hostile-input tests: the transfer form appears only once the actuals are in, so
    # its field errors had nowhere to show and staff got a 422 page that said nothing.
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/organiser/")})
    make_user(app, "staff@city.example.jp", role=Role.STAFF)
    login(client, "staff@city.example.jp")
    url = f"/organiser/events/{festival}"
    response = client.post(f"{url}/transfer", data={"transfer_amount_yen": "abc", "transfer_received_on": "x",
                                                    "csrf_token": token_from(client, url)}, headers=EN)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{url}#offset")
    assert "Record a bank transfer once the actual figures are entered" in text(client.get(url, headers=EN))
    with app.app_context():
        assert db.session.scalar(select(Contribution).where(Contribution.channel == Channel.BANK_TRANSFER)) is None


def test_staff_record_the_organisers_bank_transfer_against_the_event(app, client, organiser, festival):
    enter_actuals(organiser, festival)
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/organiser/")})
    make_user(app, "staff@city.example.jp", role=Role.STAFF)
    login(client, "staff@city.example.jp")
    url = f"/organiser/events/{festival}"
    page = text(client.get(url))
    assert 'name="transfer_amount_yen"' in page and 'name="transfer_received_on"' in page   # what the form sends
    bad = client.post(f"{url}/transfer", data={"transfer_amount_yen": "三千", "transfer_received_on": "2027-05-10",
                                               "csrf_token": token_from(client, url)})
    assert bad.status_code == 422 and re.search(r'id="error-transfer_amount_yen" class="field-error">[^<]+', text(bad))
    response = client.post(f"{url}/transfer", data={"transfer_amount_yen": "5,000",
                                                    "transfer_received_on": tokyo_today().isoformat(),
                                                    "transfer_note": "振込 みどり台実行委員会",
                                                    "csrf_token": token_from(client, url)})
    assert response.status_code == 303
    with app.app_context():
        row = db.session.scalar(select(Contribution).where(Contribution.channel == Channel.BANK_TRANSFER))
        assert (row.amount_yen, row.co2_g, row.status, row.addon.event_id) == (5_000, 500_000, "paid", festival)
        actions = [a.action for a in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-2:] == ["addon.create", "contribution.offline"]
    assert 'data-percent="53"' in text(client.get(url))              # 500,000 of 935,028 g, rounded down


# --- the report, the public page, the transparency list ------------------------------------------

def confirm_a_batch(app, tmp_path) -> str:
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context(), force_locale("en"):
        staff = db.session.scalar(select(User).where(User.role == Role.STAFF))
        batch = close_batch(datetime.now(timezone.utc), actor=staff)
        record_purchase(batch, PurchaseData(
            provider="みどり信金", credit_type=CreditType.J_CREDIT, project_name="下川町森林吸収", project_id="JCL-0042",
            credit_place="北海道/下川町", tonnes=batch.tonnes_required, price_per_t_yen=10_000,
            total_yen=10_000 * batch.tonnes_required, purchased_on=tokyo_today()), actor=staff)
        notice = store_upload(FileStorage(io.BytesIO(PDF), filename="notice.pdf"), actor=staff)
        record_invalidation(batch, InvalidationData(
            registry=Registry.J_CREDIT, invalidated_on=tokyo_today(), serial_ranges=[("JP-777-0001", f"JP-777-{batch.tonnes_required:04d}")],
            tonnes=batch.tonnes_required, purpose="区民まつり", offset_place="東京都/目黒区", notice_file=notice), actor=staff)
        confirm_batch(batch, actor=staff)
        return batch.number


def test_report_follows_the_guidance_and_shows_the_credits_once_confirmed(app, client, organiser, festival,
                                                                          tmp_path):
    enter_actuals(organiser, festival)
    with app.app_context():
        addon = AddOn(slug="fest-surcharge", owner_id=event_row(app, festival).owner_id, kind="event_ticket",
                      title_ja="区民まつり", title_en="Festival", unit_price_yen=50, event_id=festival)
        db.session.add(addon)
        db.session.commit()
        addon_id = addon.id
    make_contribution(app, addon_id, quantity=240)                    # 12,000 yen = 1,200,000 g
    report = text(organiser.get(f"/organiser/events/{festival}/report"))
    sections = [m for m in re.findall(r'id="r-(\w+)"', report)]
    assert sections == ["purpose", "event", "boundary", "method", "figures", "money", "credits", "statement"]
    assert 'data-claim="paid_awaiting"' in report and "None yet" not in report  # ja page
    assert "除外" in report
    make_user(app, "staff@city.example.jp", role=Role.STAFF)
    number = confirm_a_batch(app, tmp_path)
    report = text(organiser.get(f"/organiser/events/{festival}/report", headers=EN))
    assert 'data-claim="offset"' in report
    assert number in report and "JP-777-0001" in report and "下川町森林吸収" in report and "JCL-0042" in report
    assert "has been offset with carbon credits invalidated on" in report
    public = text(client.get(f"/e/{event_row(app, festival).slug}", headers=EN))
    assert "JP-777-0001" in public and "Offset with invalidated credits" in public
    assert "organiser@npo.example.jp" not in public and "山田" not in public     # no personal data
    transparency = text(client.get("/transparency", headers=EN))
    assert 'id="offset-events"' in transparency and "Midoridai Ward Festival" in transparency


def test_the_public_page_of_an_event_without_money_says_it_is_not_offset(app, client, festival):
    page = text(client.get(f"/e/{event_row(app, festival).slug}", headers=EN))
    assert "Not offset yet" in page and 'data-claim="not_offset"' in page
    assert client.get("/e/nosuchslug").status_code == 404
    assert "Midoridai" not in text(client.get("/transparency", headers=EN))  # nothing paid: not listed


def test_the_report_needs_an_estimate(organiser):
    event_id = create_event(organiser)
    assert organiser.get(f"/organiser/events/{event_id}/report").status_code == 404


# --- event factor sets per fiscal year -----------------------------------------------------------

def test_a_new_event_factor_set_leaves_existing_events_as_they_were(app, runner, organiser, festival, tmp_path):
    source = (app.root_path and open(f"{app.root_path}/data/factor_sets/event_default.csv", encoding="utf-8").read())
    path = tmp_path / "event_fy2027.csv"
    path.write_text(source.replace("passenger-km,0.017,", "passenger-km,0.020,"), encoding="utf-8")
    result = runner.invoke(args=["factors", "load", str(path), "--name", "Events FY2027", "--fiscal-year", "FY2027",
                                 "--kind", "event", "--activate"])
    assert result.exit_code == 0, result.output
    assert 'data-grams="888780"' in text(organiser.get(f"/organiser/events/{festival}"))   # kept its sets
    later = create_event(organiser, name_ja="翌年のまつり")
    assert save_estimate(organiser, later).status_code == 303
    # rail 4,320 passenger-km x 0.020 instead of 0.017: +12.96 kg
    assert 'data-grams="901740"' in text(organiser.get(f"/organiser/events/{later}"))
    listing = runner.invoke(args=["factors", "list"]).output
    assert listing.count("*") == 2 and "event" in listing


def test_an_event_factor_file_must_hold_every_event_key(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("key,label_ja,label_en,unit,kg_co2_per_unit,fiscal_year,confidence,source\n"
                    "rail,鉄道,Rail,passenger-km,0.02,FY2027,P,x\n", encoding="utf-8")
    result = runner.invoke(args=["factors", "load", str(path), "--name", "x", "--fiscal-year", "FY2027",
                                 "--kind", "event"])
    assert result.exit_code != 0 and "paper" in result.output


def test_staff_upload_an_event_factor_set_for_a_new_fiscal_year(app, client, tmp_path):
    make_user(app, "staff@city.example.jp", role=Role.STAFF)
    login(client, "staff@city.example.jp")
    page = text(client.get("/staff/settings/event-factors", headers=EN))
    assert "To verify" in page and "jpa.gr.jp" in page
    csv = open(f"{app.root_path}/data/factor_sets/event_default.csv", "rb").read().replace(b"0.38,", b"0.5,")
    data = {"kind": "event", "set_name": "Events FY2027", "fiscal_year": "FY2027", "set_effective_from": "2027-04-01",
            "activate": "1", "csrf_token": token_from(client, "/staff/settings/event-factors"),
            "file": (io.BytesIO(csv), "events.csv")}
    response = client.post("/staff/settings/factor-sets", data=data, content_type="multipart/form-data")
    assert response.status_code == 303 and "/staff/settings/event-factors" in response.headers["Location"]
    with app.app_context():
        from resident_app.services.factors import active_factor_set
        assert active_factor_set("event").name == "Events FY2027"
        assert active_factor_set("household").kind == "household"            # the calculator's set is untouched


def test_the_event_factor_file_has_every_column_in_every_row():
    import csv

    from resident_app.carbon.event import EVENT_FACTOR_KEYS
    from resident_app.carbon.reference import DATA_DIR

    with open(DATA_DIR / "factor_sets" / "event_default.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["key"] for r in rows] == list(EVENT_FACTOR_KEYS)
    assert all(None not in row and all(row.values()) for row in rows)          # no comma split a source
    # What residents read (publisher, title, year, link) carries no working note; `source` is the staff's note.
    from resident_app.services.factors import CITATION_COLUMNS

    assert all(row[c] for row in rows for c in CITATION_COLUMNS)
    assert not [row[c] for row in rows for c in CITATION_COLUMNS
                if any(word in row[c].lower() for word in ("verify", "quoted", "seen in", "staff"))]

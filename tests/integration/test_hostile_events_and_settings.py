"""The forms added after the first hostile-input sweep, driven the same way (test_hostile_input.py has
the strategies and the checks): the organisers' event forms (facts, estimate and its live preview,
actual figures, the survey's state and origin distances, top-up, staff's bank transfer), the
participants' travel survey, and the staff forms for tariffs, tariff adjustments, electricity menus,
regional averages, resolving a flag and every export.

Whatever arrives: never a 5xx, and a refusal says why beside the field in Japanese or in English.
HOSTILE_COUNT_FILE=path writes how many requests the module sent."""
from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from resident_app.carbon.event import DISTANCE_BANDS, MODES
from resident_app.extensions import db
from resident_app.models import Contribution, Event
from resident_app.services.days import tokyo_today
from resident_app.services.event_survey import record_survey_answer

from .factories import token_from
from .test_events import FACTS, FESTIVAL
from .test_hostile_input import (FILE_NAMES, FUZZ, LANGUAGE, UNICODE, check, fields, hostile_or, send, signed_in,
                                 unreadable_date, unreadable_number, upload)
from .world import build_world

SENT = {"requests": 0}


@pytest.fixture(scope="module", autouse=True)
def count_requests():
    yield
    path = os.environ.get("HOSTILE_COUNT_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{__name__} {SENT['requests']}\n")


def sent(client, method: str, url: str, lang: str, data: dict | None = None, **options):
    """send(), counted; a redirect within the site is followed in the same language, so the message
    it flashes is read (and checked) on the page it was meant for."""
    SENT["requests"] += 1
    response = send(client, method, url, lang, data, **options)
    response.close()  # a streamed export ends its request here
    location = response.headers.get("Location", "")
    if response.status_code in (302, 303) and location.startswith("/") and not location.startswith("//"):
        SENT["requests"] += 1
        check(client.get(location, headers={"Accept-Language": lang}), lang)
    return response


@pytest.fixture
def world(app, tmp_path):
    return build_world(app, tmp_path)


@pytest.fixture
def festival(app, world) -> tuple[int, str]:
    """The organiser's event with a saved estimate, an open survey and one answer from an origin
    that has no distance yet (so the origins form has a field): its id and slug."""
    organiser = signed_in(app, world, "organiser")
    response = organiser.post("/organiser/events/new",
                              data={**FACTS, "csrf_token": token_from(organiser, "/organiser/events/new")})
    assert response.status_code == 303
    event_id = int(re.search(r"/organiser/events/(\d+)/", response.headers["Location"]).group(1))
    url = f"/organiser/events/{event_id}/estimate"
    assert organiser.post(url, data={**FESTIVAL, "csrf_token": token_from(organiser, url)}).status_code == 303
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.survey_open = True
        db.session.commit()
        record_survey_answer(event, mode="rail", distance_band="", origin_code="131121")
        return event_id, event.slug


def event_form_bad(form: dict) -> tuple[str, ...]:
    dates = tuple(n for n in ("starts_on", "ends_on") if n in form and unreadable_date(form[n]))
    return dates + tuple(n for n in ("expected_participants", "expected_staff")
                         if n in form and unreadable_number(form[n]))


FACT_FIELDS = dict(
    name_ja=hostile_or(FACTS["name_ja"]), name_en=hostile_or(FACTS["name_en"]),
    starts_on=hostile_or("2027-05-03"), ends_on=hostile_or("2027-05-04", "2027-05-02"),
    venue=hostile_or(FACTS["venue"]), municipality_code=hostile_or("131121", "999999"),
    expected_participants=hostile_or("200", "２００"), expected_staff=hostile_or("12", "0"),
    purpose_ja=hostile_or(""), purpose_en=hostile_or(""))


def test_event_facts_forms(app, world, festival):
    client = signed_in(app, world, "organiser")
    event_id, _slug = festival

    @FUZZ
    @given(lang=LANGUAGE, edit=st.booleans(), form=fields(**FACT_FIELDS))
    def run(lang, edit, form):
        url = f"/organiser/events/{event_id}/edit" if edit else "/organiser/events/new"
        check(sent(client, "POST", url, lang, form), lang, sent=form, bad=event_form_bad(form))
    run()


QUANTITY_NAMES = ("venue_electricity_kwh", "venue_hours", "venue_kw", "venue_gas_m3", "lodging_person_nights",
                  "paper_kg", "paper_a4_sheets", "waste_kg")
ESTIMATE_FIELDS = dict(
    participants=hostile_or("200", "0"), staff=hostile_or("12"),
    **{name: hostile_or(FESTIVAL.get(name, "10"), "") for name in QUANTITY_NAMES},
    pt_method=hostile_or("shares", "origins"), surcharge_share_percent=hostile_or("100", "50", "150"),
    **{f"pt_{kind}_{mode}": hostile_or("60", "18", "") for mode in MODES for kind in ("share", "km")},
    **{f"st_{kind}_{mode}": hostile_or("100", "15", "") for mode in MODES for kind in ("share", "km")},
    **{f"pto_{i}_{kind}": hostile_or("世田谷区", "rail", "40", "12", "") for i in range(2)
       for kind in ("origin", "mode", "persons", "km")},
    **{f"include_{item}": hostile_or("1", "") for item in ("venue_electricity", "participant_travel", "waste")})


def test_event_estimate_and_its_live_preview(app, world, festival):
    client = signed_in(app, world, "organiser")
    event_id, _slug = festival
    url = f"/organiser/events/{event_id}/estimate"

    @FUZZ
    @given(lang=LANGUAGE, preview=st.booleans(), htmx=st.booleans(), form=fields(**ESTIMATE_FIELDS))
    def run(lang, preview, htmx, form):
        target = f"{url}/preview" if preview else url
        headers = {"HX-Request": "true"} if htmx else {}
        client.csrf_token = getattr(client, "csrf_token", None) or token_from(client, url)
        SENT["requests"] += 1
        response = client.post(target, data={"csrf_token": client.csrf_token, **form},
                               headers={"Accept-Language": lang, **headers})
        bad = ("participants",) if "participants" in form and unreadable_number(form["participants"]) else ()
        check(response, lang, sent=form, bad=() if preview else bad)
    run()


def test_event_actuals_survey_origins_top_up_and_transfer(app, world, festival):
    organiser = signed_in(app, world, "organiser")
    staff = signed_in(app, world, "staff")
    event_id, _slug = festival
    event = f"/organiser/events/{event_id}"
    today = tokyo_today().isoformat()

    @FUZZ
    @given(lang=LANGUAGE,
           actuals=fields(participants=hostile_or("180"), staff=hostile_or("12"),
                          travel_source=hostile_or("estimate", "survey"),
                          **{name: hostile_or("700", "") for name in QUANTITY_NAMES}),
           state=fields(open=hostile_or("1", "0")), origin=fields(origin_km_131121=hostile_or("12", "12.5", "")),
           transfer=fields(transfer_amount_yen=hostile_or("5000", "¥5,000"), transfer_received_on=hostile_or(today),
                           transfer_note=hostile_or("振込")),
           top_up=st.integers(0, 9))
    def run(lang, actuals, state, origin, transfer, top_up):
        bad = tuple(n for n in ("participants",) if n in actuals and unreadable_number(actuals[n])
                    and actuals.get("travel_source") in ("estimate",))
        check(sent(organiser, "POST", f"{event}/actuals", lang, actuals), lang, sent=actuals, bad=bad)
        check(sent(organiser, "POST", f"{event}/survey/origins", lang, origin), lang, sent=origin,
              bad=("origin_km_131121",) if unreadable_number(origin.get("origin_km_131121", "")) else ())
        check(sent(organiser, "POST", f"{event}/survey/state", lang, state), lang, sent=state)
        if top_up == 0:  # a checkout at the sandbox each time would make the run slow; one in ten
            check(sent(organiser, "POST", f"{event}/topup", lang, {}), lang)
        bad = tuple(n for n in ("transfer_amount_yen",) if n in transfer and unreadable_number(transfer[n]))
        bad += tuple(n for n in ("transfer_received_on",) if n in transfer and unreadable_date(transfer[n]))
        check(sent(staff, "POST", f"{event}/transfer", lang, transfer), lang, sent=transfer, bad=bad)
    run()


def test_the_travel_survey(app, festival):
    _event_id, slug = festival

    @FUZZ
    @given(lang=LANGUAGE, thanks=hostile_or("1"),
           form=fields(mode=hostile_or(*MODES), distance_band=hostile_or(*DISTANCE_BANDS),
                       origin_code=hostile_or("131121", "132012", "999999")))
    def run(lang, thanks, form):
        phone = app.test_client()  # each participant's own phone: five answers per browser at most
        check(sent(phone, "GET", f"/s/{slug}", lang, {"thanks": thanks}), lang)
        response = sent(phone, "POST", f"/s/{slug}", lang, form, csrf_from=f"/s/{slug}")
        mode = str(form.get("mode", "")).strip()[:20]
        check(response, lang, sent=form, bad=("mode",) if mode not in MODES else ())
    run()


ESTAT = ('"地方","世帯人数","エネルギー種別","単位","value"\n"関東甲信","2人","電気","kWh","3,500"\n'
         '"関東甲信","2人","都市ガス","m3","260"\n')
AVERAGE_FILES = st.one_of(
    st.just(ESTAT.encode("utf-8")), st.just(ESTAT.encode("cp932")), st.binary(max_size=400),
    st.lists(hostile_or("関東甲信", "2人", "電気", "kWh", "3,500"), max_size=6).map(
        lambda cells: (ESTAT + ",".join(f'"{c}"' for c in cells)).encode("utf-8")),
    st.text(UNICODE, max_size=300).map(lambda t: t.encode("utf-8")))
CITATION = {f"{{prefix}}cite_{name}": value for name, value in (
    ("publisher_ja", "東京電力エナジーパートナー"), ("publisher_en", "TEPCO EP"), ("title_ja", "料金表"),
    ("title_en", "Price list"), ("year", "2027"), ("url", "https://www.tepco.co.jp/"))}


def citation(prefix: str) -> dict:
    return {name.format(prefix=prefix): hostile_or(value, "") for name, value in CITATION.items()}


def test_calculator_settings_forms(app, world):
    client = signed_in(app, world, "admin")
    electricity = {**{f"basic_{a}": hostile_or("311.75", "") for a in (10, 15, 20, 30, 40, 50, 60)},
                   **{f"tier_{n}": hostile_or("29.80", "36.40", "40.49") for n in (1, 2, 3)}}
    gas = {f"gas_{kind}_{table}": hostile_or("759.00", "145.31") for kind in ("basic", "unit") for table in "ABCDEF"}

    @FUZZ
    @given(lang=LANGUAGE, kind=hostile_or("electricity", "city_gas"),
           tariff=fields(tariff_effective_from=hostile_or("2099-04-01"), gas_effective_from=hostile_or("2099-04-01"),
                         tariff_confidence=hostile_or("P", "S"), gas_confidence=hostile_or("P"),
                         tariff_staff_note=hostile_or(""), **electricity, **gas, **citation("tariff_"),
                         **citation("gas_")),
           adjustment=fields(adj_kind=hostile_or("fuel_cost", "renewable_levy", "gas_material_cost"),
                             adj_month=hostile_or("2099-04", "2099-04-01"), adj_value=hostile_or("-1.25", "3.49"),
                             adj_note=hostile_or("")),
           menu=fields(menu_key=hostile_or("green_plan", "tepco_ep_standard"), retailer_ja=hostile_or("みどり電力"),
                       retailer_en=hostile_or("Midori Power"), menu_ja=hostile_or("グリーン"),
                       menu_en=hostile_or("Green"), factor=hostile_or("0", "0.421", "1.5"),
                       menu_fiscal_year=hostile_or("FY2025"), menu_confidence=hostile_or("P", "S"),
                       menu_staff_note=hostile_or(""), menu_listed=hostile_or("1", ""), **citation("menu_")),
           average=fields(avg_region=hostile_or("kanto_koshin", "national"), avg_name=hostile_or("FY2023 関東甲信"),
                          avg_year=hostile_or("FY2023"), avg_filter=hostile_or("関東甲信", ""),
                          avg_activate=hostile_or("1"), avg_file=st.tuples(AVERAGE_FILES, FILE_NAMES)),
           choice=hostile_or("national", "1", "99999999999999999999"))
    def run(lang, kind, tariff, adjustment, menu, average, choice):
        prefix = "tariff_" if kind == "electricity" else "gas_"
        date_field = f"{prefix}effective_from"
        bad = (date_field,) if date_field in tariff and unreadable_date(tariff[date_field]) else ()
        check(sent(client, "POST", f"/staff/settings/tariffs/{kind}", lang, tariff), lang, sent=tariff, bad=bad)
        bad = ("adj_value",) if "adj_value" in adjustment and unreadable_number(adjustment["adj_value"]) else ()
        check(sent(client, "POST", "/staff/settings/tariff-adjustments", lang, adjustment), lang, sent=adjustment,
              bad=bad)
        check(sent(client, "POST", "/staff/settings/electricity-menus", lang, menu), lang, sent=menu)
        if "avg_file" in average:
            average["avg_file"] = upload(average["avg_file"])
        check(sent(client, "POST", "/staff/settings/averages", lang, average), lang, sent=average)
        check(sent(client, "POST", "/staff/settings/averages/use", lang, {"avg_set": choice}), lang)
    run()


def test_resolving_a_flag(app, world):
    client = signed_in(app, world, "staff")

    @FUZZ
    @given(lang=LANGUAGE, form=fields(reason=hostile_or("返金済み", ""), **{"from": hostile_or("contribution", "")}))
    def run(lang, form):
        with app.app_context():  # flagged again each time, so the form is always there to resolve
            db.session.execute(update(Contribution).where(Contribution.id == world.contribution_id)
                               .values(flag_kind="dispute", flag_reason="チャージバック"))
            db.session.commit()
        url = f"/staff/contributions/{world.contribution_id}/resolve"
        reason = str(form.get("reason", "")).strip()
        check(sent(client, "POST", url, lang, form, csrf_from="/staff/reviews"), lang, sent=form,
              bad=("reason",) if not reason else ())
    run()


def test_every_export_form(app, world):
    client = signed_in(app, world, "admin")
    first = (tokyo_today() - timedelta(days=30)).isoformat()

    @FUZZ
    @given(lang=LANGUAGE, identifier=st.sampled_from(["contributions", "totals", "batches", "audit",
                                                      "addon_contributions", "²", "x" * 300]),
           form=fields(**{"from": hostile_or(first, ""), "to": hostile_or(tokyo_today().isoformat(), ""),
                          "format": hostile_or("csv", "xlsx"), "encoding": hostile_or("utf-8", "shift_jis"),
                          "variant": hostile_or("labels", "codes"), "addon": hostile_or(str(world.addon_id), ""),
                          "organiser": hostile_or(""), "status": hostile_or("paid", "all"),
                          "action": hostile_or("user.login", ""), "replace": hostile_or("1")}))
    def run(lang, identifier, form):
        response = sent(client, "POST", f"/staff/exports/{identifier}", lang, form, csrf_from="/staff/exports")
        bad = tuple(n for n in ("from", "to") if n in form and unreadable_date(form[n])
                    and identifier in ("contributions", "totals", "batches", "audit"))
        check(response, lang, sent=form, bad=bad)
    run()


def test_saving_and_deleting_a_calculator_result(app):
    sources = ("electricity", "city_gas", "water")

    @FUZZ
    @given(lang=LANGUAGE, form=fields(period=hostile_or("month", "year"), household_size=hostile_or("2"),
                                      electricity_unit=hostile_or("qty", "yen"), municipality=hostile_or("131121"),
                                      in_statistics=hostile_or("1"), electricity_menu=hostile_or("tepco_ep_standard"),
                                      **{source: hostile_or("300", "１,２００") for source in sources}),
           key=st.one_of(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=";,\\\""),
                                            max_size=80)),
           token=hostile_or("nope"))
    def run(lang, form, key, token):
        browser = app.test_client()
        response = sent(browser, "POST", "/calculator/save", lang, form, csrf_from="/calculator")
        check(response, lang, sent=form,
              bad=tuple(s for s in sources if s in form and unreadable_number(form[s])))
        link = response.headers.get("Location", "") if response.status_code == 303 else ""
        saved = link.rsplit("/", 1)[1] if link else str(token)
        stranger = app.test_client()
        if key is not None:
            stranger.set_cookie("delete_key", key, path=f"/r/{saved}")
        refused = sent(stranger, "POST", f"/r/{saved}/delete", lang, {}, csrf_from="/calculator")
        check(refused, lang)
        if link:  # a stranger's guess never deletes it; the saver's key does
            assert refused.status_code == 403, refused.status_code
            assert sent(browser, "POST", f"/r/{saved}/delete", lang, {}).status_code == 303
    run()


HUGE_ID = "99999999999999999999"  # no INTEGER column holds it: the database driver overflowed (a 500)


def test_an_id_past_the_databases_integer_is_a_404_on_every_route(app, world):
    admin = signed_in(app, world, "admin")
    token = token_from(admin, "/staff/")
    rules = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(rules) > 20  # every route with an id in its path
    for rule in rules:
        url = re.sub(r"<int:[^>]+>", HUGE_ID, rule.rule)
        url = re.sub(r"<[^>]+>", "x", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            SENT["requests"] += 1
            response = admin.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 404, (method, url, response.status_code)
    assert admin.get(f"/staff/batches/{2**31 - 1}").status_code == 404   # the largest id: looked up, not there
    assert admin.get(f"/staff/batches/{world.batch_id}").status_code == 200


def test_a_nul_in_a_slug_or_token_is_a_404_on_every_route(app, world):
    # PostgreSQL refuses NUL in text: /r/%00, /c/%00, /a/%00, /e/%00 and /s/%00 were 500s there.
    admin = signed_in(app, world, "admin")
    token = token_from(admin, "/staff/")
    rules = [rule for rule in app.url_map.iter_rules() if re.search(r"<(?:string:|path:)?[a-z_]+>", rule.rule)]
    assert len(rules) > 10
    for rule in rules:
        for segment in ("%00", "x%00y", "%01"):
            url = re.sub(r"<(?:string:|path:)?[a-z_]+>", segment, re.sub(r"<int:[^>]+>", "1", rule.rule))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                SENT["requests"] += 1
                response = admin.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
                assert response.status_code == 404, (method, url, response.status_code)
    assert admin.get(f"/a/{world.slug}").status_code == 200 and admin.get(f"/r/{world.saved_token}").status_code == 200

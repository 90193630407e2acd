"""A ward festival's organiser on a phone, in Japanese, from start to finish (the guidebook's A1):
estimate a 200-person festival, create its add-on from the estimate, participants answer the travel
survey on their own phones, enter the actual figures with the survey's travel, close the gap through
the local Stripe sandbox, and print the report to PDF.

Figures at the default factors and 10,000 yen a tonne:
- estimate: 800 kWh 338,400 g; travel (rail 60 % x 18 km, car 25 % x 9 km, walking 15 %) 185,940 g;
  staff by car 45,000 g; 20 hotel nights 300,000 g; 12 kg of paper 19,440 g; waste left out.
  Total 888,780 g, 4,444 g per participant, so the surcharge is 50 yen (44.44 yen up to 10 yen,
  and the 50 yen floor).
- survey: rail 10-30 km (20), rail 3-10 km (6.5), car 3-10 km (6.5): rail 2 of 3 at 13.3 km mean
  (13.25 half up), car 1 of 3 at 6.5 km.
- actuals: 240 came, 900 kWh 380,700 g; travel from the survey scaled to 240: rail 160 x 2 x 13.3 x
  0.017 = 72,352 g + car 80 x 2 x 6.5 x 0.125 = 130,000 g; staff 45,000; lodging 300,000; paper
  19,440. Total 947,492 g.
- paid: participants 40 x 50 yen = 2,000 yen = 200,000 g; the gap 747,492 g = 7,475 yen (rounded up
  to a yen), which buys 747,500 g: fully offset.
"""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import AccountStatus, AddOn, Role, User

pytestmark = pytest.mark.e2e

EMAIL = "matsuri@midoridai.example.jp"
PASSWORD = "lanterns along the shopping street"
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def organiser(live_app) -> None:
    with live_app.app_context():
        user = User(email=EMAIL, role=Role.ORGANISER, status=AccountStatus.ACTIVE,
                    organisation="みどり台商店街振興組合", contact_name="佐藤", session_token=secrets.token_hex(16))
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        db.session.remove()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fill(page: Page, values: dict[str, str]) -> None:
    for field, value in values.items():
        page.locator(f"#f-{field}").fill(value)


def answer_survey(browser: Browser, phone: dict, url: str, taps: list[tuple[str, str]], check=None) -> None:
    """A participant's own phone: scan, tap how and how far, send; the group's other members too."""
    context = browser.new_context(**phone, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(url)
    expect(page.locator("h1")).to_have_text("今日はどうやって来ましたか？")
    shot(page, "event-survey-phone-ja")
    if check is not None:
        assert not check(page)
    for index, (mode, band) in enumerate(taps):
        if index:
            page.get_by_role("link", name="同じグループの別の人の分も答える").click()
        page.get_by_label(mode, exact=True).check()
        page.get_by_label(band, exact=True).check()
        page.get_by_role("button", name="送信").click()
        expect(page.locator("#survey-thanks")).to_be_visible()
    shot(page, "event-survey-thanks-ja")
    context.close()


def test_a_ward_festival_from_estimate_to_printed_report(page: Page, browser: Browser, phone: dict, organiser,
                                                       live_app, base_url: str, paid_certificate, pay_at_sandbox,
                                                       webhook_outcome, page_widths, blocking_violations) -> None:
    page.goto("/auth/login")
    fill(page, {"email": EMAIL, "password": PASSWORD})
    page.locator('form[action$="/auth/login"] button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/organiser/$"))

    # The event's facts.
    page.get_by_role("link", name="イベントのオフセット（算定・アンケート・報告）").click()
    page.get_by_role("link", name="イベントを作成").first.click()
    fill(page, {"name_ja": "みどり台 区民まつり 2027", "name_en": "Midoridai Ward Festival 2027",
                "starts_on": "2027-05-03", "ends_on": "2027-05-03", "venue": "みどり台公園",
                "expected_participants": "200", "expected_staff": "12"})
    page.locator("#f-municipality_code").select_option(label="目黒区")
    page.get_by_role("button", name="イベントを作成").click()
    expect(page).to_have_url(re.compile(r"/organiser/events/\d+/estimate$"))

    # The boundary and the estimate: the result follows the typing (htmx) before anything is saved.
    page.locator("#f-include_waste").uncheck()
    fill(page, {"venue_electricity_kwh": "800", "pt_share_rail": "60", "pt_km_rail": "18", "pt_share_car": "25",
                "pt_km_car": "9", "pt_share_walk": "15", "pt_km_walk": "1", "st_share_car": "100", "st_km_car": "15",
                "lodging_person_nights": "20", "paper_kg": "12"})
    expect(page.locator("#estimate-total")).to_have_attribute("data-grams", "888780")
    expect(page.locator("#suggested-surcharge")).to_have_text("50円")
    expect(page.locator(".rounding")).to_contain_text("10円単位に切り上げ")
    shot(page, "event-estimate-phone-ja")
    assert page_widths(page)[0] <= page_widths(page)[1]
    assert not blocking_violations(page)
    page.get_by_role("button", name="事前算定を保存").click()
    expect(page).to_have_url(re.compile(r"/organiser/events/\d+#estimate$"))
    event_url = page.url.split("#")[0]
    expect(page.locator("#estimate-total")).to_have_attribute("data-grams", "888780")
    expect(page.locator('#event-result tr[data-item="waste"]')).to_contain_text("対象外")

    # Create the add-on from the estimate: the form comes filled in and linked.
    page.locator("#create-addon").click()
    expect(page.locator("#f-unit_price_yen")).to_have_value("50")
    expect(page.locator("#linked-event")).to_be_visible()
    expect(page.locator("#f-title_ja")).to_have_value("みどり台 区民まつり 2027 カーボン・オフセット付き参加料")
    page.get_by_role("button", name="作成する").click()
    expect(page).to_have_url(re.compile(r"/organiser/addons/\d+$"))
    with live_app.app_context():
        slug = db.session.scalar(select(AddOn.slug).where(AddOn.event_id.is_not(None)))
        db.session.remove()

    # On the day: participants answer the survey from their phones; the organiser's tally counts them.
    page.goto(event_url)
    survey_url = page.locator("#survey-link").inner_text()
    assert re.fullmatch(rf"{re.escape(base_url)}/s/[a-z2-9]{{8}}", survey_url)
    answer_survey(browser, phone, survey_url, [("電車・地下鉄", "10〜30 km"), ("電車・地下鉄", "3〜10 km")],
                  check=blocking_violations)
    answer_survey(browser, phone, survey_url, [("自動車（乗っている人ごと）", "3〜10 km")])
    page.reload()
    expect(page.locator("#survey-count")).to_have_attribute("data-answers", "3")
    # ...and 40 participants pay the 50 yen surcharge online.
    paid_certificate(slug, quantity=20)
    paid_certificate(slug, quantity=20)

    # After the event: the actual figures, with the survey's travel in place of the assumptions.
    page.goto(f"{event_url}/actuals")
    fill(page, {"participants": "240", "venue_electricity_kwh": "900"})
    page.locator('input[name="travel_source"][value="survey"]').check()
    page.get_by_role("button", name="事後算定を保存").click()
    expect(page).to_have_url(re.compile(r"/organiser/events/\d+#actuals$"))
    expect(page.locator("#compare-actual-total")).to_have_text("947")
    expect(page.locator("#actuals")).to_contain_text("標本：距離のある回答3件")
    expect(page.locator("#offset-state")).to_have_attribute("data-percent", "21")
    expect(page.locator("#gap")).to_contain_text("7,475円")
    shot(page, "event-page-phone-ja")
    assert page_widths(page)[0] <= page_widths(page)[1]
    assert not blocking_violations(page)

    # Close the gap through the same checkout (the local sandbox's pay page).
    page.locator("#pay-gap").click()
    session_id = pay_at_sandbox(page)
    expect(page).to_have_url(re.compile(r"/c/[A-Za-z0-9_-]{16,}$"))
    assert webhook_outcome(session_id) in ("paid", "already")
    page.goto(event_url)
    expect(page.locator("#offset-state")).to_have_text("全量オフセット")
    expect(page.locator("#pay-gap")).to_have_count(0)

    # The report: every section in the guidance's order; printed to A4 PDF.
    page.goto(f"{event_url}/report")
    sections = page.locator(".report-section > h2")
    expect(sections).to_have_count(8)
    expect(sections.first).to_have_text("1. 目的")
    expect(page.locator("#statement")).to_have_attribute("data-claim", "paid_awaiting")
    shot(page, "event-report-phone-ja")
    assert not blocking_violations(page)
    SHOTS.mkdir(exist_ok=True)
    page.emulate_media(media="print")
    pdf = page.pdf(path=str(SHOTS / "event-report-ja.pdf"), format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 2 <= pages <= 4, pages

    # The same report in English, and the public page without personal data.
    page.emulate_media(media="screen")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#r-statement h2")).to_have_text("8. What the organiser may say publicly")
    page.emulate_media(media="print")
    page.pdf(path=str(SHOTS / "event-report-en.pdf"), format="A4", print_background=True)
    page.emulate_media(media="screen")
    page.goto(survey_url.replace("/s/", "/e/"))
    expect(page.locator("#public-state")).to_have_text("Paid for; credits to be invalidated")
    expect(page.locator("body")).not_to_contain_text(EMAIL)
    expect(page.locator("body")).not_to_contain_text("佐藤")
    shot(page, "event-public-phone-en")


@pytest.mark.parametrize("width", [360, 390])
def test_the_survey_and_the_estimate_fit_a_small_phone_in_both_languages(page: Page, organiser, live_app, width,
                                                                          page_widths) -> None:
    page.set_viewport_size({"width": width, "height": 740})
    page.goto("/auth/login")
    fill(page, {"email": EMAIL, "password": PASSWORD})
    page.locator('form[action$="/auth/login"] button[type="submit"]').click()
    page.goto("/organiser/events/new")
    fill(page, {"name_ja": "小さな画面のまつり", "starts_on": "2027-05-03", "ends_on": "2027-05-03",
                "expected_participants": "50"})
    page.locator('form button[type="submit"]').last.click()
    expect(page).to_have_url(re.compile(r"/estimate$"))
    for language in ("ja", "en"):
        if language == "en":
            page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.wait_for_load_state("load")
        scroll, view = page_widths(page)
        assert scroll <= view, (language, width, scroll, view)
        shot(page, f"event-estimate-{width}-{language}")
    with live_app.app_context():
        from resident_app.models import Event
        slug = db.session.scalar(select(Event.slug))
        db.session.remove()
    for language in ("en", "ja"):
        page.goto(f"/s/{slug}")
        if language == "ja":
            page.get_by_role("button", name="日本語").click()
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.wait_for_load_state("load")
        scroll, view = page_widths(page)
        assert scroll <= view, (language, width, scroll, view)
        shot(page, f"event-survey-{width}-{language}")

"""Rate and factors, organisers and staff, the audit log: staff screens that change settings and accounts."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import (AccountStatus, AuditEntry, Contribution, ConversionRate, FactorSet, Role,
                                 UnitPrice, User)
from resident_app.services.days import tokyo_today
from resident_app.services.programme import current_rate, current_unit_prices

from ..conftest import ROOT
from .factories import PASSWORD, login, make_addon, make_contribution, make_user, token_from

EN = {"Accept-Language": "en"}
STAFF, ADMIN, ORGANISER = "staff@city.example.jp", "admin@city.example.jp", "npo@npo.example.jp"
DEFAULT_FACTORS = (ROOT / "resident_app" / "data" / "factor_sets" / "default.csv").read_text(encoding="utf-8")


@pytest.fixture
def staff(app, client):
    make_user(app, STAFF, role=Role.STAFF, organisation="環境政策課")
    assert login(client, STAFF).status_code == 303
    return client


@pytest.fixture
def admin(app, client):
    make_user(app, ADMIN, role=Role.ADMIN, organisation="環境政策課")
    assert login(client, ADMIN).status_code == 303
    return client


def post(client, url: str, data: dict, page: str = "/staff/settings", **kwargs):
    return client.post(url, data={**data, "csrf_token": token_from(client, page)}, headers=EN, **kwargs)


def audit_rows(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        db.session.expunge_all()
        return rows


# --- who may open what -----------------------------------------------------------------------------

@pytest.mark.parametrize("url, staff_status, admin_only", [
    ("/staff/settings", 200, False), ("/staff/users", 200, False), ("/staff/exports", 200, False),
    ("/staff/audit", 403, True),
])
def test_who_may_open_the_pages(app, client, url, staff_status, admin_only):
    make_user(app, ORGANISER)
    make_user(app, STAFF, role=Role.STAFF)
    make_user(app, ADMIN, role=Role.ADMIN)
    assert client.get(url).status_code == 302                                # signed out: log in first
    login(client, ORGANISER)
    assert client.get(url).status_code == 403
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/")})
    login(client, STAFF)
    assert client.get(url, headers=EN).status_code == staff_status
    client.post("/auth/logout", data={"csrf_token": token_from(client, "/")})
    login(client, ADMIN)
    response = client.get(url, headers=EN)
    assert response.status_code == 200
    response.close()


def test_the_sub_navigation_lists_these_pages(admin):
    html = admin.get("/staff/settings", headers=EN).get_data(as_text=True)
    for endpoint_url, label in (("/staff/settings", "Rate and factors"), ("/staff/users", "Organisers and staff"),
                                ("/staff/exports", "Exports"), ("/staff/audit", "Audit log")):
        assert f'<a href="{endpoint_url}"' in html and label in html


# --- the conversion rate -------------------------------------------------------------------------------

def test_a_new_rate_leaves_earlier_contributions_at_their_rate(app, staff):
    owner = make_user(app, ORGANISER)
    addon = make_addon(app, owner)
    before = make_contribution(app, addon, quantity=3)                     # ¥300 at ¥10,000/t = 30 kg
    page = staff.get("/staff/settings", headers=EN).get_data(as_text=True)
    assert "Contributions already paid" in page or "contributions already paid" in page
    assert "keeps the rate in force when it was paid" in page

    refused = post(staff, "/staff/settings/rate", {"yen_per_t": "20000", "reason": "  "})
    assert refused.status_code == 422 and "Say why the rate changes" in refused.get_data(as_text=True)
    response = post(staff, "/staff/settings/rate", {"yen_per_t": "２０，０００", "reason": "クレジット価格の上昇"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/settings#rate")
    after = make_contribution(app, addon, quantity=3)
    with app.app_context():
        assert current_rate().yen_per_t == 20_000 and current_rate().reason == "クレジット価格の上昇"
        old, new = db.session.get(Contribution, before), db.session.get(Contribution, after)
        assert (old.rate_yen_per_t, old.co2_g) == (10_000, 30_000)        # never rewritten
        assert (new.rate_yen_per_t, new.co2_g) == (20_000, 15_000)
    [entry] = audit_rows(app, "rate.set")[-1:]
    assert entry.actor == STAFF and entry.before == {"yen_per_t": 10_000} and entry.after == {"yen_per_t": 20_000}
    html = staff.get("/staff/settings", headers=EN).get_data(as_text=True)
    history = html[html.index('id="rate-history"'):]
    assert "¥20,000" in history and "¥10,000" in history and "クレジット価格の上昇" in history and STAFF in history


def test_a_rate_can_be_scheduled_but_not_back_dated(app, staff):
    later = (tokyo_today() + timedelta(days=10)).isoformat()
    response = post(staff, "/staff/settings/rate", {"yen_per_t": "12000", "reason": "来年度", "effective_on": later})
    assert response.status_code == 303
    with app.app_context():
        assert current_rate().yen_per_t == 10_000                           # not yet
        assert db.session.scalar(select(ConversionRate).order_by(ConversionRate.id.desc())).yen_per_t == 12_000
    assert "Scheduled" in staff.get("/staff/settings", headers=EN).get_data(as_text=True)
    past = (tokyo_today() - timedelta(days=1)).isoformat()
    refused = post(staff, "/staff/settings/rate", {"yen_per_t": "12000", "reason": "x", "effective_on": past})
    assert refused.status_code == 422 and "cannot start in the past" in refused.get_data(as_text=True)
    for bad in ("abc", "50", "1.5"):
        assert post(staff, "/staff/settings/rate", {"yen_per_t": bad, "reason": "x"}).status_code == 422


# --- emission factor sets ------------------------------------------------------------------------------

def upload(client, content: str, **fields):
    data = {"set_name": "Tokyo FY2027", "fiscal_year": "FY2027", "set_effective_from": "2027-04-01", **fields,
            "file": (io.BytesIO(content.encode("utf-8-sig")), "fy2027.csv")}
    return post(client, "/staff/settings/factor-sets", data, content_type="multipart/form-data")


def test_a_factor_set_is_uploaded_then_made_active(app, staff, client):
    page = staff.get("/staff/settings", headers=EN).get_data(as_text=True)
    assert "To verify" in page                                              # electricity's S mark, flagged
    assert re.search(r'<span class="mark">S</span> <strong class="to-verify">To verify</strong>', page)

    response = upload(staff, DEFAULT_FACTORS.replace("kWh,0.423,", "kWh,0.41,"))
    assert response.status_code == 303
    with app.app_context():
        new = db.session.scalar(select(FactorSet).where(FactorSet.fiscal_year == "FY2027"))
        assert new is not None and not new.is_active and new.effective_from == date(2027, 4, 1)
        set_id = new.id
    assert audit_rows(app, "factor_set.load")[-1].actor == STAFF
    assert client.get("/api/v1/factors").get_json()["factors"][0]["kg_co2_per_unit"] == "0.423"

    again = upload(staff, DEFAULT_FACTORS)
    assert again.status_code == 422 and "exists already" in again.get_data(as_text=True)

    response = post(staff, f"/staff/settings/factor-sets/{set_id}/activate", {})
    assert response.status_code == 303
    assert client.get("/api/v1/factors").get_json()["factors"][0]["kg_co2_per_unit"] == "0.41"
    entry = audit_rows(app, "factor_set.activate")[-1]
    assert entry.actor == STAFF and entry.after == {"active_id": set_id}

    template = staff.get(f"/staff/settings/factor-sets/{set_id}.csv")
    assert template.data.startswith(b"\xef\xbb\xbf") and b"electricity" in template.data and b",0.41," in template.data


@pytest.mark.parametrize("content, message", [
    ("key,label_ja\nelectricity,電気\n", "lacks the columns"),
    (DEFAULT_FACTORS.replace("kWh,0.423,", "kWh,abc,"), "Line 2"),
    (DEFAULT_FACTORS.splitlines()[0] + "\n" + DEFAULT_FACTORS.splitlines()[1] + "\n", "lacks factors for"),
    ("", "The file is empty"),
])
def test_a_bad_factor_file_is_refused_with_the_reason(app, staff, content, message):
    response = upload(staff, content)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(FactorSet).where(FactorSet.fiscal_year == "FY2027")) is None


def test_a_factor_upload_without_a_file_is_refused(staff):
    data = {"set_name": "x", "fiscal_year": "FY2027", "set_effective_from": "2027-04-01"}
    response = post(staff, "/staff/settings/factor-sets", data, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a CSV file" in response.get_data(as_text=True)


def test_a_factor_file_that_is_not_utf8_is_refused(staff):
    data = {"set_name": "x", "fiscal_year": "FY2027", "set_effective_from": "2027-04-01",
            "file": (io.BytesIO(DEFAULT_FACTORS.encode("cp932", errors="replace")), "sjis.csv")}
    response = post(staff, "/staff/settings/factor-sets", data, content_type="multipart/form-data")
    assert response.status_code == 422 and "UTF-8" in response.get_data(as_text=True)


# --- unit prices ---------------------------------------------------------------------------------------

def test_a_new_unit_price_applies_from_its_date(app, staff):
    today = tokyo_today().isoformat()
    response = post(staff, "/staff/settings/unit-prices", {
        "price_key": "electricity", "yen_per_unit": "35.5", "price_effective_from": today, "as_of": "2026-11",
        "confidence": "P", "source": "全国家庭電気製品公正取引協議会 2026"})
    assert response.status_code == 303
    with app.app_context():
        price = current_unit_prices()["electricity"]
        assert str(price.yen_per_unit.normalize()) == "35.5" and price.label_ja == "電気" and price.unit == "kWh"
        assert db.session.query(UnitPrice).filter_by(key="electricity").count() == 2   # the old one stays
    entry = audit_rows(app, "unit_price.add")[-1]
    assert entry.actor == STAFF and entry.before["yen_per_unit"] == "31.0000" and entry.after["yen_per_unit"] == "35.5"
    twice = post(staff, "/staff/settings/unit-prices", {
        "price_key": "electricity", "yen_per_unit": "36", "price_effective_from": today, "as_of": "2026-11",
        "confidence": "P", "source": "x"})
    assert twice.status_code == 422 and "already has a price from that date" in twice.get_data(as_text=True)
    html = staff.get("/staff/settings", headers=EN).get_data(as_text=True)
    table = html[html.index('id="unit-price-table"'):]
    assert "35.5 / kWh" in table and "In force" in table and "Earlier" in table


@pytest.mark.parametrize("field, value", [("price_key", "nuclear"), ("yen_per_unit", "0"), ("yen_per_unit", "x"),
                                          ("confidence", "Q"), ("source", ""), ("price_effective_from", "")])
def test_a_unit_price_is_checked(staff, field, value):
    form = {"price_key": "city_gas", "yen_per_unit": "150", "price_effective_from": tokyo_today().isoformat(),
            "as_of": "2026", "confidence": "D", "source": "x", field: value}
    response = post(staff, "/staff/settings/unit-prices", form)
    assert response.status_code == 422
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', response.get_data(as_text=True))


# --- organisers and staff ------------------------------------------------------------------------------

def status_of(app, email: str) -> AccountStatus:
    with app.app_context():
        return db.session.scalar(select(User.status).where(User.email == email))


def test_pending_organisers_come_first_and_staff_approve_and_suspend(app, staff):
    make_user(app, "active@npo.example.jp", organisation="Active NPO")
    pending = make_user(app, ORGANISER, status=AccountStatus.PENDING, organisation="商店街振興組合")
    html = staff.get("/staff/users", headers=EN).get_data(as_text=True)
    assert html.index("商店街振興組合") < html.index("Active NPO")
    assert "Waiting for approval (1)" in html
    response = post(staff, f"/staff/users/{pending}/approve", {}, page="/staff/users")
    assert response.status_code == 303 and status_of(app, ORGANISER) == AccountStatus.ACTIVE
    with app.app_context():
        assert db.session.get(User, pending).approved_at is not None
    assert "No organiser is waiting" in staff.get("/staff/users", headers=EN).get_data(as_text=True)
    response = post(staff, f"/staff/users/{pending}/suspend", {}, page="/staff/users")
    assert response.status_code == 303 and status_of(app, ORGANISER) == AccountStatus.SUSPENDED
    assert [e.actor for e in audit_rows(app, "user.approve")] == [STAFF]
    assert [e.after for e in audit_rows(app, "user.suspend")] == [{"status": "suspended"}]
    again = post(staff, f"/staff/users/{pending}/approve", {}, page="/staff/users")
    assert again.status_code == 303 and status_of(app, ORGANISER) == AccountStatus.ACTIVE   # reactivated


def test_staff_cannot_suspend_themselves_or_an_administrator(app, staff):
    admin_id = make_user(app, ADMIN, role=Role.ADMIN)
    with app.app_context():
        own_id = db.session.scalar(select(User.id).where(User.email == STAFF))
    other = post(staff, f"/staff/users/{admin_id}/suspend", {}, page="/staff/users", follow_redirects=True)
    assert "Only an administrator can change a staff account." in other.get_data(as_text=True)
    own = post(staff, f"/staff/users/{own_id}/suspend", {}, page="/staff/users", follow_redirects=True)
    assert "You cannot change the status of your own account." in own.get_data(as_text=True)
    assert status_of(app, ADMIN) == AccountStatus.ACTIVE and status_of(app, STAFF) == AccountStatus.ACTIVE


def test_an_admin_creates_a_staff_account_that_can_sign_in(app, admin):
    assert "Create a staff account" in admin.get("/staff/users", headers=EN).get_data(as_text=True)
    response = post(admin, "/staff/users/new", {"email": "New@City.example.jp", "role": "staff",
                                                "password": "temporary-pass-1", "organisation": "会計課"},
                    page="/staff/users")
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@city.example.jp"))
        assert (user.role, user.status, user.organisation) == (Role.STAFF, AccountStatus.ACTIVE, "会計課")
    entry = audit_rows(app, "user.create")[-1]
    assert entry.actor == ADMIN and entry.after["role"] == "staff"
    for bad, message in (({"email": "new@city.example.jp"}, "already exists"), ({"password": "short"}, "at least 10"),
                         ({"role": "organiser"}, "Choose staff or administrator")):
        form = {"email": "other@city.example.jp", "role": "admin", "password": "temporary-pass-2", **bad}
        refused = post(admin, "/staff/users/new", form, page="/staff/users")
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    admin.post("/auth/logout", data={"csrf_token": token_from(admin, "/")})
    assert login(admin, "new@city.example.jp", "temporary-pass-1").status_code == 303
    assert admin.get("/staff/settings").status_code == 200


def test_staff_cannot_create_accounts(app, staff):
    assert "Create a staff account" not in staff.get("/staff/users", headers=EN).get_data(as_text=True)
    response = post(staff, "/staff/users/new", {"email": "sneaky@city.example.jp", "role": "admin",
                                                "password": PASSWORD}, page="/staff/users")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "sneaky@city.example.jp")) is None


# --- the audit log -------------------------------------------------------------------------------------

def test_the_audit_log_shows_filters_pages_and_exports(app, admin):
    for n in range(3):
        post(admin, "/staff/settings/rate", {"yen_per_t": str(11_000 + n), "reason": f"理由 {n}"})
    html = admin.get("/staff/audit?action=rate.set", headers=EN).get_data(as_text=True)
    assert html.count('data-action="rate.set"') == 4 and 'data-action="user.login"' not in html  # and the opening rate
    assert "4 entries" in html and ADMIN in html and "by system" in html
    assert '<span class="before">11001</span>' in html and '<span class="after">11002</span>' in html
    with app.app_context():  # 15:30 UTC on 1 November is 00:30 on 2 November in Tokyo
        db.session.add(AuditEntry(actor="cli", action="test.time", object_type="x", object_id="1",
                                  at=datetime(2026, 11, 1, 15, 30, tzinfo=timezone.utc)))
        db.session.commit()
    shown = admin.get("/staff/audit?action=test.time", headers=EN).get_data(as_text=True)
    assert "Nov 2, 2026, 12:30:00\u202fAM" in shown or "Nov 2, 2026, 12:30:00 AM" in shown
    day = admin.get("/staff/audit?action=test.time&from=2026-11-02&to=2026-11-02", headers=EN)
    assert "1 entry" in day.get_data(as_text=True)
    before = admin.get("/staff/audit?action=test.time&to=2026-11-01", headers=EN)
    assert "No entries match." in before.get_data(as_text=True)
    assert "Enter a date" in admin.get("/staff/audit?from=nonsense", headers=EN).get_data(as_text=True)

    assert 'action="/staff/exports/audit"' in admin.get("/staff/audit?action=rate.set").get_data(as_text=True)
    response = post(admin, "/staff/exports/audit", {"action": "rate.set", "variant": "codes"}, page="/staff/audit")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "id,at,actor,action,object_type,object_id,before,after"
    assert len(lines) == 5 and all(",rate.set," in line for line in lines[1:])
    assert "+09:00" in lines[1]
    assert audit_rows(app, "export.download")[-1].after["action"] == "rate.set"


def test_only_admins_download_the_audit_log(staff):
    assert 'action="/staff/exports/audit"' not in staff.get("/staff/exports").get_data(as_text=True)
    assert post(staff, "/staff/exports/audit", {}, page="/staff/exports").status_code == 403


def test_the_audit_log_is_paginated(app, admin):
    with app.app_context():
        for n in range(120):
            db.session.add(AuditEntry(actor="cli", action="test.bulk", object_type="x", object_id=str(n)))
        db.session.commit()
    first = admin.get("/staff/audit?action=test.bulk", headers=EN).get_data(as_text=True)
    assert first.count('data-action="test.bulk"') == 50 and "Page 1 of 3" in first
    assert 'rel="next" href="/staff/audit?page=2&amp;action=test.bulk"' in first
    last = admin.get("/staff/audit?action=test.bulk&page=3", headers=EN).get_data(as_text=True)
    assert last.count('data-action="test.bulk"') == 20

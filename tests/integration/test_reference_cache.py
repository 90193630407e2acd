"""Each worker keeps the calculator's reference data and reads it again when `reference_version`
changes (services/reference.py): a change made by another worker, by a CLI command or by an ORM
bulk update is seen by the next request; a rolled-back change is not; nothing kept belongs to a
session."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import object_session

from resident_app.extensions import db
from resident_app.models import ConversionRate, ElectricityMenu, Factor, FactorSet, ReferenceVersion, UnitPrice
from resident_app.services.reference import current_version, reference

FOOTPRINT = {"period": "month", "household_size": 2, "electricity_kwh": 300, "gasoline_l": 40}


def footprint(client) -> dict:
    response = client.post("/api/v1/footprint", json=FOOTPRINT)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def active_factor(key: str) -> Factor:
    return db.session.scalar(select(Factor).join(FactorSet).where(FactorSet.is_active.is_(True),
                                                                  FactorSet.kind == "household", Factor.key == key))


def test_a_factor_changed_by_another_worker_is_used_by_the_next_request(app, client, build_app):
    with app.app_context():
        assert current_version() is not None  # so the first request below keeps what it read
    before = footprint(client)
    other = build_app()  # a second worker: its own process memory, the same database
    with other.app_context():
        factor = active_factor("electricity")
        factor.kg_co2_per_unit = factor.kg_co2_per_unit * 2
        db.session.commit()
    after = footprint(client)
    assert after["by_source_g_per_year"]["electricity"] == 2 * before["by_source_g_per_year"]["electricity"]
    assert after["by_source_g_per_year"]["gasoline"] == before["by_source_g_per_year"]["gasoline"]


def test_every_tracked_change_moves_the_version_and_a_rollback_does_not(app):
    with app.app_context():
        start = current_version()
        assert start is not None
        price = db.session.scalar(select(UnitPrice).limit(1))
        price.yen_per_unit += 1
        db.session.commit()
        moved = current_version()
        assert moved != start
        rate = db.session.scalar(select(ConversionRate).limit(1))
        rate.reason = "changed and then thought better of"
        db.session.flush()
        db.session.rollback()
        assert current_version() == moved
        db.session.execute(update(ElectricityMenu).values(sort_order=ElectricityMenu.sort_order + 1))  # bulk
        db.session.commit()
        assert current_version() not in (start, moved)


def test_a_menu_hidden_by_bulk_update_is_no_longer_offered(app, client):
    menus = client.get("/api/v1/electricity-menus").get_json()
    listed = [m["key"] for m in menus if m["key"] != "unknown"]
    assert listed
    with app.app_context():
        db.session.execute(update(ElectricityMenu).where(ElectricityMenu.key == listed[0]).values(is_listed=False))
        db.session.commit()
    again = [m["key"] for m in client.get("/api/v1/electricity-menus").get_json()]
    assert listed[0] not in again
    refused = client.post("/api/v1/footprint", json={**FOOTPRINT, "electricity_menu": listed[0]})
    assert refused.status_code == 400 and "electricity_menu" in refused.get_json()["errors"]


def test_a_database_emptied_by_hand_is_read_every_time_until_the_version_is_back(app, client):
    footprint(client)
    with app.app_context():
        db.session.execute(ReferenceVersion.__table__.delete())
        db.session.commit()
        assert current_version() is None
        factor = active_factor("gasoline")
        factor.kg_co2_per_unit = Decimal("3.000000")
        db.session.commit()  # the change makes the row again, at a fresh random number
        assert current_version() is not None
    assert footprint(client)["by_source_g_per_year"]["gasoline"] == 40 * 12 * 3000


def test_what_is_kept_belongs_to_no_session(app, client):
    footprint(client)
    with app.test_request_context("/calculator"):
        held = reference()
        assert held.factor_set is not None and held.listed_menus and held.rates
        for row in (held.factor_set, *held.factor_set.factors, *held.listed_menus, *held.rates):
            assert object_session(row) is None
        assert held.factor_set.factor_map()["electricity"] > 0


def test_the_offer_goes_when_another_worker_suspends_the_household_add_ons_owner(app, client, build_app):
    from resident_app.models import AddOn
    from resident_app.services.accounts import suspend_user
    from resident_app.services.programme_content import HOUSEHOLD_SLUG

    from ..conftest import calculator_form, csrf_token

    def offer_shown() -> bool:
        form = calculator_form(electricity="300", offset_percent="50")
        form["csrf_token"] = csrf_token(client)
        html = client.post("/calculator", data=form, headers={"Accept-Language": "en"}).get_data(as_text=True)
        return 'href="/a/household?amount=' in html

    assert offer_shown()
    other = build_app()
    with other.app_context():
        owner = db.session.scalar(select(AddOn).where(AddOn.slug == HOUSEHOLD_SLUG)).owner
        suspend_user(owner.email, actor="staff@city.example.jp")
    assert not offer_shown()

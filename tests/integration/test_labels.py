"""Shared labels (web/labels.py): codes in words in each language, and the programme's own account
shown under the programme's name wherever staff see an add-on's owner."""
import pytest
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import AddOn, ContributionStatus, Role
from resident_app.services.programme_content import HOUSEHOLD_SLUG
from resident_app.web.labels import (CONTRIBUTION_STATUS_LABELS, addon_kind_label, code_label, organiser_name,
                                     programme_name)

from .factories import login, make_contribution, make_user


@pytest.mark.parametrize("value", [ContributionStatus.PAID, "paid"])
def test_a_code_reads_the_same_as_its_enum(app, value):
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        assert code_label(CONTRIBUTION_STATUS_LABELS, value) == "支払済み"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert code_label(CONTRIBUTION_STATUS_LABELS, value) == "Paid"


def test_unknown_codes_read_as_written_or_the_fallback(app):
    with app.test_request_context():
        assert code_label(CONTRIBUTION_STATUS_LABELS, "lost") == "lost"
        assert code_label(CONTRIBUTION_STATUS_LABELS, None) == ""
        with force_locale("en"):
            assert addon_kind_label("balloon") == "Offset add-on"


def test_the_programmes_account_reads_as_the_programme(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        owner = db.session.scalar(select(AddOn.owner_id).where(AddOn.slug == HOUSEHOLD_SLUG))
        assert organiser_name(owner, "Programme") == app.config["PROGRAMME_OPERATOR_EN"] == programme_name()
        assert organiser_name(owner + 1000, "みどり台バス") == "みどり台バス"
        assert organiser_name(None, "") == "–"
        with force_locale("ja"):
            assert programme_name() == app.config["PROGRAMME_OPERATOR_JA"]


def test_staff_screens_never_show_the_placeholder_programme(app, client):
    with app.app_context():
        household = db.session.scalar(select(AddOn.id).where(AddOn.slug == HOUSEHOLD_SLUG))
    make_contribution(app, household, amount_yen=1000)
    make_user(app, "admin@city.example.jp", role=Role.ADMIN)
    login(client, "admin@city.example.jp")
    for url, shown in (("/staff/", '<th scope="row">{}</th>'), ("/staff/users", "<td>{}"),
                       ("/organiser/", "<td>{}</td>"), ("/staff/exports", ">{}</option>")):
        for lang, name in (("ja", app.config["PROGRAMME_OPERATOR_JA"]), ("en", app.config["PROGRAMME_OPERATOR_EN"])):
            html = client.get(url, headers={"Accept-Language": lang}).get_data(as_text=True)
            assert shown.format(escape(name)) in html, (url, lang)
            assert shown.format("Programme") not in html, (url, lang)

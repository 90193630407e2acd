"""The participants' travel survey: a phone answers without logging in, in Japanese or English;
answers are anonymous and checked; a closed survey says so; one client cannot flood it; the
organiser's tally updates and origins without a distance can be given one."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, inspect, select

from resident_app import create_app
from resident_app.extensions import db
from resident_app.models import AuditEntry, Event, EventSurveyAnswer

from ..conftest import config_for, csrf_token
from .factories import login, make_user, token_from
from .test_events import create_event, save_estimate

EN = {"Accept-Language": "en"}


@pytest.fixture
def slug(app, client) -> str:
    make_user(app)
    organiser = app.test_client()
    login(organiser)
    event_id = create_event(organiser)
    save_estimate(organiser, event_id)
    with app.app_context():
        return db.session.get(Event, event_id).slug


def answer(client, slug: str, **values):
    form = {"mode": "rail", "distance_band": "10-30", "origin_code": "", **values}
    return client.post(f"/s/{slug}", data={**form, "csrf_token": csrf_token(client, f"/s/{slug}")})


def answers(app) -> list[EventSurveyAnswer]:
    with app.app_context():
        return list(db.session.scalars(select(EventSurveyAnswer).order_by(EventSurveyAnswer.id)))


def test_a_phone_answers_in_two_taps_without_logging_in(app, client, slug):
    page = client.get(f"/s/{slug}").get_data(as_text=True)
    assert "今日はどうやって来ましたか" in page and 'name="mode" value="rail"' in page
    assert "How did you come today?" in client.get(f"/s/{slug}", headers=EN).get_data(as_text=True)
    response = answer(client, slug)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/s/{slug}?thanks=1")
    assert "ご協力ありがとうございました" in client.get(response.headers["Location"]).get_data(as_text=True)
    [row] = answers(app)
    assert (row.mode, row.distance_band, row.origin_code) == ("rail", "10-30", "")
    with app.app_context():
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.answer"))
        assert audit.actor == "participant (anonymous)" and "127.0.0.1" not in str(audit.after)


def test_answers_store_nothing_that_identifies_anyone(app):
    with app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("event_survey_answers")}
    assert columns == {"id", "event_id", "mode", "distance_band", "origin_code", "created_at"}


def test_an_origin_alone_is_an_answer(app, client, slug):
    assert answer(client, slug, mode="car", distance_band="", origin_code="131091").status_code == 303
    assert answers(app)[0].origin_code == "131091"


@pytest.mark.parametrize("values, field", [
    ({"mode": ""}, "mode"),
    ({"mode": "horse"}, "mode"),
    ({"distance_band": "9000"}, "distance_band"),
    ({"distance_band": "", "origin_code": ""}, "distance_band"),
    ({"distance_band": "", "origin_code": "999999"}, "origin_code"),
])
def test_an_incomplete_answer_is_explained_beside_the_question(app, client, slug, values, field):
    response = answer(client, slug, **values)
    assert response.status_code == 422
    assert re.search(rf'id="error-{field}" class="field-error">[^<]+<', response.get_data(as_text=True))
    assert answers(app) == []


def test_a_closed_survey_thanks_and_takes_nothing(app, client, slug):
    with app.app_context():
        db.session.scalar(select(Event)).survey_open = False
        db.session.commit()
    assert "締め切りました" in client.get(f"/s/{slug}").get_data(as_text=True)
    token = token_from(client, "/")
    response = client.post(f"/s/{slug}", data={"mode": "rail", "distance_band": "1-3", "csrf_token": token})
    assert response.status_code == 409 and answers(app) == []


def test_an_unknown_survey_is_not_found(client):
    assert client.get("/s/nosuch").status_code == 404
    assert client.get("/s/" + "x" * 40).status_code == 404


def test_one_browser_answers_for_at_most_five_people(app, client, slug):
    statuses = [answer(client, slug).status_code for _ in range(6)]
    assert statuses == [303] * 5 + [429]
    assert len(answers(app)) == 5
    assert "複数人分" in client.get(f"/s/{slug}?thanks=1").get_data(as_text=True)


@pytest.fixture
def limited(database_url, app):
    """The app with rate limits on (TestConfig turns them off for every other test)."""
    limited_app = create_app(config_for(database_url, RATELIMIT_ENABLED=True))
    yield limited_app
    with limited_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_one_client_flooding_the_survey_is_stopped(app, slug, limited):
    client = limited.test_client()
    token = csrf_token(client, f"/s/{slug}")
    statuses = []
    for _ in range(12):
        client.delete_cookie(f"survey_{slug}", path=f"/s/{slug}")   # a script ignores the cookie
        statuses.append(client.post(f"/s/{slug}", data={"mode": "car", "distance_band": "3-10",
                                                        "csrf_token": token}).status_code)
    assert statuses == [303] * 10 + [429] * 2
    assert client.get(f"/s/{slug}").status_code == 200                   # reading is never limited
    with limited.app_context():
        assert db.session.scalar(select(func.count(EventSurveyAnswer.id))) == 10


def test_the_organiser_sees_a_live_tally_and_gives_origins_a_distance(app, client, slug):
    for values in ({"mode": "rail"}, {"mode": "rail", "distance_band": "3-10"}, {"mode": "bus"},
                   {"mode": "car", "distance_band": "", "origin_code": "131091"},
                   {"mode": "car", "distance_band": "", "origin_code": "131091"}):
        client.delete_cookie(f"survey_{slug}", path=f"/s/{slug}")
        assert answer(client, slug, **values).status_code == 303
    organiser = app.test_client()
    login(organiser)
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
    tally = organiser.get(f"/organiser/events/{event_id}/survey", headers={"HX-Request": "true"})
    text = tally.get_data(as_text=True)
    assert "<html" not in text and 'data-answers="5"' in text and 'hx-trigger="every 15s"' in text
    assert re.search(r'data-mode="car"><th scope="row">[^<]+</th><td class="num">2<', text)
    assert "5件のうち3件に距離があり" in text
    assert organiser.get(f"/organiser/events/{event_id}/survey").status_code == 302   # no htmx: the event's page
    page = organiser.get(f"/organiser/events/{event_id}").get_data(as_text=True)
    assert 'name="origin_km_131091"' in page and "品川区" in page
    url = f"/organiser/events/{event_id}/survey/origins"
    bad = organiser.post(url, data={"origin_km_131091": "-3", "csrf_token": token_from(organiser, url.rsplit("/", 2)[0])})
    assert bad.status_code == 422
    ok = organiser.post(url, data={"origin_km_131091": "８", "csrf_token": token_from(organiser, url.rsplit("/", 2)[0])})
    assert ok.status_code == 303
    text = organiser.get(f"/organiser/events/{event_id}/survey", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "5件のうち5件に距離があり" in text


def test_the_organiser_closes_and_reopens_the_survey(app, slug):
    organiser = app.test_client()
    login(organiser)
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
    url = f"/organiser/events/{event_id}/survey/state"
    token = token_from(organiser, f"/organiser/events/{event_id}")
    assert organiser.post(url, data={"open": "0", "csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Event.survey_open)) is False
    assert organiser.post(url, data={"open": "1", "csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Event.survey_open)) is True
        actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "event")
                                          .order_by(AuditEntry.id)))
    assert actions[-2:] == ["event.survey_close", "event.survey_open"]


def test_the_survey_qr_code_reads_back_as_the_survey_link(app, slug):
    import io

    import zxingcpp
    from PIL import Image

    organiser = app.test_client()
    login(organiser)
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
    png = organiser.get(f"/organiser/events/{event_id}/survey/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert code.text == f"http://localhost/s/{slug}"

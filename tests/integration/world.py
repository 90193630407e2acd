"""One of everything, for the route x role matrix and the hostile-input tests: every kind of account,
add-ons of two organisers, a confirmed batch and an open one, stored files, a saved result, a
certificate. Returns ids, tokens and e-mail addresses, never ORM objects."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from resident_app.extensions import db
from resident_app.models import (AccountStatus, AddOn, AddOnKind, Batch, Contribution, FactorSet, Invalidation,
                                 Role, User)
from resident_app.services.batches import close_batch
from resident_app.services.calculations import calculate, parse_form, save_result
from resident_app.carbon.event_input import read_event_inputs
from resident_app.services.events import EventData, create_event, save_estimate
from resident_app.services.factors import active_factor_set
from resident_app.services.programme import current_rate, current_unit_prices
from resident_app.services.programme_content import HOUSEHOLD_SLUG

from .pool_data import addon, build_pool, paid, user

ADMIN = "admin@city.example.jp"
OTHER_ORGANISER = "other@npo.example.jp"
PENDING_ORGANISER = "pending@npo.example.jp"
SUSPEND_ME = "suspend-me@npo.example.jp"


@dataclass(frozen=True)
class World:
    """What the URLs of every route need, and who signs in."""

    emails: dict[str, str]           # role -> e-mail ("organiser" owns the add-ons below)
    addon_id: int                    # the organiser's event add-on
    other_addon_id: int              # another organiser's add-on
    slug: str                        # the organiser's add-on, for the residents' pages
    household_slug: str              # the programme's own household offset: the resident chooses the amount
    batch_id: int                    # confirmed
    open_batch_id: int               # closed, nothing bought yet
    invalidation_id: int             # of the confirmed batch
    contribution_id: int
    certificate_token: str
    file_id: int                     # the confirmed invalidation's notice
    set_id: int                      # the active factor set
    pending_user_id: int             # an organiser waiting for approval
    target_user_id: int              # an active organiser staff may suspend
    saved_token: str                 # a saved calculator result
    event_id: int                    # the organiser's event, estimated, nothing paid yet
    event_slug: str                  # its public page and travel survey
    learn_slug: str = "credits"
    tariff_kind: str = "electricity"
    export_identifier: str = "contributions"


def build_world(app, tmp_path) -> World:
    pool = build_pool(app, tmp_path)
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.email == pool.staff_email))
        user(ADMIN, Role.ADMIN, "環境政策課")
        other = user(OTHER_ORGANISER, Role.ORGANISER, "ほかの団体")
        other_addon = addon(other, AddOnKind.EVENT_TICKET, "ほかの団体のイベント")
        pending = user(PENDING_ORGANISER, Role.ORGANISER, "審査待ちの団体", status=AccountStatus.PENDING)
        target = user(SUSPEND_ME, Role.ORGANISER, "停止される団体")
        event = db.session.get(AddOn, pool.event_id)
        now = datetime.now(timezone.utc)
        paid(event, 400, paid_at=now - timedelta(minutes=4), quantity=2)
        open_batch = close_batch(now - timedelta(minutes=1), actor=staff)
        confirmed = db.session.scalar(select(Batch).where(Batch.number == pool.batch_number))
        invalidation = db.session.get(Invalidation, pool.invalidation_id)
        contribution = db.session.get(Contribution, pool.open_contribution_id)
        factor_set = active_factor_set() or db.session.scalar(select(FactorSet))
        rate = current_rate()
        entered = parse_form({"electricity": "300"}, [])
        saved, _delete_key = save_result(calculate(entered, factor_set, rate.yen_per_t if rate else None))
        organiser = db.session.scalar(select(User).where(User.email == pool.organiser_email))
        festival = create_event(EventData(name_ja="区民まつり", starts_on=date(2027, 5, 3), ends_on=date(2027, 5, 4),
                                          venue="区民広場", municipality_code="131016", expected_participants=200),
                                actor=organiser)
        save_estimate(festival, read_event_inputs({"participants": 200, "days": 2, "participant_travel": [
            {"mode": "rail", "one_way_km": 12, "share_percent": 100}]}), share_percent=100, actor=organiser)
        return World(
            emails={"organiser": pool.organiser_email, "other_organiser": OTHER_ORGANISER, "staff": pool.staff_email,
                    "admin": ADMIN, "pending_organiser": PENDING_ORGANISER},
            addon_id=event.id, other_addon_id=other_addon.id, slug=event.slug, household_slug=HOUSEHOLD_SLUG,
            batch_id=confirmed.id, open_batch_id=open_batch.id, invalidation_id=invalidation.id,
            contribution_id=contribution.id, certificate_token=contribution.certificate_token,
            file_id=invalidation.notice_file_id, set_id=factor_set.id, pending_user_id=pending.id,
            target_user_id=target.id, saved_token=saved.token, event_id=festival.id, event_slug=festival.slug)

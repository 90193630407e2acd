"""Content the programme itself owns (the household offset add-on), and demo content for `make run`."""
from __future__ import annotations

import secrets
from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import AccountStatus, AddOn, AddOnKind, Role, User, utcnow
from .audit import add_audit

PROGRAMME_EMAIL = "programme@system.invalid"
HOUSEHOLD_SLUG = "household"
DEMO_ORGANISER_EMAIL = "organiser@example.jp"
DEMO_STAFF_EMAIL = "staff@example.jp"
DEMO_EMAILS = (DEMO_ORGANISER_EMAIL, DEMO_STAFF_EMAIL)


def _user(email: str, *, role: Role, organisation: str, contact: str, password: str | None) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, False
    user = User(email=email, role=role, status=AccountStatus.ACTIVE, organisation=organisation,
                contact_name=contact, session_token=secrets.token_hex(16), approved_at=utcnow())
    # The programme's own account cannot sign in: its password is random and thrown away.
    user.set_password(password or secrets.token_urlsafe(32))
    db.session.add(user)
    db.session.flush()
    add_audit("system", "user.create", "user", user.id, None, {"email": email, "role": str(role)})
    return user, True


def _addon(slug: str, owner: User, **fields) -> bool:
    if db.session.scalar(select(AddOn).where(AddOn.slug == slug)) is not None:
        return False
    addon = AddOn(slug=slug, owner_id=owner.id, **fields)
    db.session.add(addon)
    db.session.flush()
    add_audit("system", "addon.create", "addon", addon.id, None, {"slug": slug})
    return True


def load_programme_content() -> bool:
    """The household offset add-on the calculator links to. Safe to run again."""
    owner, _ = _user(PROGRAMME_EMAIL, role=Role.STAFF, organisation="Programme", contact="", password=None)
    created = _addon(
        HOUSEHOLD_SLUG, owner, kind=AddOnKind.HOUSEHOLD,
        title_ja="わが家のCO2の残りをオフセット", title_en="Offset what remains of your household's CO2",
        description_ja="見える化で計算した、削減努力のあとに残る排出量の一部または全部をオフセットします。金額はご自身で決められます。",
        description_en="Offset some or all of what remains of your household's CO2 after your reductions, "
                       "as worked out in the calculator. You choose the amount.",
        unit_price_yen=1000, variable_amount=True, min_amount_yen=100, max_amount_yen=300_000,
        is_active=True, is_public=True)
    db.session.commit()
    return created


def demo_password() -> str:
    """A fresh random password for a demo account: no password is ever written in the code."""
    return secrets.token_urlsafe(12)


def load_demo_content(*, new_passwords: bool = False) -> dict[str, str]:
    """A demo organiser with a community-bus fare and an event surcharge, and a demo staff account.

    Returns {e-mail: password} for the accounts created now (or given new passwords): the only
    time anyone learns them, since only their hashes are stored."""
    passwords = {email: demo_password() for email in DEMO_EMAILS}
    organiser, organiser_created = _user(DEMO_ORGANISER_EMAIL, role=Role.ORGANISER,
                                         organisation="みどり台商店街振興組合 (demo)", contact="山田 花子",
                                         password=passwords[DEMO_ORGANISER_EMAIL])
    staff, staff_created = _user(DEMO_STAFF_EMAIL, role=Role.ADMIN, organisation="環境政策課 (demo)",
                                 contact="佐藤 一郎", password=passwords[DEMO_STAFF_EMAIL])
    shown = {}
    for user, created in ((organiser, organiser_created), (staff, staff_created)):
        if created or new_passwords:
            if not created:
                user.set_password(passwords[user.email])
                user.session_token = secrets.token_hex(16)  # sessions opened with the old password end
                add_audit("system", "user.demo_password", "user", user.id)
            shown[user.email] = passwords[user.email]
    _addon("demo-bus", organiser, kind=AddOnKind.COMMUNITY_BUS,
           title_ja="コミュニティバス カーボン・オフセット乗車賃", title_en="Community bus carbon-offset fare",
           description_ja="いつもの運賃に100円を上乗せして、移動で出るCO2の埋め合わせに参加できます。",
           description_en="Add 100 yen to your usual fare to help make up for the CO2 of getting around.",
           unit_price_yen=100, place="みどり台ルート", is_active=True, is_public=True)
    _addon("demo-event", organiser, kind=AddOnKind.EVENT_TICKET,
           title_ja="みどり台 環境フェスタ 2027 入場券オフセット", title_en="Midoridai Eco Festa 2027 ticket offset",
           description_ja="会場の電気や来場者の移動で出るCO2の一部を、入場券への上乗せでオフセットします。",
           description_en="A surcharge on the ticket offsets part of the CO2 from the venue's power and "
                          "visitors' travel.",
           unit_price_yen=200, event_date=date.today() + timedelta(days=60), place="みどり台公園",
           emissions_note_ja="事前算定：来場者1人あたり約2 kg-CO2（会場電力と公共交通での移動）",
           emissions_note_en="Estimated beforehand: about 2 kg-CO2 per visitor (venue power and travel by public transport)",
           max_units=2000, is_active=True, is_public=True)
    db.session.commit()
    return shown

"""The add-on form: read what was typed (full-width digits, commas, local date-times) into AddOnData.

Parsing errors are kept per field; the rules of the programme (price range, sale window, cap) are
the service's, so the page can show both kinds beside their fields in one go."""
from __future__ import annotations

from datetime import datetime
from typing import Mapping, Sequence

from flask_babel import lazy_gettext as _l

from ..models import AddOn, AddOnKind
from ..services.addons import TOKYO, AddOnData
from ..web.text import clean_text
from ..web.typed import day, japan_datetime, whole_number

TEXT_FIELDS = ("title_ja", "title_en", "description_ja", "description_en", "place",
               "emissions_note_ja", "emissions_note_en")
YEN_FIELDS = ("unit_price_yen", "min_amount_yen", "max_amount_yen")
FORM_FIELDS = ("kind", *TEXT_FIELDS, *YEN_FIELDS, "event_date", "sale_starts_at", "sale_ends_at", "max_units",
               "event_id")
MAX_DIGITS = 9
INPUT_DATETIME = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
# The readers every form shares (web.typed), under the names the organiser pages use.
parse_date = day
parse_local_datetime = japan_datetime


def parse_whole_number(raw: str | None, *, yen: bool = False) -> int | None:
    """'１００', '1,000', '¥1,000' and '1000円' are numbers; blank is None; anything else a NumberError."""
    return whole_number(raw, yen=yen, max_digits=MAX_DIGITS)


def local_input(moment: datetime | None) -> str:
    """An aware datetime as a datetime-local input value in Asia/Tokyo."""
    return moment.astimezone(TOKYO).strftime(INPUT_DATETIME) if moment else ""


def blank_values() -> dict[str, object]:
    """The new-add-on form before anything is typed."""
    values: dict[str, object] = {name: "" for name in FORM_FIELDS}
    values.update(kind=AddOnKind.EVENT_TICKET.value, unit_price_yen="100", is_active=True)
    return values


def values_from(addon: AddOn | AddOnData) -> dict[str, object]:
    """An add-on (or an add-on's data, such as one filled in from an event's estimate) as the form shows it."""
    values: dict[str, object] = {name: getattr(addon, name) or "" for name in TEXT_FIELDS}
    values.update(
        kind=str(addon.kind), is_active=addon.is_active,
        event_date=addon.event_date.isoformat() if addon.event_date else "",
        sale_starts_at=local_input(addon.sale_starts_at), sale_ends_at=local_input(addon.sale_ends_at),
        max_units="" if addon.max_units is None else str(addon.max_units),
        event_id="" if addon.event_id is None else str(addon.event_id),
        **{name: "" if getattr(addon, name) is None else str(getattr(addon, name)) for name in YEN_FIELDS},
    )
    return values


def read_addon_form(form: Mapping[str, str], kinds: Sequence[AddOnKind]
                    ) -> tuple[AddOnData, dict[str, object], dict[str, str]]:
    """The parsed data, the values to show back, and the fields that could not be read."""
    values: dict[str, object] = {name: clean_text(form.get(name)) for name in FORM_FIELDS}
    values["is_active"] = form.get("is_active") == "1"
    errors: dict[str, str] = {}
    data = AddOnData(is_active=bool(values["is_active"]))
    for name in TEXT_FIELDS:
        setattr(data, name, str(values[name]))
    kind = str(values["kind"])
    if kind in {k.value for k in kinds}:
        data.kind = AddOnKind(kind)
    elif kind in {k.value for k in AddOnKind}:
        errors["kind"] = _l("Household offsets are run by the programme itself. Choose another kind.")
    else:
        errors["kind"] = _l("Choose what kind of add-on this is.")
    for name in YEN_FIELDS:
        if name != "unit_price_yen" and data.kind != AddOnKind.HOUSEHOLD:
            continue  # the bounds belong to household offsets alone
        try:
            setattr(data, name, parse_whole_number(str(values[name]), yen=True))
        except ValueError:
            errors[name] = _l("Enter a whole number of yen, for example 100 or 1,000.")
    try:
        data.event_id = parse_whole_number(str(values["event_id"]))
    except ValueError:
        errors["event_id"] = _l("This add-on cannot be linked to that event.")
    try:
        data.max_units = parse_whole_number(str(values["max_units"]))
    except ValueError:
        errors["max_units"] = _l("Enter a whole number, for example 500, or leave it empty for no cap.")
    try:
        data.event_date = parse_date(str(values["event_date"]))
    except ValueError:
        errors["event_date"] = _l("Enter a date such as 2027-04-29.")
    for name in ("sale_starts_at", "sale_ends_at"):
        try:
            setattr(data, name, parse_local_datetime(str(values[name])))
        except ValueError:
            errors[name] = _l("Enter a date and time such as 2027-04-29 09:00 (Japan time).")
    return data, values, errors

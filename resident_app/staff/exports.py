"""Exports (/staff/exports): contributions, pooled totals by month and add-on, batches with their
purchases and invalidations, as CSV (UTF-8 with BOM) or XLSX, streamed. The rows come from
services.exports, which the `flask pool export` command uses as well."""
from __future__ import annotations

from datetime import date

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import AddOn, ContributionStatus, User, utcnow
from ..services.exports import TOKYO, export_rows, record_export, tokyo_period
from ..web.csv_export import csv_response
from ..web.typed import chosen_id, day
from ..web.xlsx_export import xlsx_response
from . import actor, bp

FORMATS = ("csv", "xlsx")


def _choices() -> dict[str, list]:
    addons = db.session.execute(select(AddOn.id, AddOn.title_ja, AddOn.title_en, AddOn.slug)
                                .order_by(AddOn.title_ja, AddOn.id)).all()
    organisers = db.session.execute(select(User.id, User.organisation, User.email)
                                    .where(User.id.in_(select(AddOn.owner_id)))
                                    .order_by(User.organisation, User.id)).all()
    return {"addons": addons, "organisers": organisers, "statuses": list(ContributionStatus)}


def _page(*, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, form: str = "",
          status: int = 200):
    return render_template("staff/exports.html", errors=errors or {}, values=values or {}, form=form,
                           **_choices()), status


@bp.get("/exports")
def exports():
    """One form for each export."""
    return _page()


def _period(values: dict[str, str], errors: dict[str, str]) -> tuple[date | None, date | None]:
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:
            days[name] = day(values.get(name))
        except ValueError:
            days[name], errors[name] = None, _("Enter a date such as 2027-04-01.")
    if days["from"] and days["to"] and days["to"] < days["from"]:
        errors["to"] = _("The last day must not come before the first.")
    return days["from"], days["to"]


def _int_choice(raw: str, allowed: set[int], errors: dict[str, str], name: str) -> int | None:
    if not raw:
        return None
    chosen = chosen_id(raw)
    if chosen not in allowed:
        errors[name] = _("Choose one of the options.")
        return None
    return chosen


def _download(kind: str, fields: tuple[str, ...]):
    values = {name: (request.args.get(name) or "").strip() for name in ("from", "to", "format", *fields)}
    errors: dict[str, str] = {}
    first, last = _period(values, errors)
    file_format = values["format"] or "csv"
    if file_format not in FORMATS:
        errors["format"] = _("Choose CSV or Excel.")
    options: dict[str, object] = {}
    if kind == "contributions":
        choices = _choices()
        options["addon_id"] = _int_choice(values["addon"], {a.id for a in choices["addons"]}, errors, "addon")
        options["owner_id"] = _int_choice(values["organiser"], {o.id for o in choices["organisers"]}, errors,
                                          "organiser")
        status = values["status"] or ContributionStatus.PAID.value
        if status == "all":
            options["status"] = None
        elif status in {s.value for s in ContributionStatus}:
            options["status"] = ContributionStatus(status)
        else:
            errors["status"] = _("Choose one of the options.")
    if errors:
        return _page(errors=errors, values=values, form=kind, status=422)
    start, end = tokyo_period(first, last)
    record_export(actor(), kind, {**values, "format": file_format})
    rows = export_rows(kind, start=start, end=end, **options)
    today = utcnow().astimezone(TOKYO).date()
    span = "-".join(d.strftime("%Y%m%d") for d in (first, last) if d) or f"all-{today:%Y%m%d}"
    filename = f"{kind}-{span}.{file_format}"
    if file_format == "xlsx":
        return xlsx_response(rows, filename, sheet_title=kind)
    return csv_response(rows, filename)


@bp.get("/exports/contributions")
def exports_contributions():
    """Contributions of a period (Japan time), optionally one add-on, one organiser, one status."""
    return _download("contributions", ("addon", "organiser", "status"))


@bp.get("/exports/totals")
def exports_totals():
    """Paid contributions per month (Japan time) and add-on."""
    return _download("totals", ())


@bp.get("/exports/batches")
def exports_batches():
    """Batches by cut-off date, each purchase and invalidation, with corrections applied."""
    return _download("batches", ())

"""Purchase batches (購入バッチ): close one after a live preview, record its credit purchase and its
invalidations (無効化), confirm it once every warning is checked, and correct it afterwards.

The rules live in services.batches; these views read the forms, show every message beside its
field, and never edit a confirmed batch (a correcting entry goes on top instead)."""
from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..carbon.pool import (EXCESS_TONNES, PURCHASE_DIFFERS, SAME_PLACE, SERIALS_MISMATCH, TONNES_SHORT,
                           TOTAL_MISMATCH, PoolWarning, SerialRange, clean_ranges)
from ..evidence import CREDIT_TYPE_LABELS, REGISTRY_LABELS, credit_type_label, registry_label
from ..extensions import db
from ..models import (Batch, BatchStatus, CreditPurchase, CreditType, Invalidation, InvalidationCorrection,
                      Registry, User, utcnow)
from ..services import DomainError
from ..services.batches import close_batch, confirm_batch, late_money, preview_batch
from ..services.open_ledger import BatchLedger, ledger_by_batch, ledger_head
from ..services.corrections import record_correction
from ..services.days import cutoff_instant, tokyo_today
from ..services.invalidations import record_invalidation, update_invalidation
from ..services.purchases import record_purchase
from ..services.register import (INVALIDATION_FIELDS, PURCHASE_FIELDS, BatchView, batch_view, list_batches,
                                 warning_message)
from ..services.errors import InvalidInput
from ..web.htmx import render_page_or_partial
from ..web.i18n import local_date, number, yen
from ..web.text import clean_text
from ..web.typed import chosen_id, page_number
from . import bp
from .forms import (BAD_DATE, BAD_NUMBER, BAD_RANGE, BAD_YEN, MAX_RANGE_ROWS, RANGE_ROWS, FormState, range_lines,
                    read_date, read_invalidation_form, read_purchase_form, whole_number)
from .queries import batch_contributions
from .uploads import take_upload

STATUS_LABELS = {
    BatchStatus.DRAFT: _l("Closed: credits not bought yet"),
    BatchStatus.PURCHASED: _l("Credits bought: not confirmed yet"),
    BatchStatus.INVALIDATED: _l("Confirmed: retired"),
}
FIELD_LABELS = {
    "provider": _l("Provider"),
    "credit_type": _l("Credit type"),
    "project_name": _l("Project name"),
    "project_id": _l("Project number"),
    "credit_place": _l("Place where the credit was created"),
    "tonnes": _l("Tonnes"),
    "price_per_t_yen": _l("Price per tonne (yen)"),
    "total_yen": _l("Total (yen)"),
    "purchased_on": _l("Purchase date"),
    "registry": _l("Registry"),
    "invalidated_on": _l("Invalidation date"),
    "serial_ranges": _l("Serial number ranges"),
    "purpose": _l("Purpose"),
    "offset_place": _l("Place offset"),
}
# What each warning means and why it matters, beside the warning's own figures.
WARNING_MEANINGS = {
    TOTAL_MISMATCH: _l("The invoice total should be the tonnes times the price per tonne. Check the invoice for "
                       "fees or a typing mistake."),
    SERIALS_MISMATCH: _l("Each serial number stands for one tonne, so the ranges on the registry's notice must "
                         "count exactly the tonnes recorded. Otherwise the public record does not match the "
                         "registry."),
    TONNES_SHORT: _l("The tonnes invalidated are fewer than this batch needs after the carried balance. The "
                     "balance would have to make up the difference, and later batches would get less of it."),
    SAME_PLACE: _l("A credit cannot offset emissions in the place where it was created: the same reduction "
                   "would be counted twice. The registry refuses such an invalidation."),
    PURCHASE_DIFFERS: _l("The tonnes bought and the tonnes invalidated should be the same. Credits bought but "
                         "not invalidated are not retired and must not be reported as retired."),
    EXCESS_TONNES: _l("Residents' money pays for every tonne bought. Tonnes beyond what the batch needs are not "
                      "lost: they are retired too, and the transparency report shows them as surplus that later "
                      "batches use first. Check that buying more was intended."),
}
STATUS_CLASSES = {BatchStatus.DRAFT: "status-draft", BatchStatus.PURCHASED: "status-purchased",
                  BatchStatus.INVALIDATED: "status-confirmed"}


def status_label(status: BatchStatus | str) -> str:
    return str(STATUS_LABELS.get(BatchStatus(status), status))


bp.add_app_template_global(status_label, "batch_status_label")
bp.add_app_template_global(lambda status: STATUS_CLASSES.get(BatchStatus(status), ""), "batch_status_class")


def _me() -> User:
    return current_user._get_current_object()


def _batch_or_404(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        abort(404)
    return batch


# --- the list and closing a batch ----------------------------------------------------------------

@bp.get("/batches")
def batches():
    """Every batch, newest first, with its status, what it owed, the surplus it used and its tonnes."""
    rows = [(batch, batch_view(batch)) for batch in list_batches()]
    return render_template("staff/batches.html", rows=rows)


def default_cutoff() -> date:
    """Yesterday in Tokyo: the latest whole day a batch can take (a cut-off cannot be in the future)."""
    return tokyo_today() - timedelta(days=1)


def _preview(state: FormState):
    """The preview for the cut-off as typed, or None with the reason beside the field."""
    try:
        day = read_date(state.values["cutoff"])
    except ValueError:
        state.errors["cutoff"] = BAD_DATE
        return None
    if day is None:
        state.errors["cutoff"] = _("Choose the last day of payments to take into the batch.")
        return None
    if cutoff_instant(day) > utcnow():
        state.errors["cutoff"] = _("The cut-off cannot be in the future.")
    return preview_batch(day)


@bp.route("/batches/new", methods=["GET", "POST"])
def batch_new():
    """Choose a cut-off and see what the batch would take (live with htmx, or the Preview button),
    then close it (POST)."""
    if request.method == "POST":
        return _close()
    state = FormState({"cutoff": clean_text(request.args.get("cutoff")) or default_cutoff().isoformat(),
                       "note": ""})
    preview = _preview(state)
    return render_page_or_partial("staff/batch_new.html", "staff/_batch_preview.html", state=state,
                                  preview=preview)


def _close():
    state = FormState({"cutoff": clean_text(request.form.get("cutoff")),
                       "note": clean_text(request.form.get("note"))})
    preview = _preview(state)
    if not state.errors:
        try:
            batch = close_batch(read_date(state.values["cutoff"]), actor=_me(), note=state.values["note"])
        except DomainError as error:
            state.errors = field_errors(error, CLOSE_FORM)
            preview = _preview(FormState(dict(state.values)))
        else:
            flash(_("Batch %(number)s is closed with %(count)s contributions. Record the credit purchase next.",
                    number=batch.number, count=number(batch.contribution_count)), "success")
            return redirect(url_for("staff.batch", batch_id=batch.id), code=303)
    return render_page_or_partial("staff/batch_new.html", "staff/_batch_preview.html", status=422,
                                  state=state, preview=preview)


# --- one batch ----------------------------------------------------------------------------------

def format_value(name: str, value: Any) -> str:
    """A purchase or invalidation value as shown (also a correction's stored JSON value)."""
    if value is None or value == "":
        return "–"
    if name == "serial_ranges":
        return "\n".join(f"{r.start} – {r.end}" for r in clean_ranges(value))
    if name in ("invalidated_on", "purchased_on"):
        return local_date(date.fromisoformat(value) if isinstance(value, str) else value)
    if name == "registry":
        return registry_label(value)
    if name == "credit_type":
        return credit_type_label(value)
    if name == "tonnes":
        return _("%(t)s t", t=number(int(value)))
    if name in ("price_per_t_yen", "total_yen"):
        return yen(int(value))
    return str(value)


def purchase_rows(batch: Batch, view: BatchView) -> list[tuple[str, str, str, str | None]]:
    """(field, label, value shown, original value if a correction changed it)."""
    if view.purchase is None or batch.purchase is None:
        return []
    return [(name, str(FIELD_LABELS[name]), format_value(name, getattr(view.purchase, name)),
             format_value(name, getattr(batch.purchase, name)) if name in view.purchase.corrected else None)
            for name in PURCHASE_FIELDS]


def invalidation_rows(item: Invalidation, view) -> list[tuple[str, str, str, str | None]]:
    def original(name: str) -> Any:
        return item.credit_registry if name == "registry" else getattr(item, name)
    return [(name, str(FIELD_LABELS[name]), format_value(name, getattr(view, name)),
             format_value(name, original(name)) if name in view.corrected else None)
            for name in INVALIDATION_FIELDS]


def warnings_key(warnings: tuple[PoolWarning, ...] | list[PoolWarning]) -> str:
    """Identifies the warnings a confirmation form was shown, so a change since then is noticed."""
    payload = json.dumps([[w.code, w.params] for w in warnings], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def purchase_values(batch: Batch) -> dict[str, Any]:
    purchase = batch.purchase
    if purchase is None:
        return {"provider": "", "credit_type": CreditType.J_CREDIT.value, "project_name": "", "project_id": "",
                "credit_place": "", "tonnes": str(batch.tonnes_required or ""), "price_per_t_yen": "",
                "total_yen": "", "purchased_on": tokyo_today().isoformat()}
    return {"provider": purchase.provider, "credit_type": str(purchase.credit_type),
            "project_name": purchase.project_name, "project_id": purchase.project_id,
            "credit_place": purchase.credit_place, "tonnes": str(purchase.tonnes),
            "price_per_t_yen": str(purchase.price_per_t_yen), "total_yen": str(purchase.total_yen),
            "purchased_on": purchase.purchased_on.isoformat()}


def _blank_rows(count: int = RANGE_ROWS) -> list[tuple[str, str]]:
    return [("", "")] * count


def new_invalidation_values(batch: Batch, view: BatchView) -> dict[str, Any]:
    registry = Registry.J_VER if view.purchase and view.purchase.credit_type == CreditType.J_VER \
        else Registry.J_CREDIT
    remaining = max(0, (view.purchase.tonnes if view.purchase else batch.tonnes_required) - view.invalidated_t)
    return {"registry": registry.value, "invalidated_on": "", "tonnes": str(remaining or ""), "purpose": "",
            "offset_place": "", "ranges": _blank_rows(), "range_rows": RANGE_ROWS}


def invalidation_values(item: Invalidation) -> dict[str, Any]:
    ranges = [(r.start, r.end) for r in clean_ranges(item.serial_ranges)]
    rows = max(RANGE_ROWS, len(ranges) + 1)
    return {"id": item.id, "registry": str(item.credit_registry), "invalidated_on": item.invalidated_on.isoformat(),
            "tonnes": str(item.tonnes), "purpose": item.purpose, "offset_place": item.offset_place,
            "ranges": ranges + _blank_rows(rows - len(ranges)), "range_rows": rows}


def correction_targets(batch: Batch, view: BatchView) -> list[tuple[str, str]]:
    """(value, label) for the correction form's "what to correct" choice."""
    options: list[tuple[str, str]] = []
    if view.purchase is not None:
        options += [(f"purchase:{name}", _("Purchase: %(field)s", field=FIELD_LABELS[name]))
                    for name in PURCHASE_FIELDS]
    for item in view.invalidations:
        options += [(f"invalidation:{item.id}:{name}",
                     _("Invalidation “%(purpose)s”: %(field)s", purpose=item.purpose, field=FIELD_LABELS[name]))
                    for name in INVALIDATION_FIELDS]
    return options


def confirmable(batch: Batch, view: BatchView) -> bool:
    """Whether the page offers the confirmation form (the service checks the rest): never for a
    batch that holds no contribution any more (all of them refunded or disputed while it was open)."""
    return not batch.is_confirmed and batch.contribution_count > 0 and (
        (batch.status == BatchStatus.PURCHASED and bool(view.invalidations))
        or (batch.status == BatchStatus.DRAFT and batch.tonnes_required == 0))


def _batch_page(batch: Batch, *, status: int = 200, forms: dict[Any, FormState] | None = None):
    """The batch page; `forms` carries a refused form's values and errors under its key."""
    forms = forms or {}
    view = batch_view(batch)
    page = batch_contributions(batch.id, page_number(request.args.get("page")))
    items = {item.id: item for item in batch.invalidations}
    edit_forms = {i.id: forms.get(("edit", i.id)) or FormState(invalidation_values(items[i.id]))
                  for i in view.invalidations} if not batch.is_confirmed else {}
    warnings = [(w, str(warning_message(w)), str(WARNING_MEANINGS.get(w.code, ""))) for w in view.warnings]
    can_confirm = confirmable(batch, view)
    corrections = [(c, _correction_target_label(c, view), str(FIELD_LABELS.get(c.field, c.field)),
                    format_value(c.field, c.old_value), format_value(c.field, c.new_value))
                   for c in view.corrections]
    return render_template(
        "staff/batch.html", batch=batch, view=view, page=page, items=items,
        purchase_form=forms.get("purchase") or FormState(purchase_values(batch)),
        invalidation_form=forms.get("invalidation") or FormState(new_invalidation_values(batch, view)),
        edit_forms=edit_forms, confirm_form=forms.get("confirm") or FormState({"acks": set(), "final": False}),
        correction_form=forms.get("correction") or FormState({"target": "", "new_value": "", "serial_ranges": "",
                                                              "reason": ""}),
        late=late_money(batch), ledger=batch_ledger(batch) if batch.is_confirmed else None,
        purchase_rows=purchase_rows(batch, view),
        invalidation_rows={i.id: invalidation_rows(items[i.id], i) for i in view.invalidations},
        warnings=warnings, warnings_key=warnings_key(view.warnings), can_confirm=can_confirm,
        corrections=corrections, correction_targets=correction_targets(batch, view),
        credit_types=[(c.value, str(CREDIT_TYPE_LABELS[c])) for c in CreditType],
        registries=[(r.value, str(REGISTRY_LABELS[r])) for r in Registry],
    ), status


def batch_ledger(batch: Batch) -> BatchLedger:
    """What the ledger holds for a confirmed batch (the figures the transparency page publishes)."""
    return ledger_by_batch(ledger_head(), batch.id).get(batch.id, BatchLedger())


def _correction_target_label(correction: InvalidationCorrection, view: BatchView) -> str:
    if correction.purchase_id is not None:
        return _("Purchase")
    purpose = next((i.purpose for i in view.invalidations if i.id == correction.invalidation_id), "")
    return _("Invalidation “%(purpose)s”", purpose=purpose)


@bp.get("/batches/<int:batch_id>")
def batch(batch_id: int):
    """A batch: its figures and contributions, the purchase and invalidation forms, the warnings,
    the confirmation; once confirmed, the values with their corrections."""
    return _batch_page(_batch_or_404(batch_id))


def _refuse_if_confirmed(batch: Batch):
    """A confirmed batch is final: every edit is refused with the page and a message (409)."""
    if batch.is_confirmed:
        flash(_("Batch %(number)s is confirmed and can no longer be changed. Record a correction instead.",
                number=batch.number), "error")
        return _batch_page(batch, status=409)
    return None


PURCHASE_FORM = frozenset({*PURCHASE_FIELDS, "invoice_file"})
INVALIDATION_FORM = frozenset({*INVALIDATION_FIELDS, "notice_file"})
CONFIRM_FORM = frozenset({"acknowledged", "final"})
CORRECTION_FORM = frozenset({"target", "new_value", "serial_ranges", "reason"})
CLOSE_FORM = frozenset({"cutoff", "note"})


def field_errors(error: DomainError, fields: frozenset[str]) -> dict[str, str]:
    """The service's messages for fields on the form, to show beside them. Any other refusal
    ("record the purchase first") is flashed above the page, where it is seen whatever is shown."""
    errors = dict(error.errors) if isinstance(error, InvalidInput) else {error.field or "": error.message}
    for name, message in errors.items():
        if name not in fields:
            flash(str(message), "error")  # lazy strings cannot go into the session
    return {name: message for name, message in errors.items() if name in fields}


def _after_write(batch: Batch, warnings: list[PoolWarning], message: str, anchor: str):
    flash(message, "success")
    if warnings:
        flash(_("Check the warnings below before confirming the batch."), "warning")
    return redirect(url_for("staff.batch", batch_id=batch.id, _anchor=anchor), code=303)


@bp.post("/batches/<int:batch_id>/purchase")
def batch_purchase(batch_id: int):
    """Record the credits bought for the batch (or replace them while it is not confirmed)."""
    batch = _batch_or_404(batch_id)
    refused = _refuse_if_confirmed(batch)
    if refused:
        return refused
    data, state = read_purchase_form(request.form)
    upload = take_upload("invoice_file", state, _me())
    # No new file: keep the invoice already recorded (the service replaces every field).
    data.invoice_file = upload if upload is not None else (batch.purchase.invoice_file if batch.purchase else None)
    try:
        result = record_purchase(batch, data, actor=_me())
    except DomainError as error:
        state.errors = {**field_errors(error, PURCHASE_FORM), **state.errors}
        return _batch_page(batch, status=422, forms={"purchase": state})
    return _after_write(batch, result.warnings, _("The credit purchase is saved."), "purchase")


@bp.post("/batches/<int:batch_id>/invalidations")
def batch_invalidation_new(batch_id: int):
    """Record an invalidation (無効化) from the registry's notice; "Add a range" only adds a row."""
    batch = _batch_or_404(batch_id)
    refused = _refuse_if_confirmed(batch)
    if refused:
        return refused
    data, state = read_invalidation_form(request.form)
    upload = take_upload("notice_file", state, _me())
    if request.form.get("add_range"):
        return _more_rows(batch, state, "invalidation")
    data.notice_file = upload
    try:
        result = record_invalidation(batch, data, actor=_me())
    except DomainError as error:
        state.errors = {**field_errors(error, INVALIDATION_FORM), **state.errors}
        return _batch_page(batch, status=422, forms={"invalidation": state})
    return _after_write(batch, result.warnings, _("The invalidation is saved."), "invalidations")


@bp.post("/batches/<int:batch_id>/invalidations/<int:invalidation_id>")
def batch_invalidation_edit(batch_id: int, invalidation_id: int):
    """Change an invalidation while the batch is not confirmed."""
    batch = _batch_or_404(batch_id)
    item = db.session.get(Invalidation, invalidation_id)
    if item is None or item.batch_id != batch.id:
        abort(404)
    refused = _refuse_if_confirmed(batch)
    if refused:
        return refused
    data, state = read_invalidation_form(request.form)
    state.values["id"] = item.id
    upload = take_upload("notice_file", state, _me())
    if request.form.get("add_range"):
        return _more_rows(batch, state, ("edit", item.id))
    data.notice_file = upload if upload is not None else item.notice_file
    try:
        result = update_invalidation(item, data, actor=_me())
    except DomainError as error:
        state.errors = {**field_errors(error, INVALIDATION_FORM), **state.errors}
        return _batch_page(batch, status=422, forms={("edit", item.id): state})
    return _after_write(batch, result.warnings, _("The invalidation is changed."), f"invalidation-{item.id}")


def _more_rows(batch: Batch, state: FormState, key: Any):
    """The same form with one more serial range row; nothing is saved (works without JavaScript)."""
    state.errors = {name: message for name, message in state.errors.items() if name == "notice_file"}
    state.values["open"] = True
    if state.values["range_rows"] < MAX_RANGE_ROWS:
        state.values["range_rows"] += 1
        state.values["ranges"] = state.values["ranges"] + [("", "")]
    return _batch_page(batch, forms={key: state})


@bp.post("/batches/<int:batch_id>/confirm")
def batch_confirm(batch_id: int):
    """Confirm the batch: final. Each warning shown must be ticked, and the finality acknowledged."""
    batch = _batch_or_404(batch_id)
    refused = _refuse_if_confirmed(batch)
    if refused:
        return refused
    view = batch_view(batch)
    if not confirmable(batch, view):  # no confirmation form on the page: say what comes first
        if batch.contribution_count == 0:
            flash(_("Batch %(number)s holds no contribution any more (they were refunded or are under "
                    "dispute), so there is nothing to confirm.", number=batch.number), "error")
        elif batch.status == BatchStatus.DRAFT:
            flash(_("Record the credit purchase and its invalidation before confirming batch %(number)s.",
                    number=batch.number), "error")
        else:
            flash(_("Record the invalidation before confirming batch %(number)s.", number=batch.number), "error")
        return _batch_page(batch, status=409)
    warnings = view.warnings
    acks = {i for i, w in enumerate(warnings) if request.form.get(f"ack-{i}") == w.code}
    state = FormState({"acks": acks, "final": request.form.get("final") == "1"})
    if request.form.get("warnings_key") != warnings_key(warnings):
        state.values["acks"] = set()
        state.errors["acknowledged"] = _("The warnings changed since the page was opened. Read them again and "
                                         "tick each one.")
    elif len(acks) < len(warnings):
        state.errors["acknowledged"] = _("Tick each warning to show that you have checked it.")
    if not state.values["final"]:
        state.errors["final"] = _("Tick this box to show that you understand confirmation is final.")
    if not state.errors:
        try:
            confirm_batch(batch, actor=_me(), acknowledged={w.code for w in warnings})
        except DomainError as error:
            state.errors = field_errors(error, CONFIRM_FORM)
        else:
            flash(_("Batch %(number)s is confirmed. Its contributions are retired and their certificates now "
                    "show the invalidation.", number=batch.number), "success")
            return redirect(url_for("staff.batch", batch_id=batch.id), code=303)
    return _batch_page(batch, status=422, forms={"confirm": state})


# --- corrections --------------------------------------------------------------------------------

def _correction_value(name: str, raw: str, errors: dict[str, str]) -> Any:
    """The new value as typed, read into what record_correction expects for that field."""
    if name in ("tonnes", "price_per_t_yen", "total_yen"):
        try:
            value = whole_number(raw, yen=name != "tonnes")
        except ValueError:
            errors["new_value"] = BAD_NUMBER if name == "tonnes" else BAD_YEN
            return None
        return value if value is not None else ""
    if name in ("invalidated_on", "purchased_on"):
        try:
            return read_date(raw) or ""
        except ValueError:
            errors["new_value"] = BAD_DATE
            return None
    if name == "serial_ranges":
        try:
            return [SerialRange(start, end) for start, end in range_lines(raw)]
        except ValueError:
            errors["new_value"] = BAD_RANGE
            return None
    if name in ("registry", "credit_type"):
        labels = REGISTRY_LABELS if name == "registry" else CREDIT_TYPE_LABELS
        wanted = raw.strip().casefold()
        for member, label in labels.items():
            if wanted in (member.value.casefold(), str(label).casefold()):
                return member.value
        return raw
    return raw


@bp.post("/batches/<int:batch_id>/corrections")
def batch_correction(batch_id: int):
    """A correcting entry on a confirmed batch: the original stays visible beside the new value."""
    batch = _batch_or_404(batch_id)
    state = FormState({name: clean_text(request.form.get(name))
                       for name in ("target", "new_value", "serial_ranges", "reason")})
    if not batch.is_confirmed:
        flash(_("Batch %(number)s is not confirmed yet: change the record itself instead.", number=batch.number),
              "error")
        return _batch_page(batch, status=409)
    target: CreditPurchase | Invalidation | None = None
    name = ""
    parts = state.values["target"].split(":")
    if len(parts) == 2 and parts[0] == "purchase" and parts[1] in PURCHASE_FIELDS:
        target, name = batch.purchase, parts[1]
    elif len(parts) == 3 and parts[0] == "invalidation" and chosen_id(parts[1]) and parts[2] in INVALIDATION_FIELDS:
        item = db.session.get(Invalidation, chosen_id(parts[1]))
        target, name = (item, parts[2]) if item is not None and item.batch_id == batch.id else (None, "")
    if target is None:
        state.errors["target"] = _("Choose what to correct.")
    value = _correction_value(name, state.values["new_value"], state.errors) if target is not None else None
    serials = None
    if state.values["serial_ranges"]:  # only a raise of an invalidation's tonnes reads them
        try:
            serials = [SerialRange(start, end) for start, end in range_lines(state.values["serial_ranges"])]
        except ValueError:
            state.errors["serial_ranges"] = BAD_RANGE
    if not state.errors:
        try:
            record_correction(target, field=name, new_value=value, reason=state.values["reason"], actor=_me(),
                              serial_ranges=serials)
        except DomainError as error:
            state.errors = field_errors(error, CORRECTION_FORM)
        else:
            flash(_("The correcting entry is saved. The original value stays visible."), "success")
            return redirect(url_for("staff.batch", batch_id=batch.id, _anchor="corrections"), code=303)
    elif not state.values["reason"]:
        state.errors.setdefault("reason", _("Explain why the record is corrected."))
    return _batch_page(batch, status=422, forms={"correction": state})

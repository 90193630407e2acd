"""Exports (/staff/exports): every export the registry (resident_app/exporters.py) offers staff,
as CSV (UTF-8 with BOM, or Shift_JIS) or XLSX, with headers in the reader's language or as codes.

A download is a POST: it writes an audit row (who took which residents' names, with which
filters), and a GET must not write. The audit row stays in the database rather than only in the
web server's access log because admins read it in the console beside every other staff action,
it outlives log rotation, and it records the filters and format without putting them in a URL."""
from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..exporters import ADMIN, REGISTRY, STAFF, prepare_download, read_file_options, staff_exports
from ..models import Role
from ..services.exports import record_export
from ..web.xlsx_export import XlsxTooLarge
from . import actor, bp


def _page(*, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, form: str = "",
          replaced: int = 0, status: int = 200):
    exports = staff_exports(admin=current_user.role == Role.ADMIN)
    return render_template("staff/exports.html", exports=exports, errors=errors or {}, values=values or {},
                           form=form, replaced=replaced), status


@bp.get("/exports")
def exports():
    """One form for each export."""
    return _page()


@bp.post("/exports/<identifier>")
def export_download(identifier: str):
    """Check the filters and options, leave an audit row, send the file. A Shift_JIS file that would
    lose characters comes back as the form with a warning until the download is confirmed."""
    export = REGISTRY.get(identifier)
    if export is None or export.audience not in (STAFF, ADMIN):
        abort(404)
    if export.audience == ADMIN and current_user.role != Role.ADMIN:
        abort(403)
    values = {name: value.strip() for name, value in request.form.items() if name != "csrf_token"}
    params, errors = export.parse(values)
    options, option_errors = read_file_options(values)
    errors.update(option_errors)
    if not errors:
        try:
            download = prepare_download(export, params, options, accept_replaced=values.get("replace") == "1")
        except XlsxTooLarge:
            errors["format"] = _("That is more rows than one Excel sheet holds. Choose CSV or a shorter period.")
    if errors:
        return _page(errors=errors, values=values, form=identifier, status=422)
    if download.response is None:
        return _page(values=values, form=identifier, replaced=download.replaced)
    if export.audited:
        record_export(actor(), identifier, {**{k: v for k, v in values.items() if k != "replace"},
                                            "format": options.file_format, "encoding": options.encoding,
                                            "variant": options.variant, "replaced": download.replaced or None})
    return download.response


"""An add-on's contributions for its organiser: figures and the name residents chose to show, nothing
else. Declared in the export registry (exporters.ADDON_CONTRIBUTIONS) like the staff exports; a GET,
since it writes nothing (no audit row: organisers download only their own add-ons' figures)."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ..exporters import ADDON_CONTRIBUTIONS, prepare_download, read_file_options
from ..web.xlsx_export import XlsxTooLarge
from . import bp
from .access import addon_or_404
from .addons import addon as addon_page


@bp.get("/addons/<int:addon_id>/contributions")
def addon_export(addon_id: int):
    """CSV (UTF-8 or Shift_JIS) or XLSX; back to the add-on's page with a message if the choice
    needs one (a Shift_JIS file that would lose characters, a file too large for Excel)."""
    item = addon_or_404(addon_id)
    values = {name: value.strip() for name, value in request.args.items()}
    options, errors = read_file_options(values)
    if not errors:
        try:
            download = prepare_download(ADDON_CONTRIBUTIONS, {"addon": item}, options,
                                        accept_replaced=values.get("replace") == "1")
        except XlsxTooLarge:
            errors["format"] = _("That is more rows than one Excel sheet holds. Choose CSV.")
        else:
            if download.response is not None:
                return download.response
            return addon_page(addon_id, export={"values": values, "errors": {}, "replaced": download.replaced})
    return addon_page(addon_id, export={"values": values, "errors": errors, "replaced": 0}), 422

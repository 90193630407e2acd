"""Uploaded evidence (invoices, invalidation notices, bank slips) for staff to download."""
from __future__ import annotations

from flask import abort

from ..extensions import db
from ..models import StoredFile
from ..web.downloads import send_stored_file
from . import bp


@bp.get("/files/<int:file_id>")
def file(file_id: int):
    """Any stored file, as an attachment with the type found at upload."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None:
        abort(404)
    return send_stored_file(stored)

"""Sending an uploaded file (invoice, invalidation notice, bank slip) back as a download."""
from __future__ import annotations

from flask import abort, send_file
from werkzeug.wrappers import Response

from ..models import StoredFile
from ..services.uploads import stored_file_path


def send_stored_file(stored: StoredFile, *, public: bool = False) -> Response:
    """The file as an attachment, with the content type we sniffed at upload (never the browser's
    guess) and a sandboxing CSP, so an odd PDF cannot act as a page of this site."""
    path = stored_file_path(stored)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=stored.content_type, as_attachment=True,
                         download_name=stored.original_name or path.name, conditional=True,
                         max_age=3600 if public else 0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response

"""Static files for phones on weak signal: fingerprinted URLs, a year's cache, gzip.

`url_for('static', filename=...)` adds `?v=<12 hex digits of the file's SHA-256>`, so a changed file
gets a new address: a request carrying its file's current fingerprint may be kept for a year
without asking again (`immutable`); one without it (or with an old one) is revalidated as before.
Text files (CSS, JavaScript, SVG, JSON) go gzip-compressed to clients that accept it, compressed
once per process and kept in memory (a proxy in front may compress too: it then finds nothing to
do). Fingerprints are read once per file and process, and again when the file's mtime changes."""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import threading
from typing import Any

from flask import Flask, Response, abort, request, send_from_directory
from werkzeug.security import safe_join

YEAR_SECONDS = 365 * 24 * 3600
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml",
                "application/manifest+json", "text/javascript")
MIN_GZIP_BYTES = 512

_lock = threading.Lock()
_fingerprints: dict[str, tuple[float, str]] = {}
_compressed: dict[str, tuple[float, bytes]] = {}


def _path(app: Flask, filename: str) -> str | None:
    folder = app.static_folder
    path = safe_join(folder, filename) if folder else None
    return path if path and os.path.isfile(path) else None


def fingerprint(app: Flask, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256, or None when there is no such file."""
    path = _path(app, filename)
    if path is None:
        return None
    mtime = os.stat(path).st_mtime
    known = _fingerprints.get(path)
    if known is not None and known[0] == mtime:
        return known[1]
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:12]
    with _lock:
        _fingerprints[path] = (mtime, digest)
    return digest


def _gzipped(path: str) -> bytes:
    mtime = os.stat(path).st_mtime
    known = _compressed.get(path)
    if known is not None and known[0] == mtime:
        return known[1]
    with open(path, "rb") as handle:
        data = gzip.compress(handle.read(), compresslevel=9, mtime=0)
    with _lock:
        _compressed[path] = (mtime, data)
    return data


def send_static(app: Flask, filename: str) -> Response:
    """The static view: the file, long-cached when asked for by its current fingerprint, gzip when
    it is text and the client accepts it."""
    path = _path(app, filename)
    if path is None:
        abort(404)
    digest = fingerprint(app, filename)
    current = request.args.get("v") == digest
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if (mimetype.startswith(COMPRESSIBLE) and request.accept_encodings["gzip"]
            and os.path.getsize(path) >= MIN_GZIP_BYTES):
        response = Response(_gzipped(path), mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(f"{digest}-gzip")
    else:
        response = send_from_directory(app.static_folder, filename, max_age=0)  # type: ignore[arg-type]
    if mimetype.startswith(COMPRESSIBLE):
        response.vary.add("Accept-Encoding")
    if current:
        response.headers["Cache-Control"] = f"public, max-age={YEAR_SECONDS}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    @app.url_defaults
    def _fingerprinted(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = fingerprint(app, values["filename"])
            if digest:
                values["v"] = digest

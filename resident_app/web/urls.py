"""Absolute links from PUBLIC_BASE_URL, never from the request's Host header.

Every `url_for(..., _external=True)` (Stripe's return pages, QR codes, posters, snippets, e-mails,
the add-on API) goes through SiteFlask.url_for, so a request sent with `Host: evil.example` cannot
put evil.example into a link. Without PUBLIC_BASE_URL (development) Flask's own behaviour stays:
the request's address, and outside a request no absolute link at all.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, has_request_context, request
from werkzeug.routing import BuildError, MapAdapter


class SiteFlask(Flask):
    """Flask, with absolute URLs built on PUBLIC_BASE_URL when it is set, and static files
    fingerprinted, long-cached and compressed (web/static_files.py)."""

    def send_static_file(self, filename: str):
        from .static_files import send_static

        return send_static(self, filename)

    def url_for(self, endpoint: str, /, *, _anchor: str | None = None, _method: str | None = None,
                _scheme: str | None = None, _external: bool | None = None, **values: Any) -> str:
        """As Flask's url_for; an absolute URL always starts with PUBLIC_BASE_URL."""
        base = self.config.get("PUBLIC_BASE_URL")
        in_request = has_request_context()
        external = _external if _external is not None else (_scheme is not None or not in_request)
        if not base or not external:
            return super().url_for(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme,
                                   _external=_external, **values)
        if endpoint[:1] == ".":
            blueprint = request.blueprint if in_request else None
            endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
        self.inject_url_defaults(endpoint, values)
        try:
            url = _public_adapter(self, base).build(endpoint, values, method=_method, force_external=True)
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            url = f"{url}#{quote(_anchor, safe='%!#$&()*+,/:;=?@')}"
        return url


def _public_adapter(app: Flask, base: str) -> MapAdapter:
    """A URL adapter bound to PUBLIC_BASE_URL's scheme, host and path (cached per base)."""
    cached = app.extensions.get("public_url_adapter")
    if cached is not None and cached[0] == base:
        return cached[1]
    parts = urlsplit(base)
    adapter = app.url_map.bind(parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme)
    app.extensions["public_url_adapter"] = (base, adapter)
    return adapter

"""One place that decides between a whole page and an htmx partial."""
from __future__ import annotations

from flask import make_response, render_template, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    """True for an htmx request that wants a fragment (not a history restore)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render_page_or_partial(page: str, partial: str, status: int = 200, **context) -> Response:
    """Render the partial for htmx, the page otherwise; caches must keep the two apart."""
    template = partial if is_htmx() else page
    response = make_response(render_template(template, htmx=is_htmx(), **context), status)
    response.vary.add("HX-Request")
    return response

"""Error pages in the person's language; JSON for the API."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .ratelimit import too_many_requests
from .json_body import JsonBodyError


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Please go back and try again.")),
        403: (_("Not allowed"), _("You do not have permission to open this page.")),
        404: (_("Page not found"), _("There is no page at this address. It may have been moved or deleted.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        413: (_("Too large"), _("The file or form you sent is too large.")),
        500: (_("Something went wrong"), _("An error occurred on our side. Nothing you entered was saved twice; please try again later.")),
    }


def render_error(code: int, detail: str | None = None):
    """The error page (or JSON under /api/) for an HTTP status."""
    title, message = _messages().get(code, _messages()[500])
    if request.path.startswith("/api/"):
        return jsonify({"error": {"status": code, "message": detail or message}}), code
    return render_template("errors/error.html", code=code, title=title,
                           message=detail or message), code


def without_trailing_slash() -> str | None:
    """For a GET of /learn/ (a page that lives at /learn), where to send the visitor; else None."""
    path = request.path
    if request.method not in ("GET", "HEAD") or path == "/" or not path.endswith("/"):
        return None
    target = path.rstrip("/")
    if not target.startswith("/") or target.startswith("//"):  # never a redirect off the site
        return None
    try:
        current_app.url_map.bind("localhost").match(target, method="GET")
    except HTTPException:
        return None
    query = urlsplit(request.full_path).query
    return f"{target}?{query}" if query else target


def init_app(app: Flask) -> None:
    @app.errorhandler(JsonBodyError)
    def json_body_error(error: JsonBodyError):
        return error.response()

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, _("Your form had expired or came from another site. "
                                   "Please reload the page and send it again."))

    app.register_error_handler(429, too_many_requests)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Unhandled exceptions reach here as InternalServerError (outside tests, which propagate).
        if error.code == 404 and (target := without_trailing_slash()):
            return redirect(target, 301)  # /learn/ -> /learn: people type it, some sites link it so
        body, status = render_error(error.code or 500)
        response = make_response(body, status)
        # The exception's own headers carry meaning: Allow on a 405, Retry-After on a 429 or 503.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

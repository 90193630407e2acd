"""Security headers on every response, CSP included (htmx 2 and Plotly basic work under it), and
HSTS in production."""
from __future__ import annotations

from flask import Flask


def content_security_policy(form_origins: list[str]) -> str:
    form_action = " ".join(["'self'", *form_origins])
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
            f"base-uri 'self'; frame-ancestors 'none'; form-action {form_action}")


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        origins = list(app.config.get("CSP_FORM_ACTION_ORIGINS", []))
        response.headers.setdefault("Content-Security-Policy", content_security_policy(origins))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("HSTS_SECONDS"):
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}")
        return response

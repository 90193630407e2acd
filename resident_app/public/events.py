"""An offset event's public page (/e/<slug>: the report's contents, no personal data) and its
participants' travel survey (/s/<slug>: one screen on a phone, no log-in, anonymous, rate-limited)."""
from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address

from ..carbon.event import DISTANCE_BANDS, MODES
from ..carbon.municipalities import municipalities
from ..extensions import limiter
from ..models import Event
from ..services import DomainError
from ..services.errors import InvalidInput
from ..services.event_report import event_overview, offset_events
from ..services.event_survey import record_survey_answer
from ..services.events import event_by_slug
from ..web import event_labels
from . import bp

event_labels.register(bp)
bp.add_app_template_global(offset_events)  # the transparency page lists them

# A browser may answer for up to five people (a family with one phone); the cookie holds a count,
# nothing that identifies anyone. Scripts ignore cookies: the rate limit per address is the guard.
MAX_ANSWERS_PER_BROWSER = 5
COOKIE_DAYS = 3


def _event_or_404(slug: str) -> Event:
    event = event_by_slug(slug)
    if event is None:
        abort(404)
    return event


@bp.get("/e/<slug>")
def event(slug: str):
    """What the event offsets, how it was calculated, what was paid and which credits were invalidated."""
    overview = event_overview(_event_or_404(slug))
    return render_template("public/event.html", o=overview)


def _cookie(event: Event) -> str:
    return f"survey_{event.slug}"


def _answered(event: Event) -> int:
    raw = request.cookies.get(_cookie(event), "0")
    return int(raw) if raw.isdigit() and len(raw) < 3 else 0


def _survey_key() -> str:
    """Answers are limited per address and event: one event's queue never blocks another's."""
    return f"survey:{get_remote_address()}:{(request.view_args or {}).get('slug', '')}"


def _page(event: Event, *, values: dict[str, str], errors: dict[str, str], status: int = 200, thanks: bool = False):
    return render_template(
        "public/event_survey.html", event=event, values=values, errors=errors, thanks=thanks,
        modes=MODES, bands=list(DISTANCE_BANDS), places=list(municipalities().values()),
        answered=_answered(event), limit=MAX_ANSWERS_PER_BROWSER), status


@bp.route("/s/<slug>", methods=["GET", "POST"])
@limiter.limit("10 per minute;60 per hour", methods=["POST"], key_func=_survey_key)
def event_survey(slug: str):
    """How did you come, and about how far or from where? One tap each, then send."""
    event = _event_or_404(slug)
    blank = {"mode": "", "distance_band": "", "origin_code": ""}
    if request.method == "GET":
        return _page(event, values=blank, errors={}, thanks=request.args.get("thanks") == "1")
    values = {name: (request.form.get(name) or "").strip()[:20] for name in blank}
    answered = _answered(event)
    if answered >= MAX_ANSWERS_PER_BROWSER:
        return _page(event, values=blank, errors={}, thanks=True, status=429)
    try:
        record_survey_answer(event, **values)
    except InvalidInput as error:
        return _page(event, values=values, errors={k: str(v) for k, v in error.errors.items()}, status=422)
    except DomainError as error:
        return _page(event, values=values, errors={"form": str(error.message)}, status=409)
    response = make_response(redirect(url_for("public.event_survey", slug=event.slug, thanks=1), code=303))
    response.set_cookie(_cookie(event), str(answered + 1), max_age=COOKIE_DAYS * 86400, httponly=True,
                        samesite="Lax", path=url_for("public.event_survey", slug=event.slug),
                        secure=request.is_secure)
    return response

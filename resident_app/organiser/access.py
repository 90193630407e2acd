"""Which add-on or event a request may touch."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from ..models import AddOn, Event
from ..services.addons import addon_for
from ..services.events import event_for


def addon_or_404(addon_id: int) -> AddOn:
    """The add-on if the signed-in person may see it. Someone else's is a 404, like a missing one,
    so ids reveal nothing."""
    addon = addon_for(current_user._get_current_object(), addon_id)
    if addon is None:
        abort(404)
    return addon


def event_or_404(event_id: int) -> Event:
    """The event if the signed-in person may see it (its organiser, or staff); otherwise 404."""
    event = event_for(current_user._get_current_object(), event_id)
    if event is None:
        abort(404)
    return event

"""What each page tells browsers and search engines besides its title: a description in the
visitor's language, and `noindex` for pages that are private or hold a personal token."""
from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l

THEME_COLOUR = "#1b6e53"        # the header's green (static/css/site.css --green)
BACKGROUND_COLOUR = "#f5f7f6"   # the page background (--bg)
# Signed-in areas, and addresses that carry a secret token (certificates, saved results, the
# checkout's return page): never indexed, and listed in robots.txt.
PRIVATE_PREFIXES = ("/auth/", "/staff/", "/organiser/", "/c/", "/r/")
PRIVATE_BLUEPRINTS = {"auth", "staff", "organiser"}
PRIVATE_ENDPOINTS = {"checkout.certificate", "checkout.thanks", "public.saved_result"}

SITE_DESCRIPTION = _l("Work out your household's CO2, see which everyday actions cut it most, and offset "
                      "what remains through the Tokyo municipalities' joint carbon-offset programme.")
DESCRIPTIONS = {
    "public.calculator": _l("Enter a month's or a year's electricity, gas, fuel and water to see your household's "
                            "yearly CO2, how it compares with households of your size, which actions cut it, "
                            "and what offsetting the rest would cost."),
    "public.methodology": _l("Every emission factor, bill unit price, national average, input limit and rounding "
                             "rule behind the calculator, with its year, source and confidence."),
    "learn.index": _l("Short guides to carbon offsets: what they are, why reducing comes first, how the "
                      "municipalities' pooled purchase works, credits and invalidation, and offsetting an event "
                      "or a bus fare."),
    "transparency.index": _l("Money received, CO2 pooled, credits bought and invalidated with their serial "
                             "numbers, the surplus carried forward and every rate change of the joint "
                             "carbon-offset programme."),
}


def site_description() -> str:
    return str(SITE_DESCRIPTION)


def page_description() -> str:
    """The page's description by endpoint (a page can set its own with the `description` block)."""
    return str(DESCRIPTIONS.get(request.endpoint or "", SITE_DESCRIPTION))


def page_is_private() -> bool:
    return request.blueprint in PRIVATE_BLUEPRINTS or request.endpoint in PRIVATE_ENDPOINTS \
        or request.path.startswith(PRIVATE_PREFIXES)


def meta_context() -> dict[str, object]:
    return {"page_description": page_description, "page_is_private": page_is_private,
            "theme_colour": THEME_COLOUR}

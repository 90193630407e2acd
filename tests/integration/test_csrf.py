"""Every POST route needs a CSRF token, including routes added after this test was written.

The JSON API (/api/) and the Stripe webhook (signed by Stripe) are the only exceptions."""
import pytest
from werkzeug.routing import IntegerConverter, FloatConverter, UUIDConverter

from .factories import login, make_user

EXEMPT_PREFIXES = ("/api/",)
EXEMPT_RULES = {"/webhooks/stripe"}
KNOWN = {"public.set_language", "public.calculator", "auth.login", "auth.logout", "auth.signup",
         "organiser.addon_new", "organiser.addon_edit", "checkout.checkout"}


def dummy_value(converter) -> object:
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, FloatConverter):
        return 1.0
    if isinstance(converter, UUIDConverter):
        return "00000000-0000-0000-0000-000000000000"
    return "x"


def post_urls(app) -> dict[str, str]:
    """Endpoint -> a URL for every rule that accepts POST, built with dummy arguments."""
    adapter = app.url_map.bind("localhost")
    urls = {}
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule in EXEMPT_RULES or rule.rule.startswith(EXEMPT_PREFIXES):
            continue
        values = {name: dummy_value(converter) for name, converter in rule._converters.items()}
        urls[f"{rule.endpoint} {rule.rule}"] = adapter.build(rule.endpoint, values, method="POST")
    return urls


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_post_route_refuses_a_request_without_a_csrf_token(app, client, signed_in):
    urls = post_urls(app)
    assert KNOWN <= {key.split(" ")[0] for key in urls}, "the enumeration found the routes we know of"
    if signed_in:
        make_user(app)
        assert login(client).status_code == 303
    answers = {key: client.post(url, data={"anything": "1"}).status_code for key, url in urls.items()}
    assert {key: status for key, status in answers.items() if status != 400} == {}
    # The headers htmx sends do not count as a token either.
    assert client.post(urls["auth.logout /auth/logout"], headers={"HX-Request": "true"}).status_code == 400

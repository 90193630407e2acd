"""Who may do what: every route and method of `app.url_map` against every kind of visitor.

ROUTES below is the table. A route that is not in it fails the test (and so does a row for a route
that no longer exists), so a new page, form or endpoint cannot ship without someone deciding who may
use it. Every state-changing route refuses a request without a CSRF token unless its row says why
not; a route that answers JSON must be declared in the OpenAPI document.

The visitors: anonymous; an organiser waiting for approval (who cannot sign in); the organiser who
owns the add-on in the URLs; another organiser (who must not see that add-on: 404, like a missing
one); staff; an administrator."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

import pytest
from werkzeug.routing import Rule

from resident_app.extensions import csrf
from resident_app.web.openapi import declared_operation

from .factories import login, token_from
from .world import World, build_world

ROLES = ("anonymous", "pending_organiser", "organiser", "other_organiser", "staff", "admin")
LOGIN = "log in"  # a 302 to /auth/login?next=<the page>
HERE = "tests/integration/test_route_matrix.py"


def everyone(status: int | str) -> dict[str, int | str]:
    return {role: status for role in ROLES}


def signed_out_or(anonymous: int | str, signed_in: int | str) -> dict[str, int | str]:
    """Pages for visitors that send signed-in people elsewhere (log-in, sign-up)."""
    return {role: anonymous if role in ("anonymous", "pending_organiser") else signed_in for role in ROLES}


def organisers(ok: int, *, others: int | None = None) -> dict[str, int | str]:
    """The organisers' pages: any active account; `others` for another organiser's add-on (404)."""
    return {"anonymous": LOGIN, "pending_organiser": LOGIN, "organiser": ok,
            "other_organiser": ok if others is None else others, "staff": ok, "admin": ok}


def staff_only(ok: int) -> dict[str, int | str]:
    return {"anonymous": LOGIN, "pending_organiser": LOGIN, "organiser": 403, "other_organiser": 403,
            "staff": ok, "admin": ok}


def admin_only(ok: int) -> dict[str, int | str]:
    return {**staff_only(ok), "staff": 403}


@dataclass(frozen=True)
class Row:
    """Expected status by visitor for one route and method.

    `args` name the World attribute for each URL argument (by default the argument's own name);
    `query` and `data` are sent as they are (POSTs also carry a valid CSRF token);
    `csrf_exempt` is the reason a state-changing route may take a request without a token."""

    expect: dict[str, int | str]
    args: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    csrf_exempt: str = ""


JSON_API = ("JSON API: it reads no session or cookie, so a forged cross-site request gains nothing; it writes "
            "nothing and answers anyone the same")

ROUTES: dict[str, Row] = {
    # residents
    "GET /": Row(everyone(200)),
    "GET /methodology": Row(everyone(200)),
    "GET /healthz": Row(everyone(200)),
    "GET /calculator": Row(everyone(200)),
    "POST /calculator": Row(everyone(200)),                     # an empty form is an empty result
    "POST /calculator/save": Row(everyone(422)),                # nothing entered: nothing saved
    "GET /r/<token>": Row(everyone(200), args={"token": "saved_token"}),
    # The share link only reads: deleting needs the key the saving browser keeps (a cookie no visitor has).
    "POST /r/<token>/delete": Row(everyone(403), args={"token": "saved_token"}),
    "POST /language": Row(everyone(303), data={"lang": "en", "next": "/"}),
    "GET /a/<slug>": Row(everyone(200)),
    "POST /a/<slug>/checkout": Row(everyone(422)),              # no quantity chosen
    "GET /a/<slug>/thanks": Row(everyone(404)),                 # only with a session Stripe returned
    "GET /c/<token>": Row(everyone(200), args={"token": "certificate_token"}),
    "GET /evidence/notices/<int:invalidation_id>": Row(everyone(200)),
    "GET /learn": Row(everyone(200)),
    "GET /learn/<slug>": Row(everyone(200), args={"slug": "learn_slug"}),
    "GET /transparency": Row(everyone(200)),
    "GET /transparency.csv": Row(everyone(200)),
    "GET /transparency.json": Row(everyone(200)),
    "GET /static/<path:filename>": Row(everyone(200), args={"filename": "static_file"}),
    "GET /transparency/ledger.csv": Row(everyone(200)),
    "GET /transparency/ledger.json": Row(everyone(200)),
    "GET /statistics/municipalities": Row(everyone(200)),
    "GET /favicon.ico": Row(everyone(200)),
    "GET /apple-touch-icon.png": Row(everyone(200)),
    "GET /manifest.webmanifest": Row(everyone(200)),
    "GET /robots.txt": Row(everyone(200)),
    # events: the public page and the participants' travel survey
    "GET /e/<slug>": Row(everyone(200), args={"slug": "event_slug"}),
    "GET /s/<slug>": Row(everyone(200), args={"slug": "event_slug"}),
    "POST /s/<slug>": Row(everyone(422), args={"slug": "event_slug"}),     # no answer given
    # the JSON API and Stripe
    "GET /api/v1/addons": Row(everyone(200)),
    "GET /api/v1/factors": Row(everyone(200)),
    "GET /api/v1/pool": Row(everyone(200)),
    "GET /api/v1/openapi.json": Row(everyone(200)),
    "GET /api/v1/electricity-menus": Row(everyone(200)),
    "POST /api/v1/footprint": Row(everyone(400), csrf_exempt=JSON_API),
    "POST /api/v1/event-estimate": Row(everyone(400), csrf_exempt=JSON_API),
    "POST /webhooks/stripe": Row(everyone(400), csrf_exempt="Stripe's webhook: no cookie comes with it; the "
                                                            "signature of the raw body is what it is checked by"),
    # accounts
    "GET /auth/login": Row(signed_out_or(200, 302)),            # signed in: straight to the dashboard
    "POST /auth/login": Row(everyone(401)),                     # no address, no password
    "GET /auth/signup": Row(signed_out_or(200, 302)),
    "POST /auth/signup": Row(signed_out_or(422, 302)),
    "GET /auth/signup/done": Row(everyone(200)),
    "POST /auth/logout": Row(everyone(303)),
    # organisers (staff see every add-on; another organiser's add-on is a 404 like a missing one)
    "GET /organiser/": Row(organisers(200)),
    "GET /organiser/addons/new": Row(organisers(200)),
    "POST /organiser/addons/new": Row(organisers(422)),
    "GET /organiser/addons/preview": Row(organisers(200)),
    "GET /organiser/addons/<int:addon_id>": Row(organisers(200, others=404)),
    "GET /organiser/addons/<int:addon_id>/edit": Row(organisers(200, others=404)),
    "POST /organiser/addons/<int:addon_id>/edit": Row(organisers(422, others=404)),
    "GET /organiser/addons/<int:addon_id>/preview": Row(organisers(200, others=404)),
    "GET /organiser/addons/<int:addon_id>/qr.png": Row(organisers(200, others=404)),
    "GET /organiser/addons/<int:addon_id>/qr.svg": Row(organisers(200, others=404)),
    "GET /organiser/addons/<int:addon_id>/poster": Row(organisers(200, others=404)),
    "GET /organiser/addons/<int:addon_id>/certificate": Row(organisers(200, others=404)),
    "GET /organiser/addons/<int:addon_id>/contributions": Row(organisers(200, others=404)),
    "GET /organiser/addons/<int:addon_id>/tally": Row(organisers(303, others=404)),  # without htmx: the add-on page
    # events (staff see every event; another organiser's event is a 404 like a missing one)
    "GET /organiser/events": Row(organisers(200)),
    "GET /organiser/events/new": Row(organisers(200)),
    "POST /organiser/events/new": Row(organisers(422)),
    "GET /organiser/events/<int:event_id>": Row(organisers(200, others=404)),
    "GET /organiser/events/<int:event_id>/edit": Row(organisers(200, others=404)),
    "POST /organiser/events/<int:event_id>/edit": Row(organisers(422, others=404)),
    "GET /organiser/events/<int:event_id>/estimate": Row(organisers(200, others=404)),
    "POST /organiser/events/<int:event_id>/estimate": Row(organisers(422, others=404)),
    "POST /organiser/events/<int:event_id>/estimate/preview": Row(organisers(200, others=404)),
    "GET /organiser/events/<int:event_id>/actuals": Row(organisers(200, others=404)),
    "POST /organiser/events/<int:event_id>/actuals": Row(organisers(422, others=404)),
    "POST /organiser/events/<int:event_id>/topup": Row(organisers(303, others=404)),  # no actuals yet: to them
    # Money received outside Stripe is recorded by staff only; the owner is told so (403). Before the
    # actual figures there is no gap to close: staff are sent back to the event with a message.
    "POST /organiser/events/<int:event_id>/transfer": Row({**organisers(303, others=404), "organiser": 403}),
    "GET /organiser/events/<int:event_id>/report": Row(organisers(200, others=404)),
    "GET /organiser/events/<int:event_id>/survey": Row(organisers(302, others=404)),  # the event page's survey part
    "GET /organiser/events/<int:event_id>/survey/qr.png": Row(organisers(200, others=404)),
    "GET /organiser/events/<int:event_id>/survey/qr.svg": Row(organisers(200, others=404)),
    "POST /organiser/events/<int:event_id>/survey/state": Row(organisers(303, others=404)),
    "POST /organiser/events/<int:event_id>/survey/origins": Row(organisers(303, others=404)),
    # the staff console
    "GET /staff/": Row(staff_only(200)),
    "GET /staff/batches": Row(staff_only(200)),
    "GET /staff/batches/new": Row(staff_only(200)),
    "POST /staff/batches/new": Row(staff_only(422)),            # no cut-off
    "GET /staff/batches/<int:batch_id>": Row(staff_only(200)),
    "POST /staff/batches/<int:batch_id>/purchase": Row(staff_only(422), args={"batch_id": "open_batch_id"}),
    "POST /staff/batches/<int:batch_id>/invalidations": Row(staff_only(422), args={"batch_id": "open_batch_id"}),
    "POST /staff/batches/<int:batch_id>/invalidations/<int:invalidation_id>": Row(staff_only(409)),  # confirmed
    "POST /staff/batches/<int:batch_id>/confirm": Row(staff_only(422), args={"batch_id": "open_batch_id"}),  # not ticked
    "POST /staff/batches/<int:batch_id>/corrections": Row(staff_only(422)),
    "GET /staff/contributions/<int:contribution_id>": Row(staff_only(200)),
    "GET /staff/contributions/offline": Row(staff_only(200)),
    "POST /staff/contributions/offline": Row(staff_only(422)),
    "GET /staff/files/<int:file_id>": Row(staff_only(200)),
    "GET /staff/exports": Row(staff_only(200)),
    "GET /staff/settings": Row(staff_only(200)),
    "GET /staff/settings/event-factors": Row(staff_only(200)),
    "GET /staff/settings/municipal-statistics.csv": Row(staff_only(200)),
    "POST /staff/settings/averages": Row(staff_only(422)),
    "POST /staff/settings/averages/use": Row(staff_only(303)),  # nothing chosen: a message
    "POST /staff/settings/electricity-menus": Row(staff_only(422)),
    "POST /staff/settings/tariff-adjustments": Row(staff_only(422)),
    "POST /staff/settings/tariffs/<kind>": Row(staff_only(422), args={"kind": "tariff_kind"}),
    "GET /staff/reviews": Row(staff_only(200)),
    "POST /staff/contributions/<int:contribution_id>/resolve": Row(staff_only(422)),
    "POST /staff/exports/<identifier>": Row(staff_only(200), args={"identifier": "export_identifier"}),  # the file
    "POST /staff/settings/rate": Row(staff_only(422)),
    "POST /staff/settings/factor-sets": Row(staff_only(422)),
    "GET /staff/settings/factor-sets/<int:set_id>.csv": Row(staff_only(200)),
    "POST /staff/settings/factor-sets/<int:set_id>/activate": Row(staff_only(303)),  # already active: a message
    "POST /staff/settings/unit-prices": Row(staff_only(422)),
    "GET /staff/users": Row(staff_only(200)),
    "POST /staff/users/<int:user_id>/approve": Row(staff_only(303), args={"user_id": "pending_user_id"}),
    "POST /staff/users/<int:user_id>/suspend": Row(staff_only(303), args={"user_id": "target_user_id"}),
    "POST /staff/users/new": Row(admin_only(422)),
    "GET /staff/audit": Row(admin_only(200)),
}

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def route_keys(app) -> dict[str, Rule]:
    """"METHOD /rule" for every rule and method the app answers (HEAD and OPTIONS come with GET)."""
    return {f"{method} {rule.rule}": rule for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}


def suggestion(key: str) -> str:
    method, path = key.split(" ", 1)
    if path.startswith("/staff/"):
        expect = "staff_only(200)" if method == "GET" else "staff_only(303)"
    elif path.startswith("/organiser/"):
        expect = "organisers(200, others=404)" if "<int:" in path else "organisers(200)"
    else:
        expect = "everyone(200)"
    exempt = ", csrf_exempt=JSON_API" if method in STATE_CHANGING and path.startswith("/api/") else ""
    return f'    "{key}": Row({expect}{exempt}),'


def test_every_route_is_in_the_table(app):
    found = route_keys(app)
    missing = sorted(set(found) - set(ROUTES))
    stale = sorted(set(ROUTES) - set(found))
    assert not missing, (
        f"{len(missing)} route(s) are not in the route x role matrix. Decide who may use each, then add a row "
        f"to ROUTES in {HERE}, with the status every visitor gets (and URL arguments by World attribute in "
        "`args` if their names differ; tests/integration/world.py builds the objects), for example:\n"
        + "\n".join(suggestion(key) for key in missing)
        + "\nA route that answers JSON also needs @operation(...) under its route decorator (resident_app/web/"
          "openapi.py), and a POST under /api/ needs @csrf.exempt with csrf_exempt=JSON_API in its row.")
    assert not stale, f"rows in ROUTES ({HERE}) for routes that no longer exist: {stale}"


def test_every_exemption_from_csrf_is_in_the_table_with_its_reason(app):
    exempt_in_app = set()
    for key, rule in route_keys(app).items():
        view = app.view_functions[rule.endpoint]
        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views or \
                app.blueprints.get(rule.endpoint.rpartition(".")[0]) in csrf._exempt_blueprints:
            exempt_in_app.add(key)
    exempt_in_table = {key for key, row in ROUTES.items() if row.csrf_exempt}
    state_changing = {key for key in ROUTES if key.split(" ")[0] in STATE_CHANGING}
    assert exempt_in_app & state_changing == exempt_in_table, \
        f"CSRF exemptions in the app and in ROUTES ({HERE}) differ: app {sorted(exempt_in_app & state_changing)}, " \
        f"table {sorted(exempt_in_table)}"
    assert all(len(ROUTES[key].csrf_exempt) > 20 for key in exempt_in_table), "say why in the row"


# --- asking every route as every visitor -----------------------------------------------------------

@pytest.fixture
def world(app, tmp_path) -> World:
    return build_world(app, tmp_path)


def url_for_row(app, key: str, rule: Rule, row: Row, world: World) -> str:
    values = {}
    for name in rule.arguments:
        attribute = row.args.get(name, name)
        if attribute == "static_file":
            values[name] = "css/site.css"
            continue
        assert attribute in {f.name for f in fields(World)}, \
            f"{key}: World has no {attribute!r}; name it in the row's `args` ({HERE}) or add it to tests/integration/world.py"
        values[name] = getattr(world, attribute)
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=key.split(" ")[0])


def visitor(app, world: World, role: str):
    """A client signed in as `role` (anonymous and the pending organiser have no session), and a CSRF token."""
    client = app.test_client()
    if role == "pending_organiser":
        assert login(client, world.emails[role]).status_code == 403  # the "waiting for approval" page
    elif role != "anonymous":
        assert login(client, world.emails[role]).status_code == 303
    return client, token_from(client, "/")


def order(item: tuple[str, Row]) -> tuple[bool, bool]:
    """Reads first, then writes, and logging out last of all."""
    key = item[0]
    return (not key.startswith("GET "), key == "POST /auth/logout")


@pytest.mark.parametrize("role", ROLES)
def test_route_by_role_matrix(app, world, role):
    client, token = visitor(app, world, role)
    keys = route_keys(app)
    wrong, undeclared_json = [], []
    for key, row in sorted(ROUTES.items(), key=order):
        if key not in keys:
            continue  # reported by test_every_route_is_in_the_table
        method = key.split(" ")[0]
        url = url_for_row(app, key, keys[key], row, world)
        if method == "GET":
            response = client.get(url, query_string=row.query)
        else:
            response = client.open(url, method=method, data={"csrf_token": token, **row.data})
        response.close()  # streamed CSV and files end their request here
        expected = row.expect[role]
        if expected == LOGIN:
            ok = response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")
        else:
            ok = response.status_code == expected
        if not ok:
            wrong.append(f"{key} as {role}: {response.status_code} {response.headers.get('Location', '')}, "
                         f"expected {expected}")
        if response.mimetype == "application/json" and not declared_operation(app.view_functions[keys[key].endpoint]):
            undeclared_json.append(key)
    assert not wrong, "\n".join(wrong)
    assert not undeclared_json, (f"these routes answer JSON but the OpenAPI document does not describe them: "
                                 f"{undeclared_json}; add @operation(...) under the route decorator "
                                 "(resident_app/web/openapi.py)")


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_state_changing_route_refuses_a_request_without_a_csrf_token(app, world, role):
    client, _token = visitor(app, world, role)
    keys = route_keys(app)
    answers = {}
    for key, row in ROUTES.items():
        method = key.split(" ")[0]
        if method not in STATE_CHANGING or row.csrf_exempt or key not in keys:
            continue
        url = url_for_row(app, key, keys[key], row, world)
        answers[key] = client.open(url, method=method, data={"anything": "1", **row.data}).status_code
    assert "POST /auth/logout" in answers and len(answers) >= 20, "the table lists the forms"
    assert {key: status for key, status in answers.items() if status != 400} == {}
    # The headers htmx sends do not stand in for the token either.
    assert client.post("/auth/logout", headers={"HX-Request": "true"}).status_code == 400


def test_a_refused_token_says_so_in_the_page_language(app, world):
    page = app.test_client().post("/auth/logout", headers={"Accept-Language": "en"})
    assert page.status_code == 400 and re.search(r"expired|another site", page.get_data(as_text=True))

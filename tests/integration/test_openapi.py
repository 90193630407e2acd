"""The OpenAPI document, the JSON body limits, and schemathesis against every documented endpoint:
no 5xx, no answer outside its schema (status, content type, body), no schema-violating request accepted."""
from __future__ import annotations

import io
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from resident_app import create_app
from resident_app.config import TestConfig
from resident_app.web.json_body import MAX_BYTES, MAX_DEPTH, nesting_depth
from resident_app.web.openapi import declared_operation, document, openapi_path

schema = schemathesis.openapi.from_dict(document(create_app(TestConfig)))

# Only Stripe can sign a webhook: a request that fits the schema is still refused without the secret.
# A footprint's bills are read through the tariffs staff keep (a bill below the lowest basic charge is
# refused) and its menu must be one staff have listed: rules no schema written in advance can hold.
# Both paths still get every other check: no 5xx, and every answer inside its documented schema.
# An event's travel shares must add up to 100 %, across the rows of a list.
ACCEPTANCE_UNCHECKED = {"/webhooks/stripe", "/api/v1/footprint", "/api/v1/event-estimate"}
EXAMPLES = 200



@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api(case, app):
    """Derandomized: the same few hundred requests per endpoint on every run, so CI is stable."""
    excluded = [positive_data_acceptance] if case.operation.path in ACCEPTANCE_UNCHECKED else []
    case.call_and_validate(app=app, excluded_checks=excluded)


def test_every_api_route_is_in_the_document(app):
    undeclared = [f"{sorted(rule.methods - {'HEAD', 'OPTIONS'})} {rule.rule} ({rule.endpoint})"
                  for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/") and declared_operation(app.view_functions[rule.endpoint]) is None]
    assert not undeclared, (
        f"JSON endpoints missing from /api/v1/openapi.json: {undeclared}. Put @operation(summary, responses="
        "{200: ok(...)}, request=...) directly under the route decorator; see resident_app/web/openapi.py "
        "(resident_app/api/pool.py is a short example).")


def test_the_document_names_every_declared_path_and_the_error_shapes(client):
    body = client.get("/api/v1/openapi.json").get_json()
    assert body["openapi"].startswith("3.1") and {"FieldErrors", "Error"} <= set(body["components"]["schemas"])
    assert set(body["paths"]) >= {"/api/v1/addons", "/api/v1/factors", "/api/v1/footprint", "/api/v1/pool",
                                  "/api/v1/openapi.json", "/transparency.json", "/healthz", "/webhooks/stripe"}
    footprint = body["paths"]["/api/v1/footprint"]["post"]
    assert footprint["requestBody"]["content"]["application/json"]["schema"]["additionalProperties"] is False
    assert {"200", "400", "413"} <= set(footprint["responses"])


def test_paths_come_from_the_rules():
    from werkzeug.routing import Rule
    assert openapi_path(Rule("/a/<int:addon_id>/b/<slug>")) == "/a/{addon_id}/b/{slug}"


# --- JSON bodies: size, nesting, syntax, then types ----------------------------------------------------

def post(client, body: bytes | str, lang: str = "en", content_type: str = "application/json"):
    return client.post("/api/v1/footprint", data=body, content_type=content_type, headers={"Accept-Language": lang})


@pytest.mark.parametrize("body, status", [
    ("[" * 100_000, 413),                                    # over the size limit before anything is parsed
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), 400),    # small, but nested too deep
    ('{"period": "month", "household_size": NaN}', 400),
    ('{"period": "month", "household_size": 2,}', 400),
    (b'{"period": "\xff"}', 400),                            # not UTF-8
    ('{"period": "month", "household_size": 1' + "0" * 5000 + "}", 400),  # an integer Python will not read
    ("", 400),
])
def test_bodies_that_cannot_be_read_are_refused_with_a_message(client, body, status):
    response = post(client, body)
    assert response.status_code == status
    assert response.get_json()["errors"]["body"]


def test_a_body_without_a_length_is_still_limited(client):
    """A chunked body (no Content-Length, as gunicorn passes it on) is read up to the limit and no further."""
    big = json.dumps({"period": "month", "household_size": 2, "note": "x" * MAX_BYTES}).encode()
    response = client.post("/api/v1/footprint", input_stream=io.BytesIO(big),
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413


@pytest.mark.parametrize("payload, field", [
    ({"period": {}, "household_size": 2}, "period"),
    ({"period": [], "household_size": 2}, "period"),
    ({"period": "month", "household_size": {"n": 2}}, "household_size"),
    ({"period": "month", "household_size": 2, "water_m3": [1, 2]}, "water_m3"),
    ({"period": "month", "household_size": 2, "water_m3": None}, "water_m3"),
    ({"period": "month", "household_size": 2, "water_m3": True}, "water_m3"),
    ({"period": "month", "household_size": 2.5}, "household_size"),
    ({"period": "month"}, "household_size"),
])
def test_types_are_checked_before_values(client, payload, field):
    en = post(client, json.dumps(payload))
    ja = post(client, json.dumps(payload), lang="ja")
    assert en.status_code == ja.status_code == 400
    assert en.get_json()["errors"][field] != ja.get_json()["errors"][field]


def test_a_json_value_that_is_not_an_object_is_refused(client):
    assert "body" in post(client, "true").get_json()["errors"]


def test_nesting_is_counted_outside_strings():
    assert nesting_depth('{"a": "[[[[[[[[", "b": [{"c": []}]}') == 4
    assert nesting_depth('"\\"[[" ') == 0

"""The OpenAPI document and schemathesis against it: no 5xx, no answer outside its schema."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from resident_app import create_app
from resident_app.config import TestConfig
from resident_app.web.openapi import document

schema = schemathesis.openapi.from_dict(document(create_app(TestConfig)))

# Only Stripe can sign a webhook: a request that fits the schema is still refused without the secret.
UNSIGNABLE = {"/webhooks/stripe"}


@schema.parametrize()
@settings(max_examples=200, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api(case, app):
    excluded = [positive_data_acceptance] if case.operation.path in UNSIGNABLE else []
    case.call_and_validate(app=app, excluded_checks=excluded)

"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis).

Every generated request, valid or not, must get an answer that the schema
documents: no 5xx, no undocumented status code, no body off its schema.
The event stream is left out: it never ends, and has its own tests. So is
the check that schema-valid input is accepted: a base64 string of the right
length is schema-valid, yet almost never a correctly signed transaction, and
the ledger must refuse it (with a documented 4xx).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from civicledger.gateway import create_app

EXAMPLES = 30


def test_the_api_honours_its_schema(node, blobs):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(node, blobs=blobs))
    operations = [r.ok() for r in schema.exclude(path="/v1/events").get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def honours(case) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        try:
            honours()
        except Exception as error:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {error}") from error

"""The running service behaves as spec/openapi.yaml says, for generated inputs.

Checks and their few documented narrowings live in schemathesis.toml, shared with the
command-line run against a live server.
"""

from __future__ import annotations

import os

import hypothesis
import schemathesis

authenticated = schemathesis.pytest.from_fixture("authenticated_schema")
anonymous = schemathesis.pytest.from_fixture("anonymous_schema").include(
    operation_id=["events_list", "events_retrieve", "events_feedback_list"]
)


@authenticated.parametrize()
def test_api_conforms_to_the_spec_for_a_signed_in_client(case: schemathesis.Case) -> None:
    case.call_and_validate()


@anonymous.parametrize()
def test_public_operations_conform_to_the_spec_without_credentials(
    case: schemathesis.Case,
) -> None:
    case.call_and_validate()


def test_chained_calls_follow_the_spec_links(authenticated_schema: schemathesis.BaseSchema) -> None:
    """The stateful phase: create an event, then act on it through the spec's links."""
    state_machine = authenticated_schema.as_state_machine()
    state_machine.run(
        settings=hypothesis.settings(
            max_examples=int(os.environ.get("CONTRACT_STATEFUL_EXAMPLES", "10")),
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )

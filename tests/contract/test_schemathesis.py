"""The running service behaves as spec/openapi.yaml says, for generated inputs.

Checks and their few documented narrowings live in schemathesis.toml, shared with the
command-line run against a live server.
"""

from __future__ import annotations

import os

import hypothesis
import schemathesis
from django.core.cache import cache

from api.models import Event, EventCreation, User
from tests.contract.conftest import CONTRACT_USERNAME

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


def reset_to_the_contract_account() -> None:
    User.objects.exclude(username=CONTRACT_USERNAME).delete()
    Event.objects.all().delete()
    EventCreation.objects.all().delete()
    cache.clear()


def test_chained_calls_follow_the_spec_links(authenticated_schema: schemathesis.BaseSchema) -> None:
    """The stateful phase: create an event, then act on it through the spec's links."""
    base = authenticated_schema.as_state_machine()

    class Workflow(base):  # type: ignore[valid-type,misc]
        def teardown(self) -> None:
            # Every run starts from the same database: otherwise a replayed run meets
            # the accounts and events of the runs before it (a sign-up that was a 201 is
            # now "taken"), draws differently, and Hypothesis reports a flaky strategy
            # instead of the behaviour it was shrinking.
            reset_to_the_contract_account()
            super().teardown()

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=int(os.environ.get("CONTRACT_STATEFUL_EXAMPLES", "10")),
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )

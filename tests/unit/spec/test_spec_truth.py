"""What the spec promises beyond the shapes the suite-wide check validates: every
problem enumerates its codes, path ids are integers, request examples succeed."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from model_bakery import baker

from api.exceptions import AlreadyRegistered, EventFull, RegistrationClosed
from api.ids import MAX_ID
from api.models import Event, EventParticipant, Invitation, User, WebhookEndpoint
from tests.helpers import client_for
from tests.spec_validation import SPEC_PATH

SPEC = yaml.safe_load(SPEC_PATH.read_text())
PROBLEM = "application/problem+json"


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in SPEC["paths"].items()
        for method, operation in operations.items()
    ]


def _codes(response: dict[str, Any]) -> list[str]:
    schema = response["content"][PROBLEM]["schema"]
    return schema["allOf"][1]["properties"]["code"]["enum"]


def test_every_problem_response_enumerates_its_codes() -> None:
    for path, method, operation in _operations():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and method != "head":
                codes = _codes(response)
                assert codes, f"{method} {path} {status}"
                assert codes == sorted(set(codes))


def test_a_409_lists_the_codes_of_the_conflict_classes_the_operation_raises() -> None:
    register = SPEC["paths"]["/api/events/{id}/register/"]["post"]["responses"]["409"]

    assert _codes(register) == sorted(
        c.default_code for c in (EventFull, AlreadyRegistered, RegistrationClosed)
    )


def test_every_operation_that_reads_credentials_declares_401() -> None:
    for path, method, operation in _operations():
        if operation.get("security") and operation["security"] != [{}]:
            assert "401" in operation["responses"], f"{method} {path}"
            if method != "head":
                assert "bad_authorization_header" in _codes(operation["responses"]["401"])


def test_path_ids_are_integers_within_the_id_range() -> None:
    for path, method, operation in _operations():
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"] == {
                    "type": "integer",
                    "format": "int64",
                    "minimum": 1,
                    "maximum": MAX_ID,
                }, f"{method} {path}"


def test_always_present_response_fields_are_required() -> None:
    event = SPEC["components"]["schemas"]["Event"]

    assert set(event["required"]) == set(event["properties"])
    assert {"description", "location"} <= set(event["required"])


def _example(operation_id: str) -> dict[str, Any]:
    for _, _, operation in _operations():
        if operation["operationId"] == operation_id:
            examples = operation["requestBody"]["content"]["application/json"]["examples"]
            return next(iter(examples.values()))["value"]
    raise LookupError(operation_id)


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_the_account_examples_sign_up_and_log_in() -> None:
    client = client_for(None)

    created = client.post("/api/register/", _example("auth_register"), format="json")
    logged_in = client.post("/api/login/", _example("auth_login"), format="json")

    assert created.status_code == 201, created.content
    assert logged_in.status_code == 200, logged_in.content


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_the_reset_example_mails_the_account_signed_up() -> None:
    from django.core import mail

    client_for(None).post("/api/register/", _example("auth_register"), format="json")

    response = client_for(None).post(
        "/api/password-reset/", _example("auth_password_reset"), format="json"
    )

    assert response.status_code == 202
    assert mail.outbox[0].to == [_example("auth_register")["email"]]


@pytest.mark.django_db
def test_the_event_examples_create_replace_and_change_an_event(alice: User) -> None:
    client = client_for(alice)

    created = client.post("/api/events/", _example("events_create"), format="json")
    assert created.status_code == 201, created.content
    url = f"/api/events/{created.json()['id']}/"
    replaced = client.put(url, _example("events_update"), format="json")
    changed = client.patch(url, _example("events_partial_update"), format="json")

    assert replaced.status_code == 200, replaced.content
    assert changed.status_code == 200, changed.content
    assert (
        changed.json()["max_participants"] == _example("events_partial_update")["max_participants"]
    )


@pytest.mark.django_db
def test_the_invitation_examples_invite_and_accept(make_user: Any) -> None:
    invitee_id = _example("events_invite")["invitee"]
    invitee = User.objects.filter(pk=invitee_id).first() or make_user("grace", pk=invitee_id)
    host = make_user("host")
    event = baker.make_recipe("api.future_event", host=host)

    invited = client_for(host).post(
        f"/api/events/{event.pk}/invite/", _example("events_invite"), format="json"
    )
    assert invited.status_code == 201, invited.content
    answered = client_for(invitee).put(
        f"/api/invitations/{invited.json()['id']}/",
        _example("invitations_answer"),
        format="json",
    )

    assert answered.status_code == 200, answered.content
    assert Invitation.objects.get(pk=invited.json()["id"]).status == "ACCEPTED"


@pytest.mark.django_db
def test_the_feedback_example_is_accepted(alice: User, bob: User) -> None:
    event = baker.make_recipe("api.started_event", host=alice)
    EventParticipant.objects.create(event=event, user=bob)

    response = client_for(bob).post(
        f"/api/events/{event.pk}/feedback/", _example("events_feedback_create"), format="json"
    )

    assert response.status_code == 201, response.content
    assert Event.objects.get(pk=event.pk).feedback.count() == 1


@pytest.mark.django_db
def test_the_webhook_examples_register_and_re_enable(alice: User) -> None:
    client = client_for(alice)

    created = client.post("/api/webhooks/", _example("webhooks_create"), format="json")
    assert created.status_code == 201, created.content
    endpoint = WebhookEndpoint.objects.get(pk=created.json()["id"])
    endpoint.enabled = False
    endpoint.save(update_fields=["enabled"])
    changed = client.patch(
        f"/api/webhooks/{endpoint.pk}/", _example("webhooks_partial_update"), format="json"
    )

    assert changed.status_code == 200, changed.content
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert endpoint.events == _example("webhooks_create")["events"]


def test_every_request_example_is_one_a_test_posts() -> None:
    """The examples above are posted; an example added later must join them."""
    posted = {
        "auth_password_reset",
        "auth_register",
        "auth_login",
        "events_create",
        "events_update",
        "events_partial_update",
        "events_invite",
        "invitations_answer",
        "events_feedback_create",
        "webhooks_create",
        "webhooks_partial_update",
    }
    with_examples = {
        operation["operationId"]
        for _, _, operation in _operations()
        if "examples"
        in operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    }
    assert with_examples == posted

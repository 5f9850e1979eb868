"""The human-friendly edges: the index, trailing-slash hints, the Authorization header
read as RFC 9110 says, 404s that name the resource, HEAD, and the request-head limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from django.test import override_settings
from django.utils import timezone
from model_bakery import baker
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from api.models import User
from api.rest.middleware import MAX_HEADER_BYTES, MAX_REQUEST_TARGET_BYTES
from tests.helpers import client_for
from tests.spec_validation import SPEC_PATH

pytestmark = pytest.mark.django_db


def test_the_api_root_lists_where_everything_is() -> None:
    response = APIClient().get("/api/")

    assert response.status_code == 200
    index = response.json()
    assert index["schema"] == "http://testserver/api/schema/"
    assert index["docs"] == "http://testserver/api/docs/"
    assert index["redoc"] == "http://testserver/api/redoc/"
    assert index["events"] == "http://testserver/api/events/"
    for url in index.values():
        path = url.removeprefix("http://testserver")
        assert APIClient().head(path).status_code in (200, 401, 405), path


def test_a_missing_trailing_slash_is_named_in_the_404() -> None:
    response = APIClient().get("/api/events")

    assert response.status_code == 404
    assert response.json()["detail"] == (
        "No resource at this address. Did you mean /api/events/ (with a trailing slash)?"
    )


def test_an_address_that_does_not_exist_with_a_slash_either_gets_no_hint() -> None:
    response = APIClient().get("/api/evnets")

    assert response.json()["detail"] == "No resource at this address."


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_the_auth_scheme_is_case_insensitive(alice: User, scheme: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {AccessToken.for_user(alice)}")

    response = client.get("/api/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Token abc", "Basic YWxpY2U6cHc=", "Bearer a b", "abc"]
)
def test_a_malformed_authorization_header_is_named_as_malformed(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["code"] == "bad_authorization_header"
    assert problem["detail"] == "The Authorization header must be 'Bearer <access token>'."


def test_a_bad_token_on_a_public_read_is_a_documented_401() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = client.get("/api/events/")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/api/schema/", "/api/health/"])
def test_pages_that_take_no_credentials_ignore_a_stale_token(path: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired-long-ago")

    assert client.get(path).status_code == 200


def test_a_missing_event_is_named(alice: User) -> None:
    response = client_for(alice).delete("/api/events/999999/")

    assert response.status_code == 404
    assert response.json()["detail"] == "No event with this id."


def test_a_missing_invitation_is_named(alice: User) -> None:
    response = client_for(alice).get("/api/invitations/999999/")

    assert response.status_code == 404
    assert response.json()["detail"] == "No invitation with this id was sent to you."


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_the_413_states_the_limit(alice: User) -> None:
    response = client_for(alice).post(
        "/api/events/", data=b'{"title": "' + b"x" * 2000 + b'"}', content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is larger than 1000 bytes."


GET_PATHS = [
    path
    for path, operations in yaml.safe_load(SPEC_PATH.read_text())["paths"].items()
    if "get" in operations
]


@pytest.mark.parametrize("path", GET_PATHS)
def test_head_answers_wherever_get_does_with_the_same_status_and_no_body(
    path: str, alice: User
) -> None:
    start = timezone.now() + timedelta(days=1)
    event = baker.make_recipe(
        "api.future_event", host=alice, start_time=start, end_time=start + timedelta(hours=1)
    )
    invitation = baker.make("api.Invitation", event=event, inviter=alice, invitee=alice)
    endpoint = baker.make("api.WebhookEndpoint", owner=alice, url="https://example.com/hook")
    delivery = baker.make(
        "api.WebhookDelivery", endpoint=endpoint, message_id="msg_1", event_type="webhook.ping"
    )
    identifier = {"/api/invitations/": invitation.pk, "/api/webhooks/": endpoint.pk}.get(
        path[: path.find("/", 5) + 1], event.pk
    )
    url = (
        path.replace("{id}", str(identifier))
        .replace("{webhook_id}", str(endpoint.pk))
        .replace("{delivery_id}", str(delivery.pk))
    )
    client = client_for(alice)

    get, head = client.get(url), client.head(url)

    assert head.status_code == get.status_code == 200, url
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]


def test_a_request_target_over_the_limit_is_414() -> None:
    response = APIClient().get("/api/events/?location=" + "x" * MAX_REQUEST_TARGET_BYTES)

    assert response.status_code == 414
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "uri_too_long"


def test_a_target_just_within_the_limit_reaches_the_api() -> None:
    query = "?location="
    padding = MAX_REQUEST_TARGET_BYTES - len("/api/events/") - len(query) - 1
    response = APIClient().get("/api/events/" + query + "x" * padding)

    # The location filter allows 200 characters: the API, not the limit, answered.
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_headers_over_the_limit_are_431() -> None:
    response = APIClient().get("/api/events/", HTTP_X_PADDING="x" * MAX_HEADER_BYTES)

    assert response.status_code == 431
    assert response.json()["code"] == "request_header_fields_too_large"

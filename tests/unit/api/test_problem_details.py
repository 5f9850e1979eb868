"""Every error is one documented shape: application/problem+json with type, title,
status, detail and code, and ``errors`` (field, code, message) for invalid input only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from api.models import Event, User
from api.views import accounts
from tests.helpers import PROBLEM_KEYS, assert_problem, client_for, event_body

pytestmark = pytest.mark.django_db


def test_a_validation_error_is_a_problem_document_with_field_errors(
    alice_client: APIClient,
) -> None:
    response = alice_client.post("/api/events/", event_body(title="", max_participants=0))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) == PROBLEM_KEYS | {"errors"}
    assert body["type"] == "about:blank"
    assert body["title"] == "Bad Request"
    assert body["status"] == 400
    assert body["code"] == "invalid"
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert sorted(body["errors"], key=lambda e: e["field"]) == [
        {
            "field": "max_participants",
            "code": "min_value",
            "message": "Ensure this value is greater than or equal to 1.",
        },
        {"field": "title", "code": "blank", "message": "This field may not be blank."},
    ]


@pytest.mark.parametrize(
    ("role", "method", "url", "status", "title", "code"),
    [
        pytest.param(
            "anonymous", "post", "/api/events/", 401, "Unauthorized", "not_authenticated", id="401"
        ),
        pytest.param("other", "delete", "event", 403, "Forbidden", "permission_denied", id="403"),
        pytest.param(
            "anonymous", "get", "/api/events/999999999/", 404, "Not Found", "not_found", id="404"
        ),
        pytest.param(
            "anonymous", "get", "/api/nowhere/", 404, "Not Found", "not_found", id="404-no-route"
        ),
        pytest.param(
            "host", "patch", "capacity", 409, "Conflict", "capacity_below_participants", id="409"
        ),
    ],
)
def test_other_errors_are_problem_documents_without_field_errors(
    client_as: Callable[[str], APIClient],
    event_with_three_participants: Event,
    role: str,
    method: str,
    url: str,
    status: int,
    title: str,
    code: str,
) -> None:
    client = client_as(role)
    event_url = f"/api/events/{event_with_three_participants.pk}/"
    target = event_url if url in ("event", "capacity") else url
    body = {"max_participants": 1} if url == "capacity" else event_body()

    response = getattr(client, method)(target, body if method != "get" else None)

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) == PROBLEM_KEYS
    assert problem["type"] == "about:blank"
    assert problem["title"] == title
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["detail"]


def test_unknown_addresses_answer_the_json_404_for_any_method() -> None:
    # As a real client: the test client skips CSRF checks unless asked not to.
    response = APIClient(enforce_csrf_checks=True).post("/api/events/not-a-number/register/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


# A 500 is in no operation's responses: the server never means to send one.
@pytest.mark.unchecked_responses
def test_an_unexpected_error_is_a_problem_without_details(
    monkeypatch: pytest.MonkeyPatch, alice: User
) -> None:
    def broken(view: accounts.MeView) -> None:
        raise RuntimeError("secret internals: /srv/app/db password=hunter2")

    monkeypatch.setattr(accounts.MeView, "get_object", broken)

    response = client_for(alice).get("/api/me/")

    assert_problem(response, 500, "server_error")
    text = response.content.decode()
    for leak in ("secret internals", "hunter2", "Traceback", "RuntimeError", "/srv/app"):
        assert leak not in text

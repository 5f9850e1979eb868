"""Input has the JSON type the spec states: DRF's fields would coerce a number into a
string field and a string of digits into an integer one, answers the spec does not
describe (Schemathesis' negative tests found the first)."""

from __future__ import annotations

from typing import Any

import pytest

from api.models import Event, User
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

EVENT = {
    "title": "Workshop",
    "start_time": "2099-06-01T18:00:00Z",
    "end_time": "2099-06-01T21:00:00Z",
    "max_participants": 30,
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", 5),
        ("location", 0),
        ("description", 1.5),
        ("max_participants", "30"),
        ("max_participants", 30.0),
        ("max_participants", True),
    ],
)
def test_an_event_field_of_another_json_type_is_invalid(
    alice: User, field: str, value: Any
) -> None:
    response = client_for(alice).post("/api/events/", {**EVENT, field: value}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {"field": field, "code": "invalid", "message": response.json()["errors"][0]["message"]}
    ]
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/api/register/",
            {"username": 123, "email": "a@example.org", "password": "x"},
            "username",
        ),
        ("/api/login/", {"username": "alice", "password": 12345678}, "password"),
        ("/api/token/refresh/", {"refresh": 1}, "refresh"),
    ],
)
def test_an_account_field_of_another_json_type_is_invalid(
    alice: User, url: str, body: dict[str, Any], field: str
) -> None:
    response = client_for(None).post(url, body, format="json")

    assert response.status_code == 400, response.content
    assert (field, "invalid") in {(e["field"], e["code"]) for e in response.json()["errors"]}

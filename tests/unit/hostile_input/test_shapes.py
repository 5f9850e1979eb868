"""Bodies of the wrong shape: unknown fields are ignored; arrays and scalars where
objects go, and objects where scalars go, are invalid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import (
    PASSWORD,
    assert_invalid_fields,
    assert_problem,
    error_pairs,
    nothing_written,
)
from tests.unit.hostile_input.endpoints import ALL_ENDPOINTS, Endpoint

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ALL_ENDPOINTS)
def test_unknown_fields_are_ignored(endpoints: dict[str, Endpoint], name: str) -> None:
    endpoint = endpoints[name]
    unknown = {"unknown_field": "x", "__proto__": {"admin": True}, "": 1, "titel": "typo"}

    response = endpoint.send_json({**endpoint.body, **unknown})

    assert response.status_code == endpoint.success, response.content
    assert "unknown_field" not in response.content.decode()


# Wrong shapes: arrays and scalars where objects go, objects where scalars go


NOT_OBJECTS: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("the body in a list", lambda body: [body], "invalid"),
    ("an empty list", lambda body: [], "invalid"),
    ("a string", lambda body: "text", "invalid"),
    ("a number", lambda body: 42, "invalid"),
    ("a boolean", lambda body: True, "invalid"),
    ("null", lambda body: None, "null"),
]


@pytest.mark.parametrize("name", ALL_ENDPOINTS)
def test_a_body_that_is_not_an_object_is_invalid(endpoints: dict[str, Endpoint], name: str) -> None:
    endpoint = endpoints[name]

    with nothing_written():
        for shape, make_body, code in NOT_OBJECTS:
            response = endpoint.send_json(make_body(endpoint.body))

            assert_problem(response, 400, "invalid", context=shape)
            assert error_pairs(response) == {("non_field_errors", code)}, shape


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        pytest.param("create-event", "title", {"text": "Meetup"}, id="title-object"),
        pytest.param("create-event", "title", ["Meetup"], id="title-list"),
        pytest.param("create-event", "start_time", {"date": "2099-01-01"}, id="start-object"),
        pytest.param("create-event", "max_participants", [5], id="capacity-list"),
        pytest.param("change-event", "location", {"city": "Berlin"}, id="location-object"),
        pytest.param("register", "username", ["dora"], id="username-list"),
        pytest.param("register", "password", {"value": PASSWORD}, id="password-object"),
        pytest.param("login", "username", ["alice"], id="login-username-list"),
        pytest.param("login", "password", {"value": PASSWORD}, id="login-password-object"),
        pytest.param("refresh", "refresh", ["token"], id="refresh-list"),
        pytest.param("invite", "invitee", {"id": 3}, id="invitee-object"),
        pytest.param("invite", "invitee", [3], id="invitee-list"),
        pytest.param("answer", "status", ["ACCEPTED"], id="status-list"),
        pytest.param("answer", "status", {"value": "ACCEPTED"}, id="status-object"),
        pytest.param("feedback", "rating", [4], id="rating-list"),
        pytest.param("feedback", "comment", {"text": "Great"}, id="comment-object"),
    ],
)
def test_an_object_or_list_where_a_scalar_goes_is_invalid(
    endpoints: dict[str, Endpoint], name: str, field: str, value: Any
) -> None:
    with nothing_written():
        response = endpoints[name].with_field(field, value)

    assert_invalid_fields(response, field)

"""Oversized strings and bodies: above DATA_UPLOAD_MAX_MEMORY_SIZE a 413, below it
max_length."""

from __future__ import annotations

import json

import pytest

from tests.helpers import assert_field_error, assert_problem, nothing_written
from tests.unit.hostile_input.endpoints import KIB, MIB, Endpoint

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "field"),
    [
        pytest.param("create-event", "title", id="event-title"),
        pytest.param("change-event", "description", id="changed-event-description"),
        pytest.param("register", "username", id="username"),
        pytest.param("login", "username", id="login-username"),
        pytest.param("feedback", "comment", id="comment"),
    ],
)
def test_a_one_megabyte_string_is_refused_as_too_large(
    endpoints: dict[str, Endpoint], name: str, field: str
) -> None:
    with nothing_written():
        response = endpoints[name].with_field(field, "x" * MIB)

    assert_problem(response, 413, "request_too_large")


@pytest.mark.parametrize(
    ("name", "field"),
    [
        pytest.param("create-event", "title", id="event-title"),
        pytest.param("create-event", "description", id="event-description"),
        pytest.param("create-event", "location", id="event-location"),
        pytest.param("register", "username", id="username"),
        pytest.param("register", "email", id="email"),
        pytest.param("feedback", "comment", id="comment"),
    ],
)
def test_a_string_under_the_body_limit_but_over_max_length_is_invalid(
    endpoints: dict[str, Endpoint], name: str, field: str
) -> None:
    with nothing_written():
        response = endpoints[name].with_field(field, "x" * (250 * KIB))

    assert_field_error(response, field, "max_length")


def test_a_body_that_claims_to_be_larger_than_the_limit_is_refused_unread(
    endpoints: dict[str, Endpoint],
) -> None:
    endpoint = endpoints["create-event"]

    with nothing_written():
        response = endpoint.send_raw(
            json.dumps(endpoint.body), "application/json", CONTENT_LENGTH=str(10 * MIB)
        )

    assert_problem(response, 413, "request_too_large")

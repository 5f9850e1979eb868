"""NUL characters and lone surrogates in body strings: refused, as PostgreSQL can
store neither."""

from __future__ import annotations

import pytest

from tests.helpers import assert_field_error, nothing_written
from tests.unit.hostile_input.endpoints import Endpoint

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "field", "code"),
    [
        pytest.param("create-event", "title", "null_characters_not_allowed", id="event-title"),
        pytest.param(
            "create-event", "description", "null_characters_not_allowed", id="event-description"
        ),
        pytest.param(
            "create-event", "location", "null_characters_not_allowed", id="event-location"
        ),
        pytest.param(
            "change-event", "title", "null_characters_not_allowed", id="changed-event-title"
        ),
        pytest.param("register", "username", "null_characters_not_allowed", id="username"),
        pytest.param("register", "email", "null_characters_not_allowed", id="email"),
        pytest.param("register", "password", "null_characters_not_allowed", id="password"),
        pytest.param("login", "username", "null_characters_not_allowed", id="login-username"),
        pytest.param("login", "password", "null_characters_not_allowed", id="login-password"),
        pytest.param("feedback", "comment", "null_characters_not_allowed", id="comment"),
        pytest.param("refresh", "refresh", "null_characters_not_allowed", id="refresh-token"),
        pytest.param("logout", "refresh", "null_characters_not_allowed", id="logout-token"),
        pytest.param("answer", "status", "invalid_choice", id="invitation-status"),
    ],
)
def test_a_nul_character_in_a_body_string_is_refused(
    endpoints: dict[str, Endpoint], name: str, field: str, code: str
) -> None:
    endpoint = endpoints[name]
    value = str(endpoint.body[field])

    with nothing_written():
        response = endpoint.with_field(field, f"{value[:3]}\x00{value[3:]}")

    assert_field_error(response, field, code)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        pytest.param("create-event", "title", id="event-title"),
        pytest.param("create-event", "location", id="event-location"),
        pytest.param("register", "username", id="username"),
        pytest.param("register", "password", id="password"),
        pytest.param("login", "username", id="login-username"),
        pytest.param("login", "password", id="login-password"),
        pytest.param("feedback", "comment", id="comment"),
        pytest.param("refresh", "refresh", id="refresh-token"),
    ],
)
def test_a_lone_surrogate_in_a_body_string_is_refused(
    endpoints: dict[str, Endpoint], name: str, field: str
) -> None:
    """JSON may escape a lone surrogate (\\ud800); it cannot be encoded as UTF-8 for the
    database, a cache key or a hash, so it must be refused before anything uses it."""
    endpoint = endpoints[name]

    with nothing_written():
        response = endpoint.with_field(field, "ab\ud800cd")

    assert_field_error(response, field, "surrogate_characters_not_allowed")

"""Integers: explicit bounds on every field, so SQLite and PostgreSQL answer the same,
and DRF's IntegerField rules for floats and strings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from api.models import Event, User
from tests.helpers import (
    assert_field_error,
    assert_invalid_fields,
    assert_problem,
    client_for,
    nothing_written,
)
from tests.unit.hostile_input.endpoints import EVENTS_URL, Endpoint

pytestmark = pytest.mark.django_db


# Numbers beyond 32 and 64 bits


@pytest.mark.parametrize(
    ("name", "field", "value", "code"),
    [
        pytest.param("create-event", "max_participants", 2**31, "max_value", id="capacity-2**31"),
        pytest.param("create-event", "max_participants", 2**63, "max_value", id="capacity-2**63"),
        pytest.param("create-event", "max_participants", 2**64, "max_value", id="capacity-2**64"),
        pytest.param(
            "create-event", "max_participants", 10**4000, "max_value", id="capacity-4000-digits"
        ),
        pytest.param(
            "create-event", "max_participants", -(2**63) - 1, "min_value", id="capacity--2**63-1"
        ),
        pytest.param("change-event", "max_participants", 2**32, "max_value", id="patch-2**32"),
        pytest.param("replace-event", "max_participants", 2**63, "max_value", id="put-2**63"),
        pytest.param("feedback", "rating", 2**15, "max_value", id="rating-2**15-smallint"),
        pytest.param("feedback", "rating", 2**31, "max_value", id="rating-2**31"),
        pytest.param("feedback", "rating", 2**64, "max_value", id="rating-2**64"),
        pytest.param("feedback", "rating", -(2**31) - 1, "min_value", id="rating--2**31-1"),
        pytest.param("invite", "invitee", 2**31, "does_not_exist", id="invitee-2**31"),
        pytest.param("invite", "invitee", 2**63 - 1, "does_not_exist", id="invitee-2**63-1"),
        pytest.param("invite", "invitee", 2**63, "max_value", id="invitee-2**63"),
        pytest.param("invite", "invitee", 2**64, "max_value", id="invitee-2**64"),
        pytest.param("invite", "invitee", -(2**63) - 1, "min_value", id="invitee--2**63-1"),
    ],
)
def test_an_integer_beyond_the_fields_range_is_invalid(
    endpoints: dict[str, Endpoint], name: str, field: str, value: int, code: str
) -> None:
    with nothing_written():
        response = endpoints[name].with_field(field, value)

    assert_field_error(response, field, code)


@pytest.mark.parametrize(
    ("host", "status"),
    [
        pytest.param(2**31, 200, id="2**31-nobody"),
        pytest.param(2**63 - 1, 200, id="2**63-1-nobody"),
        pytest.param(2**63, 400, id="2**63"),
        pytest.param(2**64, 400, id="2**64"),
        pytest.param(-(2**63), 400, id="-2**63"),
        pytest.param(10**100, 400, id="101-digits"),
    ],
)
def test_host_filter_beyond_the_id_range_is_invalid(
    api_client: APIClient, event: Event, host: int, status: int
) -> None:
    response = api_client.get(EVENTS_URL, {"host": host})

    if status == 200:
        assert response.status_code == 200
        assert response.json()["count"] == 0
    else:
        assert_invalid_fields(response, "host")


ABSURD_IDS = [
    str(2**31),
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    "9" * 40,
    "-1",
    "1.0",
    "1e3",
    "%00",
    "1%00",
    "%D9%A1",
]


@pytest.mark.parametrize(
    ("role", "method", "template"),
    [
        pytest.param("anonymous", "GET", "/api/events/{}/", id="event"),
        pytest.param("alice", "PATCH", "/api/events/{}/", id="change-event"),
        pytest.param("alice", "DELETE", "/api/events/{}/", id="delete-event"),
        pytest.param("bob", "POST", "/api/events/{}/register/", id="register"),
        pytest.param("bob", "DELETE", "/api/events/{}/unregister/", id="unregister"),
        pytest.param("bob", "GET", "/api/events/{}/participants/", id="participants"),
        pytest.param("alice", "POST", "/api/events/{}/invite/", id="invite"),
        pytest.param("anonymous", "GET", "/api/events/{}/feedback/", id="feedback"),
        pytest.param("bob", "GET", "/api/invitations/{}/", id="invitation"),
        pytest.param("bob", "PUT", "/api/invitations/{}/", id="answer"),
    ],
)
def test_an_absurd_id_in_the_path_is_not_found(
    alice: User, bob: User, event: Event, role: str, method: str, template: str
) -> None:
    """Ids beyond 32 bits reach the database (bigint, so they simply match nothing); longer
    ones, signs, fractions and NUL never match the route."""
    client = client_for({"anonymous": None, "alice": alice, "bob": bob}[role])

    with nothing_written():
        for object_id in ABSURD_IDS:
            url = template.format(object_id)
            response = client.generic(method, url, json.dumps({}), content_type="application/json")

            assert_problem(response, 404, "not_found", context=url)


# Floats and strings where integers go: the spec says integer, so they are refused
# (DRF's IntegerField took "7", 7.0 and 1e3; api.serializers.IntegerField does not).


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        pytest.param("create-event", "max_participants", "7", id="capacity-numeric-string"),
        pytest.param("create-event", "max_participants", 7.0, id="capacity-integral-float"),
        pytest.param("create-event", "max_participants", "7.0", id="capacity-string-7.0"),
        pytest.param("create-event", "max_participants", 1e3, id="capacity-1e3-float"),
        pytest.param("change-event", "max_participants", "12", id="patch-numeric-string"),
        pytest.param("feedback", "rating", "4", id="rating-numeric-string"),
        pytest.param("feedback", "rating", 5.0, id="rating-integral-float"),
        pytest.param("invite", "invitee", "2", id="invitee-numeric-string"),
        pytest.param("invite", "invitee", 2.0, id="invitee-integral-float"),
    ],
)
def test_a_numeric_string_or_integral_float_is_not_an_integer(
    endpoints: dict[str, Endpoint], name: str, field: str, value: Any
) -> None:
    with nothing_written():
        response = endpoints[name].with_field(field, value)

    assert_problem(response, 400, "invalid")
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        pytest.param("create-event", "max_participants", 7.5, id="capacity-fraction"),
        pytest.param("create-event", "max_participants", "7.5", id="capacity-fraction-string"),
        pytest.param("create-event", "max_participants", "1e3", id="capacity-exponent-string"),
        pytest.param("create-event", "max_participants", 1e20, id="capacity-1e20-float"),
        pytest.param("create-event", "max_participants", "0x10", id="capacity-hex-string"),
        pytest.param("create-event", "max_participants", "", id="capacity-empty-string"),
        pytest.param("create-event", "max_participants", True, id="capacity-boolean"),
        pytest.param("create-event", "max_participants", "1" * 1001, id="capacity-1001-digits"),
        pytest.param("change-event", "max_participants", 2.5, id="patch-fraction"),
        pytest.param("feedback", "rating", 4.5, id="rating-fraction"),
        pytest.param("feedback", "rating", "4.5", id="rating-fraction-string"),
        pytest.param("feedback", "rating", True, id="rating-boolean"),
        pytest.param("feedback", "rating", "four", id="rating-word"),
        pytest.param("invite", "invitee", 2.5, id="invitee-fraction"),
        pytest.param("invite", "invitee", True, id="invitee-boolean"),
        pytest.param("invite", "invitee", "1e1", id="invitee-exponent-string"),
    ],
)
def test_a_fraction_or_non_numeric_value_where_an_integer_goes_is_invalid(
    endpoints: dict[str, Endpoint], name: str, field: str, value: Any
) -> None:
    with nothing_written():
        response = endpoints[name].with_field(field, value)

    assert_invalid_fields(response, field)

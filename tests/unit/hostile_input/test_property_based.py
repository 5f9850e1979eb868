"""Property-based (Hypothesis): generated JSON never earns a 500, and a success has the
documented shape."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.response import Response
from rest_framework.test import APIClient

from api.models import Event, User
from tests.helpers import EVENT_KEYS, PROBLEM, client_for
from tests.unit.hostile_input.endpoints import EVENTS_URL

pytestmark = pytest.mark.django_db


WEIRD_STRINGS = [
    "",
    " ",
    "\x00",
    "\ud800",
    "\udfff",
    "\ufeff",
    "\u202e",
    "\u200b",
    "\U0001f389" * 201,
    "x" * 5001,
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "null",
    "NaN",
    "0",
    "-1",
    "9" * 30,
    "2099-01-01T10:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "ACCEPTED",
    "PENDING",
]
BOUNDARY_INTEGERS = [
    0,
    -1,
    1,
    5,
    6,
    100_000,
    100_001,
    2**15,
    2**31 - 1,
    2**31,
    2**32,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
]

texts = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(exclude_categories=()), max_size=10),
    st.sampled_from(WEIRD_STRINGS),
)
integers = st.one_of(
    st.integers(), st.sampled_from(BOUNDARY_INTEGERS), st.integers(-(10**40), 10**40)
)
json_values = st.recursive(
    st.none() | st.booleans() | integers | st.floats() | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=6,
)
datetime_texts = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(9999, 12, 31)
).flatmap(
    lambda moment: st.sampled_from(
        [
            moment.isoformat(),
            moment.replace(tzinfo=UTC).isoformat(),
            moment.replace(tzinfo=timezone(timedelta(hours=-12))).isoformat(),
            moment.replace(tzinfo=timezone(timedelta(hours=14))).isoformat(),
        ]
    )
)
future_datetime_texts = st.datetimes(
    min_value=datetime(2100, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(datetime.isoformat)


def field_value(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly plausible values, often anything at all."""
    return st.one_of(valid, json_values)


event_bodies = st.fixed_dictionaries(
    {},
    optional={
        "title": field_value(st.text(max_size=210)),
        "description": field_value(st.text(max_size=50)),
        "location": field_value(st.text(max_size=50)),
        "start_time": field_value(future_datetime_texts | datetime_texts),
        "end_time": field_value(future_datetime_texts | datetime_texts),
        "max_participants": field_value(st.integers(min_value=-5, max_value=100_005)),
        "host": json_values,
        "id": json_values,
        "participants_count": json_values,
        "created_at": json_values,
    },
)
PROPERTY_SETTINGS = hypothesis_settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Each generated example starts from the fixtures' rows, whatever the last one did."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def assert_documented(response: Response, successes: set[int], failures: set[int]) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code in successes:
        assert response["Content-Type"] == "application/json"
        return
    assert response.status_code in failures, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == response.status_code
    assert isinstance(problem["code"], str)
    assert problem["code"]
    if problem["code"] == "invalid":
        assert problem["errors"]
        assert all(set(error) == {"field", "code", "message"} for error in problem["errors"])


def assert_event_shape(data: dict[str, Any]) -> None:
    assert set(data) == EVENT_KEYS
    assert isinstance(data["id"], int)
    assert isinstance(data["title"], str)
    assert 0 < len(data["title"]) <= 200
    assert set(data["host"]) == {"id", "username"}
    assert 1 <= data["max_participants"] <= 100_000
    assert data["participants_count"] >= 0
    start = datetime.fromisoformat(data["start_time"])
    end = datetime.fromisoformat(data["end_time"])
    assert start.tzinfo is not None
    assert end > start


def send(client: APIClient, method: str, url: str, body: Any, **extra: Any) -> Response:
    return client.generic(
        method, url, json.dumps(body, allow_nan=True), content_type="application/json", **extra
    )


@PROPERTY_SETTINGS
@given(body=st.one_of(event_bodies, json_values))
def test_generated_event_creations_never_crash(alice: User, body: Any) -> None:
    with rolled_back():
        response = send(client_for(alice), "POST", EVENTS_URL, body)

        assert_documented(response, {201}, {400})
        if response.status_code == 201:
            assert_event_shape(response.json())
            assert response.json()["host"]["id"] == alice.pk


@PROPERTY_SETTINGS
@given(body=st.one_of(event_bodies, json_values), method=st.sampled_from(["PATCH", "PUT"]))
def test_generated_event_updates_never_crash(
    alice: User, event: Event, body: Any, method: str
) -> None:
    with rolled_back():
        response = send(client_for(alice), method, f"{EVENTS_URL}{event.pk}/", body)

        assert_documented(response, {200}, {400})
        if response.status_code == 200:
            assert_event_shape(response.json())
            assert response.json()["id"] == event.pk


filter_values = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=15),
    st.sampled_from([w for w in WEIRD_STRINGS if "\ud800" not in w and "\udfff" not in w]),
    integers.map(str),
    datetime_texts,
    st.dates().map(str),
)
event_queries = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [
                "host",
                "location",
                "start_time_after",
                "start_time_before",
                "end_time_after",
                "end_time_before",
                "ordering",
                "page",
                "page_size",
            ]
        ),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=5),
    ),
    st.one_of(filter_values, st.lists(filter_values, min_size=1, max_size=3)),
    max_size=4,
)


@PROPERTY_SETTINGS
@given(query=event_queries)
def test_generated_event_filters_never_crash(
    api_client: APIClient, event: Event, query: dict[str, Any]
) -> None:
    response = api_client.get(EVENTS_URL, query)

    assert_documented(response, {200}, {400, 404})
    if response.status_code == 200:
        page = response.json()
        assert set(page) == {"count", "next", "previous", "results"}
        assert len(page["results"]) <= 100
        for data in page["results"]:
            assert_event_shape(data)


feedback_bodies = st.fixed_dictionaries(
    {},
    optional={
        "rating": field_value(st.integers(min_value=0, max_value=6)),
        "comment": field_value(st.text(max_size=30)),
        "user": json_values,
        "created_at": json_values,
    },
)


@PROPERTY_SETTINGS
@given(body=st.one_of(feedback_bodies, json_values))
def test_generated_feedback_never_crashes(
    bob: User, started_event_with_bob: Event, body: Any
) -> None:
    url = f"{EVENTS_URL}{started_event_with_bob.pk}/feedback/"
    with rolled_back():
        response = send(client_for(bob), "POST", url, body)

        assert_documented(response, {201}, {400})
        if response.status_code == 201:
            data = response.json()
            assert set(data) == {"id", "user", "rating", "comment", "created_at"}
            assert 1 <= data["rating"] <= 5
            assert data["user"] == {"id": bob.pk, "username": "bob"}


CHARLIE = "<charlie's id>"
invite_bodies = st.fixed_dictionaries(
    {}, optional={"invitee": st.one_of(st.just(CHARLIE), json_values), "status": json_values}
)


@PROPERTY_SETTINGS
@given(body=st.one_of(invite_bodies, json_values))
def test_generated_invitations_never_crash(
    alice: User, charlie: User, event: Event, body: Any
) -> None:
    if isinstance(body, dict) and body.get("invitee") == CHARLIE:
        body["invitee"] = charlie.pk
    with rolled_back():
        response = send(client_for(alice), "POST", f"{EVENTS_URL}{event.pk}/invite/", body)

        assert_documented(response, {201}, {400})
        if response.status_code == 201:
            assert response.json()["status"] == "PENDING"
            assert response.json()["invitee"] == {"id": charlie.pk, "username": "charlie"}


ADDRESSES = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))
account_bodies = st.fixed_dictionaries(
    {},
    optional={
        "username": field_value(st.from_regex(r"[\w.@+-]{1,20}", fullmatch=True)),
        "email": field_value(st.emails()),
        "password": field_value(st.text(min_size=8, max_size=30)),
    },
)


@PROPERTY_SETTINGS
@given(body=st.one_of(account_bodies, json_values), path=st.sampled_from(["register", "login"]))
def test_generated_registrations_and_logins_never_crash(alice: User, body: Any, path: str) -> None:
    # Each example comes from another address, so the per-address limits stay out of the way.
    address = next(ADDRESSES)
    with rolled_back():
        response = send(client_for(None), "POST", f"/api/{path}/", body, REMOTE_ADDR=address)

        if path == "register":
            assert_documented(response, {201}, {400})
        else:
            assert_documented(response, set(), {400, 401, 429})

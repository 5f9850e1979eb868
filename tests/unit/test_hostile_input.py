"""Hostile and malformed input: always a documented 4xx in the problem shape, nothing half-written.

Every case asserts the status, the problem ``code``, the ``application/problem+json``
content type and that no row was written or changed. Where the API accepts an input that
looks odd (numeric strings, integral floats, far-future datetimes, emoji and RTL text),
the test says so and checks the stored value, so the leniency is a decision, not an
accident.

The rules these tests hold the API to:

- Strings: NUL characters and lone surrogates are refused (PostgreSQL cannot store either);
  max_length counts characters, not bytes; any other Unicode round-trips exactly.
- Bodies: above DATA_UPLOAD_MAX_MEMORY_SIZE (256 KiB) -> 413 ``request_too_large``; not
  JSON -> 415; JSON that does not parse -> 400 ``parse_error``; not an object -> 400.
- Integers: DRF's IntegerField rules (``"5"`` and ``5.0`` are 5, ``5.5`` is refused), with
  explicit bounds on every field, so SQLite and PostgreSQL answer the same.
- Datetimes: ISO 8601; without an offset they are UTC; years 1-9999 only, and a value
  that leaves that range when converted to UTC is refused (``overflow``).
- Query strings: a NUL anywhere -> 400; when a parameter is repeated the last value wins;
  oversized values are refused before any query runs.

A property-based test (Hypothesis) then drives the same endpoints with generated JSON.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone as django_timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from model_bakery import baker
from pytest_django import DjangoAssertNumQueries, Settings
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from api.models import Event, EventCreation, EventParticipant, Feedback, Invitation, User

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
PASSWORD = "correct-horse-battery-staple"
KIB = 1024
MIB = 1024 * KIB
EVENTS_URL = "/api/events/"
EVENT_KEYS = {
    "id",
    "title",
    "description",
    "host",
    "start_time",
    "end_time",
    "location",
    "max_participants",
    "participants_count",
    "created_at",
}
TABLES = (
    User,
    Event,
    EventCreation,
    EventParticipant,
    Invitation,
    Feedback,
    OutstandingToken,
    BlacklistedToken,
)


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings) -> None:
    """Fast password hashing, and no creation limit: these tests are about neither."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EVENT_CREATION_LIMIT = 10_000


# Helpers


def database_state() -> dict[str, list[dict[str, Any]]]:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in TABLES}


@contextmanager
def nothing_written() -> Iterator[None]:
    """Asserts that no row of any table was inserted, changed or deleted."""
    before = database_state()
    yield
    assert database_state() == before


def assert_problem(response: Response, status: int, code: str, context: str = "") -> dict[str, Any]:
    """``context`` names the case when one test sends several requests."""
    assert response.status_code == status, (context, response.content[:500])
    assert response["Content-Type"] == PROBLEM, context
    body = response.json()
    assert body["status"] == status, context
    assert body["code"] == code, (context, body)
    assert body["detail"]
    return body


def error_pairs(response: Response) -> set[tuple[str, str]]:
    return {(error["field"], error["code"]) for error in response.json()["errors"]}


def assert_field_error(response: Response, field: str, code: str) -> None:
    assert_problem(response, 400, "invalid")
    assert (field, code) in error_pairs(response), response.json()["errors"]


def in_days(days: float) -> datetime:
    return django_timezone.now() + timedelta(days=days)


def event_body(**overrides: Any) -> dict[str, Any]:
    start = in_days(7)
    return {
        "title": "Python meetup",
        "description": "Talks and pizza.",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=2)).isoformat(),
        "location": "Berlin",
        "max_participants": 30,
        **overrides,
    }


def client_for(user: User | None) -> APIClient:
    """A client that answers a crash with the 500 response instead of raising, so a
    failing assertion shows the status (the traceback is in the captured log)."""
    client = APIClient()
    client.raise_request_exception = False
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@dataclass(frozen=True)
class Endpoint:
    """One write operation, with a body it accepts and the status it answers then."""

    client: APIClient
    method: str
    url: str
    body: dict[str, Any]
    success: int

    def send_json(self, body: Any, **extra: Any) -> Response:
        # ensure_ascii: lone surrogates travel as \ud800 escapes, as a hostile client sends
        # them; allow_nan: NaN and Infinity reach the server as the non-JSON literals.
        return self.send_raw(json.dumps(body, allow_nan=True), "application/json", **extra)

    def send_raw(self, data: bytes | str, content_type: str, **extra: Any) -> Response:
        return self.client.generic(self.method, self.url, data, content_type=content_type, **extra)

    def with_field(self, field: str, value: Any) -> Response:
        return self.send_json({**self.body, field: value})


@pytest.fixture
def event(alice: User) -> Event:
    return baker.make_recipe(
        "api.future_event", host=alice, title="Meetup", location="Berlin", max_participants=10
    )


@pytest.fixture
def started_event_with_bob(alice: User, bob: User) -> Event:
    started = baker.make_recipe("api.started_event", host=alice)
    baker.make(EventParticipant, event=started, user=bob)
    return started


@pytest.fixture
def endpoints(
    alice: User, bob: User, charlie: User, event: Event, started_event_with_bob: Event
) -> dict[str, Endpoint]:
    alice.set_password(PASSWORD)
    alice.save(update_fields=["password"])
    invitation = baker.make(Invitation, event=event, inviter=alice, invitee=bob)
    alice_client, bob_client, anonymous = client_for(alice), client_for(bob), client_for(None)
    event_url = f"{EVENTS_URL}{event.pk}/"
    return {
        "create-event": Endpoint(alice_client, "POST", EVENTS_URL, event_body(), 201),
        "replace-event": Endpoint(alice_client, "PUT", event_url, event_body(), 200),
        "change-event": Endpoint(alice_client, "PATCH", event_url, {"title": "Renamed"}, 200),
        "register": Endpoint(
            anonymous,
            "POST",
            "/api/register/",
            {"username": "dora", "email": "dora@example.org", "password": PASSWORD},
            201,
        ),
        "login": Endpoint(
            anonymous, "POST", "/api/login/", {"username": "alice", "password": PASSWORD}, 200
        ),
        "refresh": Endpoint(
            anonymous,
            "POST",
            "/api/token/refresh/",
            {"refresh": str(RefreshToken.for_user(alice))},
            200,
        ),
        "logout": Endpoint(
            alice_client,
            "POST",
            "/api/logout/",
            {"refresh": str(RefreshToken.for_user(alice))},
            204,
        ),
        "invite": Endpoint(
            alice_client, "POST", f"{event_url}invite/", {"invitee": charlie.pk}, 201
        ),
        "answer": Endpoint(
            bob_client, "PUT", f"/api/invitations/{invitation.pk}/", {"status": "ACCEPTED"}, 200
        ),
        "feedback": Endpoint(
            bob_client,
            "POST",
            f"{EVENTS_URL}{started_event_with_bob.pk}/feedback/",
            {"rating": 4, "comment": "Great"},
            201,
        ),
    }


ALL_ENDPOINTS = [
    "create-event",
    "replace-event",
    "change-event",
    "register",
    "login",
    "refresh",
    "logout",
    "invite",
    "answer",
    "feedback",
]


# The bodies above are valid, so every 4xx below is caused by the one thing each test changes.


@pytest.mark.parametrize("name", ALL_ENDPOINTS)
def test_unknown_fields_are_ignored(endpoints: dict[str, Endpoint], name: str) -> None:
    endpoint = endpoints[name]
    unknown = {"unknown_field": "x", "__proto__": {"admin": True}, "": 1, "titel": "typo"}

    response = endpoint.send_json({**endpoint.body, **unknown})

    assert response.status_code == endpoint.success, response.content
    assert "unknown_field" not in response.content.decode()


# NUL characters and lone surrogates in body strings


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


# Oversized strings and bodies


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


# Emoji, right-to-left text and other Unicode


UNICODE_TEXT = [
    pytest.param("F\u00eate \U0001f389 f\u00fcr alle \u2728", id="emoji-and-accents"),
    pytest.param(
        "\U0001f469\U0001f3fd\u200d\U0001f4bb \U0001f468\u200d\U0001f469\u200d\U0001f467"
        " \U0001f3f3\ufe0f\u200d\U0001f308 \U0001f1e9\U0001f1ea",
        id="zwj-sequences-skin-tones-and-flags",
    ),
    pytest.param("\u05de\u05e4\u05d2\u05e9 \u05e4\u05d9\u05d9\u05ea\u05d5\u05df", id="hebrew"),
    pytest.param(
        "\u0644\u0642\u0627\u0621 \u0628\u0627\u064a\u062b\u0648\u0646 \u0641\u064a "
        "\u0628\u0631\u0644\u064a\u0646",
        id="arabic",
    ),
    pytest.param("Python 3.12 \u05de\u05e4\u05d2\u05e9 \u0644\u0642\u0627\u0621", id="mixed"),
    pytest.param("\u202eexe.txt\u202c \u2066isolate\u2069", id="bidi-control-characters"),
    pytest.param("e\u0301 and \u00e9", id="combining-mark-not-normalised"),
    pytest.param("\U0001d4ab\U0001d4ce\U0001d4c9\U0001d4bd \U0001d7db", id="astral-letters"),
    pytest.param("\u4f1a\u8bae \u30df\u30fc\u30c8\u30a2\u30c3\u30d7 \ubaa8\uc784", id="cjk"),
]


@pytest.mark.parametrize("text", UNICODE_TEXT)
def test_unicode_text_in_an_event_round_trips_exactly(
    endpoints: dict[str, Endpoint], api_client: APIClient, text: str
) -> None:
    endpoint = endpoints["create-event"]

    response = endpoint.send_json({**endpoint.body, "title": text, "location": text})

    assert response.status_code == 201, response.content
    created = Event.objects.get(pk=response.json()["id"])
    assert (created.title, created.location) == (text, text)
    assert (response.json()["title"], response.json()["location"]) == (text, text)
    shown = api_client.get(f"{EVENTS_URL}{created.pk}/").json()
    assert (shown["title"], shown["location"]) == (text, text)


@pytest.mark.parametrize(
    ("length", "status"),
    [pytest.param(200, 201, id="200-emoji-fit"), pytest.param(201, 400, id="201-do-not")],
)
def test_title_length_counts_characters_not_bytes(
    endpoints: dict[str, Endpoint], length: int, status: int
) -> None:
    """Each of these emoji is 4 bytes in UTF-8 and 2 UTF-16 units; the limit is 200 of them."""
    title = "\U0001f389" * length

    response = endpoints["create-event"].with_field("title", title)

    assert response.status_code == status, response.content
    if status == 201:
        assert Event.objects.get(pk=response.json()["id"]).title == title
    else:
        assert_field_error(response, "title", "max_length")


@pytest.mark.parametrize("text", UNICODE_TEXT)
def test_unicode_text_in_a_feedback_comment_round_trips_exactly(
    endpoints: dict[str, Endpoint], text: str
) -> None:
    response = endpoints["feedback"].with_field("comment", text)

    assert response.status_code == 201, response.content
    assert response.json()["comment"] == text
    assert Feedback.objects.get(pk=response.json()["id"]).comment == text


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("\u05d3\u05e0\u05d9", id="hebrew"),
        pytest.param("\u0633\u0627\u0631\u0629", id="arabic"),
        pytest.param("\u00e9milie.m\u00fcller", id="accented-latin"),
        pytest.param("\u674e\u534e", id="chinese"),
    ],
)
def test_a_username_in_any_script_is_accepted_and_can_log_in(
    endpoints: dict[str, Endpoint], username: str
) -> None:
    response = endpoints["register"].with_field("username", username)

    assert response.status_code == 201, response.content
    assert response.json()["username"] == username
    assert User.objects.get(pk=response.json()["id"]).username == username
    login = endpoints["login"].send_json({"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.content


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("party\U0001f389", id="emoji"),
        pytest.param("a b", id="space"),
        pytest.param("\u202eadmin", id="bidi-override"),
    ],
)
def test_a_username_with_symbols_is_invalid(endpoints: dict[str, Endpoint], username: str) -> None:
    with nothing_written():
        response = endpoints["register"].with_field("username", username)

    assert_field_error(response, "username", "invalid")


@pytest.mark.parametrize(
    "lookalike",
    [
        pytest.param("\uff41\uff4c\uff49\uff43\uff45", id="fullwidth-letters"),
        pytest.param("\uff21\uff2c\uff29\uff23\uff25", id="fullwidth-capitals"),
    ],
)
def test_a_username_equal_to_a_taken_one_after_unicode_normalisation_is_taken(
    endpoints: dict[str, Endpoint], lookalike: str
) -> None:
    """Django stores usernames NFKC-normalised, so the fullwidth spelling of "alice" would be
    stored as "alice": it is taken (400 ``unique``, as documented), not a 409 or a crash."""
    response = endpoints["register"].with_field("username", lookalike)

    assert_field_error(response, "username", "unique")
    assert User.objects.count() == 3


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        pytest.param("M\u00fcnchen Hbf", "M\u00dcNCHEN", id="umlaut"),
        pytest.param(
            "\u0391\u03b8\u03ae\u03bd\u03b1", "\u0391\u0398\u0389\u039d\u0391", id="greek"
        ),
        pytest.param(
            "\u041c\u043e\u0441\u043a\u0432\u0430",
            "\u041c\u041e\u0421\u041a\u0412\u0410",
            id="cyrillic",
        ),
    ],
)
def test_location_filter_is_case_insensitive_beyond_ascii(
    api_client: APIClient, alice: User, stored: str, query: str
) -> None:
    """The documented filter is a case-insensitive substring, whatever the alphabet."""
    baker.make_recipe("api.future_event", host=alice, location=stored)

    response = api_client.get(EVENTS_URL, {"location": query})

    assert response.status_code == 200
    assert [event["location"] for event in response.json()["results"]] == [stored]


def test_location_filter_finds_right_to_left_text_and_emoji(
    api_client: APIClient, alice: User
) -> None:
    location = "\u05ea\u05dc \u05d0\u05d1\u05d9\u05d1 \U0001f3d6\ufe0f"
    baker.make_recipe("api.future_event", host=alice, location=location)

    by_word = api_client.get(EVENTS_URL, {"location": "\u05d0\u05d1\u05d9\u05d1"})
    by_emoji = api_client.get(EVENTS_URL, {"location": "\U0001f3d6"})

    assert [e["location"] for e in by_word.json()["results"]] == [location]
    assert [e["location"] for e in by_emoji.json()["results"]] == [location]


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
    "page", [2**31, 2**63 - 1, 2**63, 2**64, 10**100], ids=lambda p: f"{len(str(p))}-digits"
)
def test_a_page_number_beyond_64_bits_is_a_page_past_the_end(
    api_client: APIClient, event: Event, page: int
) -> None:
    response = api_client.get(EVENTS_URL, {"page": page})

    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    "page_size", [2**31, 2**63, 2**64, 10**100], ids=lambda p: f"{len(str(p))}-digits"
)
def test_a_page_size_beyond_64_bits_means_the_largest_page(
    api_client: APIClient, event: Event, page_size: int
) -> None:
    response = api_client.get(EVENTS_URL, {"page_size": page_size})

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert len(response.json()["results"]) == 1


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
        assert_problem(response, 400, "invalid")
        assert {field for field, _ in error_pairs(response)} == {"host"}


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


# Floats and strings where integers go: DRF's IntegerField rules, documented as such.


@pytest.mark.parametrize(
    ("name", "field", "value", "stored"),
    [
        pytest.param("create-event", "max_participants", "7", 7, id="capacity-numeric-string"),
        pytest.param("create-event", "max_participants", 7.0, 7, id="capacity-integral-float"),
        pytest.param("create-event", "max_participants", "7.0", 7, id="capacity-string-7.0"),
        pytest.param("create-event", "max_participants", 1e3, 1000, id="capacity-1e3-float"),
        pytest.param("change-event", "max_participants", "12", 12, id="patch-numeric-string"),
        pytest.param("feedback", "rating", "4", 4, id="rating-numeric-string"),
        pytest.param("feedback", "rating", 5.0, 5, id="rating-integral-float"),
    ],
)
def test_a_numeric_string_or_integral_float_is_taken_as_the_integer(
    endpoints: dict[str, Endpoint], name: str, field: str, value: Any, stored: int
) -> None:
    response = endpoints[name].with_field(field, value)

    assert response.status_code == endpoints[name].success, response.content
    assert response.json()[field] == stored
    model = Feedback if name == "feedback" else Event
    assert getattr(model.objects.get(pk=response.json()["id"]), field) == stored


@pytest.mark.parametrize("as_text", [str, float], ids=["numeric-string", "integral-float"])
def test_invitee_id_as_a_numeric_string_or_integral_float_is_taken_as_the_id(
    endpoints: dict[str, Endpoint], charlie: User, as_text: Callable[[int], Any]
) -> None:
    response = endpoints["invite"].with_field("invitee", as_text(charlie.pk))

    assert response.status_code == 201, response.content
    assert Invitation.objects.filter(invitee=charlie).count() == 1


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

    assert_problem(response, 400, "invalid")
    assert {error_field for error_field, _ in error_pairs(response)} == {field}


# Datetimes: naive means UTC; years 1 to 9999 only, also after conversion to UTC.


def test_a_naive_datetime_on_update_is_stored_as_utc(
    endpoints: dict[str, Endpoint], event: Event
) -> None:
    year = django_timezone.now().year + 2

    response = endpoints["change-event"].send_json(
        {"start_time": f"{year}-03-01T09:30:00", "end_time": f"{year}-03-01T11:00:00.250000"}
    )

    assert response.status_code == 200, response.content
    event.refresh_from_db()
    assert event.start_time == datetime(year, 3, 1, 9, 30, tzinfo=UTC)
    assert event.end_time == datetime(year, 3, 1, 11, 0, 0, 250_000, tzinfo=UTC)
    assert response.json()["start_time"] == f"{year}-03-01T09:30:00Z"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        pytest.param("start_time", "0000-01-01T10:00:00Z", "invalid", id="year-0"),
        pytest.param("end_time", "10000-01-01T00:00:00Z", "invalid", id="year-10000"),
        pytest.param("end_time", "9999-12-31T23:59:59-01:00", "overflow", id="overflow-to-10000"),
        pytest.param("start_time", "0001-01-01T00:00:00+01:00", "overflow", id="underflow-to-0"),
        pytest.param("start_time", "2099-06-01T10:00:00+25:00", "invalid", id="offset-25-hours"),
        pytest.param("start_time", "2099-06-01T23:59:60Z", "invalid", id="leap-second"),
        pytest.param("start_time", "2099-02-30T10:00:00Z", "invalid", id="30-february"),
        pytest.param("start_time", 4_084_000_000, "invalid", id="unix-timestamp"),
        pytest.param("end_time", "", "invalid", id="empty-string"),
    ],
)
def test_a_datetime_out_of_range_or_malformed_is_invalid(
    endpoints: dict[str, Endpoint], field: str, value: Any, code: str
) -> None:
    with nothing_written():
        for name in ("create-event", "change-event"):
            response = endpoints[name].with_field(field, value)

            assert_problem(response, 400, "invalid", context=name)
            assert (field, code) in error_pairs(response), name


def test_the_last_representable_instant_is_accepted_and_round_trips(
    endpoints: dict[str, Endpoint],
) -> None:
    endpoint = endpoints["create-event"]
    body = {
        **endpoint.body,
        "start_time": "9999-12-31T22:00:00Z",
        "end_time": "9999-12-31T23:59:59.999999",
    }

    response = endpoint.send_json(body)

    assert response.status_code == 201, response.content
    created = Event.objects.get(pk=response.json()["id"])
    assert created.end_time == datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert response.json()["end_time"] == "9999-12-31T23:59:59.999999Z"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0000-01-01", id="year-0"),
        pytest.param("10000-01-01", id="year-10000"),
        pytest.param("9999-12-31T23:59:59-01:00", id="overflow-to-10000"),
        pytest.param("0001-01-01T00:00:00+01:00", id="underflow-to-0"),
        pytest.param("2030-01-01T00:00:00+25:00", id="offset-25-hours"),
        pytest.param("1893456000", id="unix-timestamp"),
    ],
)
def test_a_date_filter_out_of_range_is_invalid(
    api_client: APIClient, event: Event, value: str
) -> None:
    for param in ("start_time_after", "start_time_before", "end_time_after", "end_time_before"):
        response = api_client.get(EVENTS_URL, {param: value})

        assert_problem(response, 400, "invalid", context=param)
        assert error_pairs(response) == {(param, "invalid")}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        pytest.param({"start_time_after": "0001-01-01"}, True, id="after-the-first-day"),
        pytest.param({"start_time_after": "0001-01-01T00:00:00Z"}, True, id="after-year-1"),
        pytest.param({"end_time_before": "9999-12-31"}, True, id="before-the-last-day"),
        pytest.param(
            {"start_time_after": "9999-12-31T23:59:59.999999"}, False, id="after-the-last-instant"
        ),
        pytest.param({"end_time_before": "0001-01-01T00:00:00"}, False, id="before-year-1"),
    ],
)
def test_a_date_filter_at_the_ends_of_the_range_is_answered(
    api_client: APIClient, event: Event, query: dict[str, str], found: bool
) -> None:
    response = api_client.get(EVENTS_URL, query)

    assert response.status_code == 200, response.content
    assert response.json()["count"] == (1 if found else 0)


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

    assert_problem(response, 400, "invalid")
    assert {error_field for error_field, _ in error_pairs(response)} == {field}


# Bodies that are not JSON, or not UTF-8


MALFORMED_BODIES = [
    pytest.param(b'{"title": "\xff\xfe"}', id="invalid-utf-8"),
    pytest.param(b'{"title": "\xc3\x28"}', id="broken-utf-8-sequence"),
    pytest.param(b'{"title": "\xed\xa0\x80"}', id="utf-8-encoded-surrogate"),
    pytest.param(b'\xef\xbb\xbf{"title": "Meetup"}', id="byte-order-mark"),
    pytest.param(b'{"title": ', id="truncated"),
    pytest.param(b"{'title': 'Meetup'}", id="single-quotes"),
    pytest.param(b'{"title": "Meetup",}', id="trailing-comma"),
    pytest.param(b'{"title": "Meetup"} trailing', id="trailing-garbage"),
    pytest.param(b'{"a": 1}{"b": 2}', id="two-documents"),
    pytest.param(b'{"rating": NaN}', id="nan"),
    pytest.param(b'{"rating": Infinity}', id="infinity"),
    pytest.param(b'{"rating": -Infinity}', id="minus-infinity"),
    pytest.param(b'{"rating": ' + b"9" * 5000 + b"}", id="integer-of-5000-digits"),
    pytest.param(b"\x00", id="nul-byte"),
    pytest.param(b"[" * 1000 + b"]" * 1000, id="arrays-nested-1000-deep"),
    pytest.param(b'{"a":' * 1000 + b"1" + b"}" * 1000, id="objects-nested-1000-deep"),
]


@pytest.mark.parametrize("data", MALFORMED_BODIES)
def test_a_body_that_is_not_valid_json_is_a_parse_error(
    endpoints: dict[str, Endpoint], data: bytes
) -> None:
    with nothing_written():
        for name in ("create-event", "login", "feedback"):
            response = endpoints[name].send_raw(data, "application/json")

            assert_problem(response, 400, "parse_error", context=name)


@pytest.mark.parametrize("charset", ["utf-16", "utf-32", "rot13", "base64", "bz2", "punycode"])
def test_a_body_that_does_not_match_its_declared_charset_is_a_parse_error(
    endpoints: dict[str, Endpoint], charset: str
) -> None:
    endpoint = endpoints["create-event"]

    with nothing_written():
        response = endpoint.send_raw(
            json.dumps(endpoint.body), f"application/json; charset={charset}"
        )

    assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"],
)
def test_json_is_recognised_whatever_the_case_and_parameters(
    endpoints: dict[str, Endpoint], content_type: str
) -> None:
    endpoint = endpoints["create-event"]

    response = endpoint.send_raw(json.dumps(endpoint.body), content_type)

    assert response.status_code == 201, response.content


WRONG_CONTENT_TYPES = [
    pytest.param(
        "application/x-www-form-urlencoded", b"title=Meetup&max_participants=5", id="form"
    ),
    pytest.param(
        "multipart/form-data; boundary=xyz",
        b'--xyz\r\nContent-Disposition: form-data; name="title"\r\n\r\nMeetup\r\n--xyz--\r\n',
        id="multipart",
    ),
    pytest.param("text/plain", None, id="text-plain"),
    pytest.param("application/xml", b"<event><title>Meetup</title></event>", id="xml"),
    pytest.param("application/octet-stream", None, id="octet-stream"),
    pytest.param("application/merge-patch+json", None, id="merge-patch-json"),
    # The test client cannot omit the header; an empty one is what DRF sees when it is absent.
    pytest.param("", None, id="no-content-type"),
]


@pytest.mark.parametrize(("content_type", "data"), WRONG_CONTENT_TYPES)
def test_a_body_that_is_not_json_is_an_unsupported_media_type(
    endpoints: dict[str, Endpoint], content_type: str, data: bytes | None
) -> None:
    with nothing_written():
        for name in ALL_ENDPOINTS:
            endpoint = endpoints[name]
            response = endpoint.send_raw(
                json.dumps(endpoint.body) if data is None else data, content_type
            )

            assert_problem(response, 415, "unsupported_media_type", context=name)


# Query strings: NUL characters, repeated and huge parameters, absurd pages


@pytest.fixture
def list_urls(event: Event, started_event_with_bob: Event) -> dict[str, str]:
    return {
        "events": EVENTS_URL,
        "participants": f"{EVENTS_URL}{event.pk}/participants/",
        "feedback": f"{EVENTS_URL}{started_event_with_bob.pk}/feedback/",
        "invitations": "/api/invitations/",
    }


@pytest.mark.parametrize(
    ("target", "query", "field"),
    [
        pytest.param("events", "location=Ber%00lin", "location", id="location"),
        pytest.param("events", "location=%00", "location", id="location-only-nul"),
        pytest.param("events", "ordering=title%00", "ordering", id="ordering"),
        pytest.param("events", "page=1%00", "page", id="page"),
        pytest.param("events", "page_size=%0010", "page_size", id="page-size"),
        pytest.param("events", "host=1%00", "host", id="host"),
        pytest.param("events", "start_time_after=2030-01-01%00", "start_time_after", id="date"),
        pytest.param("events", "loca%00tion=Berlin", "location", id="in-a-parameter-name"),
        pytest.param("events", "unknown=%00", "unknown", id="unknown-parameter"),
        pytest.param("participants", "page=%00", "page", id="participants-page"),
        pytest.param("feedback", "page_size=%00", "page_size", id="feedback-page-size"),
        pytest.param("invitations", "status=PENDING%00", "status", id="invitation-status"),
    ],
)
def test_a_nul_character_in_the_query_string_is_refused(
    bob: User, list_urls: dict[str, str], target: str, query: str, field: str
) -> None:
    response = client_for(bob).get(f"{list_urls[target]}?{query}")

    assert_problem(response, 400, "invalid")
    assert error_pairs(response) == {(field, "null_characters_not_allowed")}


def test_invalid_utf_8_in_the_query_string_matches_nothing(
    api_client: APIClient, event: Event
) -> None:
    response = api_client.get(f"{EVENTS_URL}?location=%ff%fe%c3%28")

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.fixture
def twenty_one_events(alice: User, bob: User) -> list[Event]:
    """Titles E00..E20 in start order; E20 on page 2. Bob hosts the first one only."""
    return [
        baker.make_recipe(
            "api.future_event",
            host=bob if number == 0 else alice,
            title=f"E{number:02}",
            location="Berlin" if number % 2 else "Hamburg",
            start_time=in_days(1 + number),
            end_time=in_days(1.5 + number),
        )
        for number in range(21)
    ]


@pytest.mark.usefixtures("twenty_one_events")
@pytest.mark.parametrize(
    ("query", "first_title", "count"),
    [
        pytest.param("page=2&page=1", "E00", 21, id="page-2-then-1"),
        pytest.param("page=1&page=2", "E20", 21, id="page-1-then-2"),
        pytest.param("page_size=5&page_size=50", "E00", 21, id="page-size"),
        pytest.param("location=Hamburg&location=Berlin", "E01", 10, id="location"),
        pytest.param("ordering=-title&ordering=title", "E00", 21, id="ordering"),
        pytest.param("ordering=title&ordering=-title", "E20", 21, id="ordering-reversed"),
        pytest.param("host=abc&host={bob}", "E00", 1, id="host-invalid-then-valid"),
    ],
)
def test_a_repeated_query_parameter_takes_its_last_value(
    api_client: APIClient, bob: User, query: str, first_title: str, count: int
) -> None:
    response = api_client.get(f"{EVENTS_URL}?{query.format(bob=bob.pk)}")

    assert response.status_code == 200, response.content
    assert response.json()["count"] == count
    assert response.json()["results"][0]["title"] == first_title


def test_a_repeated_parameter_whose_last_value_is_invalid_is_refused(
    api_client: APIClient, bob: User
) -> None:
    response = api_client.get(f"{EVENTS_URL}?host={bob.pk}&host=abc")

    assert_problem(response, 400, "invalid")
    assert error_pairs(response) == {("host", "invalid")}


@pytest.mark.parametrize(
    ("param", "value", "field"),
    [
        pytest.param("location", "x" * 100_000, "location", id="location-100-KB"),
        pytest.param("host", "9" * 10_000, "host", id="host-10000-digits"),
        pytest.param("start_time_after", "2030-01-01" * 10_000, "start_time_after", id="date"),
        pytest.param("ordering", "-" * 100_000, "ordering", id="ordering-100-KB"),
    ],
)
def test_a_huge_query_parameter_is_refused_before_any_query(
    api_client: APIClient,
    event: Event,
    django_assert_num_queries: DjangoAssertNumQueries,
    param: str,
    value: str,
    field: str,
) -> None:
    with django_assert_num_queries(0):
        response = api_client.get(EVENTS_URL, {param: value})

    assert_problem(response, 400, "invalid")
    assert {error_field for error_field, _ in error_pairs(response)} == {field}


def test_a_huge_page_number_is_answered_without_converting_it(
    api_client: APIClient, event: Event
) -> None:
    response = api_client.get(EVENTS_URL, {"page": "9" * 100_000})

    assert_problem(response, 404, "not_found")


def test_more_query_parameters_than_django_accepts_is_a_bad_request(
    api_client: APIClient, event: Event
) -> None:
    query = "&".join(f"p{number}=1" for number in range(1001))

    response = api_client.get(f"{EVENTS_URL}?{query}")

    assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("+1", id="plus-sign"),
        pytest.param(" 1", id="leading-space"),
        pytest.param("1e3", id="exponent"),
        pytest.param("0x1", id="hex"),
        pytest.param("1,2", id="list"),
        pytest.param("-0", id="minus-zero"),
        pytest.param("00", id="zeros"),
        pytest.param("", id="empty"),
        pytest.param("\u0663", id="arabic-indic-digit"),
        pytest.param("\u00b2", id="superscript-two"),
        pytest.param("-" + "9" * 100, id="huge-negative"),
    ],
)
def test_an_absurd_page_or_page_size_is_invalid(
    list_urls: dict[str, str], bob: User, value: str
) -> None:
    client = client_for(bob)

    for param in ("page", "page_size"):
        for url in list_urls.values():
            response = client.get(url, {param: value})

            assert_problem(response, 400, "invalid", context=f"{url} {param}")
            assert {field for field, _ in error_pairs(response)} == {param}


def test_a_page_number_with_leading_zeros_is_that_page(api_client: APIClient, event: Event) -> None:
    response = api_client.get(EVENTS_URL, {"page": "0001", "page_size": "005"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


# Property-based: generated JSON never earns a 500, and a success has the documented shape.


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

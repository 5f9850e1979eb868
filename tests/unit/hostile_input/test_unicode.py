"""Emoji, right-to-left text and other Unicode: stored and shown exactly, counted in
characters, found by the filters."""

from __future__ import annotations

import pytest
from model_bakery import baker
from rest_framework.test import APIClient

from api.models import Event, Feedback, User
from tests.helpers import PASSWORD, assert_field_error, nothing_written
from tests.unit.hostile_input.endpoints import EVENTS_URL, Endpoint

pytestmark = pytest.mark.django_db


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

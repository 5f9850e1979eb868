"""Query strings: NUL characters, repeated and huge parameters, absurd pages."""

from __future__ import annotations

import pytest
from model_bakery import baker
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from api.models import Event, User
from tests.helpers import assert_invalid_fields, assert_problem, client_for, error_pairs, in_days
from tests.unit.hostile_input.endpoints import EVENTS_URL

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("page=2&page=1", "page", id="page"),
        pytest.param("page_size=5&page_size=50", "page_size", id="page-size"),
        pytest.param("location=Hamburg&location=Berlin", "location", id="location"),
        pytest.param("host=abc&host={bob}", "host", id="host-invalid-then-valid"),
        pytest.param("host={bob}&host=abc", "host", id="host-valid-then-invalid"),
    ],
)
def test_a_repeated_single_valued_parameter_is_refused(
    api_client: APIClient, bob: User, query: str, field: str
) -> None:
    """Not the last value silently: the client meant something, and it is not knowable."""
    response = api_client.get(f"{EVENTS_URL}?{query.format(bob=bob.pk)}")

    assert_problem(response, 400, "repeated_parameter")
    assert error_pairs(response) == {(field, "repeated_parameter")}


@pytest.mark.usefixtures("twenty_one_events")
@pytest.mark.parametrize(
    ("query", "first_title"),
    [
        pytest.param("ordering=-title&ordering=title", "E20", id="first-mention-wins"),
        pytest.param("ordering=title&ordering=-title", "E00", id="first-mention-wins-reversed"),
        pytest.param("ordering=-title,title", "E20", id="commas"),
    ],
)
def test_ordering_may_be_repeated_like_a_list(
    api_client: APIClient, query: str, first_title: str
) -> None:
    response = api_client.get(f"{EVENTS_URL}?{query}")

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["title"] == first_title


@pytest.mark.parametrize(
    ("param", "value", "field"),
    [
        pytest.param("location", "x" * 8_000, "location", id="location-8-KB"),
        pytest.param("host", "9" * 8_000, "host", id="host-8000-digits"),
        pytest.param("start_time_after", "2030-01-01" * 800, "start_time_after", id="date"),
        pytest.param("ordering", "-" * 8_000, "ordering", id="ordering-8-KB"),
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

    assert_invalid_fields(response, field)


@pytest.mark.parametrize("param", ["location", "host", "ordering"])
def test_a_query_string_past_the_target_limit_is_414_before_any_query(
    api_client: APIClient,
    event: Event,
    django_assert_num_queries: DjangoAssertNumQueries,
    param: str,
) -> None:
    with django_assert_num_queries(0):
        response = api_client.get(EVENTS_URL, {param: "9" * 100_000})

    assert_problem(response, 414, "uri_too_long")


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

            assert_invalid_fields(response, param, context=f"{url} {param}")

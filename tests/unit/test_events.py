"""Events: create, list (filters, ordering, pagination), retrieve, update, delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from model_bakery import baker
from rest_framework.test import APIClient

from api.models import Event, EventParticipant, Feedback, Invitation, User

pytestmark = pytest.mark.django_db

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
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


def in_days(days: float) -> datetime:
    return timezone.now() + timedelta(days=days)


def event_body(**overrides: Any) -> dict[str, Any]:
    start = in_days(7)
    body: dict[str, Any] = {
        "title": "Python meetup",
        "description": "Talks and pizza.",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=2)).isoformat(),
        "location": "Berlin",
        "max_participants": 30,
    }
    body.update(overrides)
    return body


def field_names(response: Any) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def titles(response: Any) -> list[str]:
    return [event["title"] for event in response.json()["results"]]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def alice_client(auth_client: Callable[[User], APIClient], alice: User) -> APIClient:
    return auth_client(alice)


@pytest.fixture
def charlie_client(auth_client: Callable[[User], APIClient], charlie: User) -> APIClient:
    return auth_client(charlie)


@pytest.fixture
def event(alice: User) -> Event:
    return baker.make_recipe("api.future_event", host=alice, title="Meetup", max_participants=10)


# Permissions


@pytest.mark.parametrize(
    ("role", "method", "target", "expected"),
    [
        pytest.param("anonymous", "get", "list", 200, id="anonymous-lists"),
        pytest.param("anonymous", "post", "list", 401, id="anonymous-cannot-create"),
        pytest.param("anonymous", "get", "detail", 200, id="anonymous-retrieves"),
        pytest.param("anonymous", "put", "detail", 401, id="anonymous-cannot-put"),
        pytest.param("anonymous", "patch", "detail", 401, id="anonymous-cannot-patch"),
        pytest.param("anonymous", "delete", "detail", 401, id="anonymous-cannot-delete"),
        pytest.param("host", "get", "list", 200, id="host-lists"),
        pytest.param("host", "post", "list", 201, id="host-creates"),
        pytest.param("host", "get", "detail", 200, id="host-retrieves"),
        pytest.param("host", "put", "detail", 200, id="host-puts"),
        pytest.param("host", "patch", "detail", 200, id="host-patches"),
        pytest.param("host", "delete", "detail", 204, id="host-deletes"),
        pytest.param("other", "get", "list", 200, id="other-lists"),
        pytest.param("other", "post", "list", 201, id="other-creates"),
        pytest.param("other", "get", "detail", 200, id="other-retrieves"),
        pytest.param("other", "put", "detail", 403, id="other-cannot-put"),
        pytest.param("other", "patch", "detail", 403, id="other-cannot-patch"),
        pytest.param("other", "delete", "detail", 403, id="other-cannot-delete"),
    ],
)
def test_event_permissions(
    auth_client: Callable[[User], APIClient],
    alice: User,
    charlie: User,
    event: Event,
    role: str,
    method: str,
    target: str,
    expected: int,
) -> None:
    client = {
        "anonymous": APIClient(),
        "host": auth_client(alice),
        "other": auth_client(charlie),
    }[role]
    url = "/api/events/" if target == "list" else f"/api/events/{event.pk}/"
    body = event_body(title="Changed") if method in ("post", "put") else {"title": "Changed"}

    response = getattr(client, method)(url, body if method != "get" else None)

    assert response.status_code == expected
    expected_code = {401: "not_authenticated", 403: "permission_denied"}.get(expected)
    if expected_code:
        assert response.json()["code"] == expected_code
        assert Event.objects.get(pk=event.pk).title == "Meetup"
        assert Event.objects.count() == 1


# Create


def test_creating_an_event_makes_the_caller_its_host(alice_client: APIClient, alice: User) -> None:
    body = event_body()

    response = alice_client.post("/api/events/", body)

    assert response.status_code == 201
    created = Event.objects.get()
    data = response.json()
    assert set(data) == EVENT_KEYS
    assert data["id"] == created.pk
    assert data["host"] == {"id": alice.pk, "username": "alice"}
    assert data["participants_count"] == 0
    assert created.host == alice
    assert created.title == "Python meetup"
    assert created.description == "Talks and pizza."
    assert created.location == "Berlin"
    assert created.max_participants == 30
    assert created.start_time == datetime.fromisoformat(body["start_time"])


def test_a_host_in_the_body_is_ignored_on_create(
    alice_client: APIClient, alice: User, bob: User
) -> None:
    response = alice_client.post("/api/events/", event_body(host=bob.pk))

    assert response.status_code == 201
    assert response.json()["host"]["id"] == alice.pk
    assert Event.objects.get().host == alice


def test_read_only_fields_in_the_body_are_ignored_on_create(alice_client: APIClient) -> None:
    before = timezone.now()
    body = event_body(id=987654321, created_at="2000-01-01T00:00:00Z", participants_count=50)

    response = alice_client.post("/api/events/", body)

    assert response.status_code == 201
    created = Event.objects.get()
    assert created.pk != 987654321
    assert created.created_at >= before
    assert response.json()["participants_count"] == 0
    assert response.json()["id"] == created.pk


def test_anonymous_user_cannot_create_an_event(api_client: APIClient) -> None:
    response = api_client.post("/api/events/", event_body())

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not Event.objects.exists()


def test_optional_fields_default_to_blank(alice_client: APIClient) -> None:
    body = event_body()
    del body["description"]
    del body["location"]

    response = alice_client.post("/api/events/", body)

    assert response.status_code == 201
    created = Event.objects.get()
    assert (created.description, created.location) == ("", "")


def _past() -> dict[str, Any]:
    start = timezone.now() - timedelta(minutes=1)
    return {"start_time": start.isoformat(), "end_time": (start + timedelta(hours=2)).isoformat()}


def _end_offset(delta: timedelta) -> dict[str, Any]:
    start = in_days(7)
    return {"start_time": start.isoformat(), "end_time": (start + delta).isoformat()}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"title": ""}, "title", id="blank-title"),
        pytest.param({"title": "   "}, "title", id="whitespace-title"),
        pytest.param({"title": None}, "title", id="null-title"),
        pytest.param({"title": "x" * 201}, "title", id="title-too-long"),
        pytest.param({"start_time": None}, "start_time", id="null-start"),
        pytest.param({"start_time": "tomorrow"}, "start_time", id="start-not-a-datetime"),
        pytest.param(
            {"start_time": "10000-01-01T00:00:00Z"}, "start_time", id="start-in-year-10000"
        ),
        pytest.param({"end_time": "10000-01-01T00:00:00Z"}, "end_time", id="end-in-year-10000"),
        pytest.param(_past(), "start_time", id="start-in-the-past"),
        pytest.param(_end_offset(-timedelta(hours=1)), "end_time", id="end-before-start"),
        pytest.param(_end_offset(timedelta(0)), "end_time", id="end-equal-to-start"),
        pytest.param({"max_participants": 0}, "max_participants", id="max-participants-0"),
        pytest.param({"max_participants": -1}, "max_participants", id="max-participants-negative"),
        pytest.param(
            {"max_participants": 100_001}, "max_participants", id="max-participants-100001"
        ),
        pytest.param({"max_participants": "abc"}, "max_participants", id="max-participants-abc"),
        pytest.param({"max_participants": 2**70}, "max_participants", id="max-participants-2**70"),
        pytest.param({"max_participants": 1.5}, "max_participants", id="max-participants-1.5"),
    ],
)
def test_invalid_event_is_refused_on_create(
    alice_client: APIClient, overrides: dict[str, Any], field: str
) -> None:
    response = alice_client.post("/api/events/", event_body(**overrides))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {field}
    assert not Event.objects.exists()


@pytest.mark.parametrize("missing", ["title", "start_time", "end_time", "max_participants"])
def test_required_fields_are_required_on_create(alice_client: APIClient, missing: str) -> None:
    body = event_body()
    del body[missing]

    response = alice_client.post("/api/events/", body)

    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(missing, "required")]
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "max_participants", [pytest.param(1, id="one"), pytest.param(100_000, id="hundred-thousand")]
)
def test_max_participants_accepts_the_bounds(
    alice_client: APIClient, max_participants: int
) -> None:
    response = alice_client.post("/api/events/", event_body(max_participants=max_participants))

    assert response.status_code == 201
    assert Event.objects.get().max_participants == max_participants


def test_a_datetime_without_offset_is_interpreted_as_utc(alice_client: APIClient) -> None:
    year = timezone.now().year + 1
    body = event_body(start_time=f"{year}-06-01T10:00:00", end_time=f"{year}-06-01T12:00:00")

    response = alice_client.post("/api/events/", body)

    assert response.status_code == 201
    created = Event.objects.get()
    assert created.start_time == utc(year, 6, 1, 10)
    assert created.end_time == utc(year, 6, 1, 12)
    assert response.json()["start_time"] == f"{year}-06-01T10:00:00Z"


def test_a_datetime_with_offset_is_stored_as_the_same_instant(alice_client: APIClient) -> None:
    year = timezone.now().year + 1
    body = event_body(
        start_time=f"{year}-06-01T10:00:00+02:00", end_time=f"{year}-06-01T12:00:00+02:00"
    )

    response = alice_client.post("/api/events/", body)

    assert response.status_code == 201
    assert Event.objects.get().start_time == utc(year, 6, 1, 8)
    assert response.json()["start_time"] == f"{year}-06-01T08:00:00Z"


# List


def test_anyone_can_list_events_in_pages(api_client: APIClient, event: Event) -> None:
    response = api_client.get("/api/events/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert body["next"] is None
    assert body["previous"] is None
    assert len(body["results"]) == 1
    assert set(body["results"][0]) == EVENT_KEYS
    assert body["results"][0]["id"] == event.pk


def test_listing_no_events_gives_an_empty_first_page(api_client: APIClient) -> None:
    response = api_client.get("/api/events/")

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_host_filter_lists_only_that_users_events(
    api_client: APIClient, alice: User, bob: User
) -> None:
    baker.make_recipe("api.future_event", host=alice, title="Alice's")
    baker.make_recipe("api.future_event", host=bob, title="Bob's")

    response = api_client.get("/api/events/", {"host": bob.pk})

    assert response.status_code == 200
    assert titles(response) == ["Bob's"]


def test_host_filter_with_an_unknown_user_lists_nothing(
    api_client: APIClient, event: Event
) -> None:
    response = api_client.get("/api/events/", {"host": 999_999_999})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("abc", id="not-a-number"),
        pytest.param("0", id="zero"),
        pytest.param("99999999999999999999", id="beyond-64-bits"),
    ],
)
def test_host_filter_with_an_invalid_id_is_refused(
    api_client: APIClient, event: Event, value: str
) -> None:
    response = api_client.get("/api/events/", {"host": value})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {"host"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("berlin", ["Berlin Mitte", "Kreuzberg, berlin"], id="lower-case"),
        pytest.param("BERLIN", ["Berlin Mitte", "Kreuzberg, berlin"], id="upper-case"),
        pytest.param("erl", ["Berlin Mitte", "Kreuzberg, berlin"], id="substring"),
        pytest.param("hamburg", ["Hamburg"], id="one-match"),
        pytest.param("Paris", [], id="no-match"),
    ],
)
def test_location_filter_matches_a_case_insensitive_substring(
    api_client: APIClient, alice: User, value: str, expected: list[str]
) -> None:
    for days, location in enumerate(["Berlin Mitte", "Hamburg", "Kreuzberg, berlin"], start=1):
        baker.make_recipe(
            "api.future_event",
            host=alice,
            title=location,
            location=location,
            start_time=in_days(days),
            end_time=in_days(days + 0.5),
        )

    response = api_client.get("/api/events/", {"location": value})

    assert response.status_code == 200
    assert titles(response) == expected


@pytest.fixture
def three_events_around_midnight(alice: User) -> None:
    """early starts at 00:00 and late at 23:30 on 1 May; next on 2 May."""
    for title, start, end in [
        ("early", utc(2030, 5, 1, 0, 0), utc(2030, 5, 1, 2, 0)),
        ("late", utc(2030, 5, 1, 23, 30), utc(2030, 5, 2, 1, 0)),
        ("next", utc(2030, 5, 2, 10, 0), utc(2030, 5, 2, 12, 0)),
    ]:
        baker.make_recipe(
            "api.future_event", host=alice, title=title, start_time=start, end_time=end
        )


@pytest.mark.usefixtures("three_events_around_midnight")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            {"start_time_after": "2030-05-01T23:30:00Z"},
            ["late", "next"],
            id="start-after-is-inclusive",
        ),
        pytest.param(
            {"start_time_after": "2030-05-01"},
            ["early", "late", "next"],
            id="start-after-a-date-includes-its-first-instant",
        ),
        pytest.param({"start_time_after": "2030-05-02"}, ["next"], id="start-after-next-day"),
        pytest.param(
            {"start_time_before": "2030-05-01T23:30:00Z"},
            ["early", "late"],
            id="start-before-is-inclusive",
        ),
        pytest.param(
            {"start_time_before": "2030-05-01T23:29:59Z"},
            ["early"],
            id="start-before-one-second-earlier",
        ),
        pytest.param(
            {"start_time_before": "2030-05-01"},
            ["early", "late"],
            id="start-before-a-date-covers-the-whole-day",
        ),
        pytest.param(
            {"end_time_after": "2030-05-02T01:00:00Z"},
            ["late", "next"],
            id="end-after-is-inclusive",
        ),
        pytest.param({"end_time_after": "2030-05-02"}, ["late", "next"], id="end-after-a-date"),
        pytest.param(
            {"end_time_before": "2030-05-02T01:00:00Z"},
            ["early", "late"],
            id="end-before-is-inclusive",
        ),
        pytest.param(
            {"end_time_before": "2030-05-01"},
            ["early"],
            id="end-before-a-date-covers-the-whole-day",
        ),
        pytest.param(
            {"end_time_before": "2030-05-02"},
            ["early", "late", "next"],
            id="end-before-the-next-date-covers-it-all",
        ),
        pytest.param(
            {"start_time_before": "2030-05-01T23:30:00"},
            ["early", "late"],
            id="datetime-without-offset-is-utc",
        ),
        pytest.param(
            {"start_time_after": "2030-05-02T01:30:00+02:00"},
            ["late", "next"],
            id="datetime-with-offset",
        ),
        pytest.param(
            {"start_time_after": "2030-05-01T12:00:00Z", "end_time_before": "2030-05-02T06:00:00Z"},
            ["late"],
            id="filters-combine-with-and",
        ),
    ],
)
def test_time_filters_are_inclusive(
    api_client: APIClient, query: dict[str, str], expected: list[str]
) -> None:
    response = api_client.get("/api/events/", query)

    assert response.status_code == 200
    assert titles(response) == expected


@pytest.mark.parametrize(
    "param", ["start_time_after", "start_time_before", "end_time_after", "end_time_before"]
)
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("not-a-date", id="words"),
        pytest.param("2030-13-01", id="month-13"),
        pytest.param("2030-02-30", id="30-february"),
        pytest.param("2030-05-01T25:00:00Z", id="hour-25"),
    ],
)
def test_time_filter_with_an_invalid_value_is_refused(
    api_client: APIClient, event: Event, param: str, value: str
) -> None:
    response = api_client.get("/api/events/", {param: value})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {param}


@pytest.fixture
def three_events_to_order(alice: User) -> None:
    """Created in the order Bravo, Charlie, Alpha; no two orderings agree."""
    now = timezone.now()
    for title, start_in_days, created_hours_ago in [
        ("Bravo", 1, 2),
        ("Charlie", 3, 3),
        ("Alpha", 2, 1),
    ]:
        created = baker.make_recipe(
            "api.future_event",
            host=alice,
            title=title,
            start_time=in_days(start_in_days),
            end_time=in_days(start_in_days + 0.5),
        )
        Event.objects.filter(pk=created.pk).update(
            created_at=now - timedelta(hours=created_hours_ago)
        )


@pytest.mark.usefixtures("three_events_to_order")
@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        pytest.param(None, ["Bravo", "Alpha", "Charlie"], id="default-is-start-time"),
        pytest.param("start_time", ["Bravo", "Alpha", "Charlie"], id="start_time"),
        pytest.param("-start_time", ["Charlie", "Alpha", "Bravo"], id="-start_time"),
        pytest.param("created_at", ["Charlie", "Bravo", "Alpha"], id="created_at"),
        pytest.param("-created_at", ["Alpha", "Bravo", "Charlie"], id="-created_at"),
        pytest.param("title", ["Alpha", "Bravo", "Charlie"], id="title"),
        pytest.param("-title", ["Charlie", "Bravo", "Alpha"], id="-title"),
    ],
)
def test_events_are_ordered_as_asked(
    api_client: APIClient, ordering: str | None, expected: list[str]
) -> None:
    query = {"ordering": ordering} if ordering else {}

    response = api_client.get("/api/events/", query)

    assert response.status_code == 200
    assert titles(response) == expected


@pytest.mark.usefixtures("three_events_to_order")
@pytest.mark.parametrize(
    ("ordering", "expected", "sort_terms"),
    [
        pytest.param("title,-title", ["Alpha", "Bravo", "Charlie"], 2, id="title-then-reversed"),
        pytest.param(
            "-title," + ",".join(["title"] * 2000),
            ["Charlie", "Bravo", "Alpha"],
            2,
            id="reversed-then-2000-times",
        ),
        pytest.param(
            "created_at,title,-created_at",
            ["Charlie", "Bravo", "Alpha"],
            3,
            id="created_at-title-created_at",
        ),
    ],
)
def test_a_sort_field_named_again_is_ignored(
    api_client: APIClient, ordering: str, expected: list[str], sort_terms: int
) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/events/", {"ordering": ordering})

    assert response.status_code == 200
    assert titles(response) == expected
    order_by = queries.captured_queries[-1]["sql"].rsplit("ORDER BY", 1)[1]
    # Each field once, then the id as tie-breaker.
    assert len(order_by.split("LIMIT")[0].split(",")) == sort_terms


@pytest.mark.parametrize(
    "ordering",
    [
        pytest.param("host", id="not-an-ordering-field"),
        pytest.param("password", id="unknown-field"),
        pytest.param("-", id="bare-minus"),
    ],
)
def test_ordering_by_an_unknown_field_is_refused(
    api_client: APIClient, event: Event, ordering: str
) -> None:
    response = api_client.get("/api/events/", {"ordering": ordering})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {"ordering"}


# Pagination


@pytest.fixture
def make_events(alice: User) -> Callable[[int], None]:
    def make(quantity: int) -> None:
        baker.make_recipe("api.future_event", host=alice, _quantity=quantity, _bulk_create=True)

    return make


def test_pages_hold_twenty_events_by_default(
    api_client: APIClient, make_events: Callable[[int], None]
) -> None:
    make_events(21)

    first = api_client.get("/api/events/")
    second = api_client.get(first.json()["next"])

    assert first.status_code == 200
    assert first.json()["count"] == 21
    assert len(first.json()["results"]) == 20
    assert first.json()["previous"] is None
    assert second.status_code == 200
    assert len(second.json()["results"]) == 1
    assert second.json()["next"] is None
    assert second.json()["previous"] is not None
    seen = {e["id"] for e in first.json()["results"] + second.json()["results"]}
    assert seen == set(Event.objects.values_list("pk", flat=True))


def test_page_size_sets_the_number_of_events_per_page(
    api_client: APIClient, make_events: Callable[[int], None]
) -> None:
    make_events(7)

    response = api_client.get("/api/events/", {"page_size": 5})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 5
    assert response.json()["count"] == 7


@pytest.mark.parametrize(
    "page_size",
    [
        pytest.param("101", id="101"),
        pytest.param("500", id="500"),
        pytest.param("1000000000000", id="a-trillion"),
    ],
)
def test_a_page_size_above_100_means_100(
    api_client: APIClient, make_events: Callable[[int], None], page_size: str
) -> None:
    make_events(101)

    response = api_client.get("/api/events/", {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert response.json()["next"] is not None


@pytest.mark.parametrize(
    ("param", "value"),
    [
        pytest.param("page_size", "0", id="page_size-0"),
        pytest.param("page_size", "-1", id="page_size-negative"),
        pytest.param("page_size", "abc", id="page_size-abc"),
        pytest.param("page_size", "1.5", id="page_size-fraction"),
        pytest.param("page", "0", id="page-0"),
        pytest.param("page", "-1", id="page-negative"),
        pytest.param("page", "abc", id="page-abc"),
        pytest.param("page", "last", id="page-last"),
    ],
)
def test_invalid_page_or_page_size_is_refused(
    api_client: APIClient, event: Event, param: str, value: str
) -> None:
    response = api_client.get("/api/events/", {param: value})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {param}


@pytest.mark.parametrize(
    "page",
    [
        pytest.param("2", id="next-page"),
        pytest.param("1000000000000", id="a-trillionth-page"),
    ],
)
def test_a_page_past_the_end_is_not_found(
    api_client: APIClient, make_events: Callable[[int], None], page: str
) -> None:
    make_events(3)

    response = api_client.get("/api/events/", {"page": page})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# Retrieve


def test_anyone_can_retrieve_an_event(api_client: APIClient, event: Event, alice: User) -> None:
    response = api_client.get(f"/api/events/{event.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert set(data) == EVENT_KEYS
    assert data["id"] == event.pk
    assert data["title"] == "Meetup"
    assert data["host"] == {"id": alice.pk, "username": "alice"}
    assert data["max_participants"] == 10


@pytest.mark.parametrize(
    "event_id",
    [
        pytest.param("999999999", id="unknown"),
        pytest.param("999999999999999999", id="eighteen-digits"),
        pytest.param("99999999999999999999", id="beyond-64-bits"),
        pytest.param("abc", id="not-a-number"),
    ],
)
def test_retrieving_an_unknown_event_is_not_found(api_client: APIClient, event_id: str) -> None:
    response = api_client.get(f"/api/events/{event_id}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_participants_count_reflects_registrations(
    api_client: APIClient, event: Event, alice: User, make_user: Callable[..., User]
) -> None:
    other = baker.make_recipe(
        "api.future_event", host=alice, start_time=in_days(8), end_time=in_days(9)
    )
    for name in ("dora", "erin", "frank"):
        baker.make(EventParticipant, event=event, user=make_user(name))

    listed = api_client.get("/api/events/")
    detail = api_client.get(f"/api/events/{event.pk}/")

    counts = {e["id"]: e["participants_count"] for e in listed.json()["results"]}
    assert counts == {event.pk: 3, other.pk: 0}
    assert detail.json()["participants_count"] == 3


# Update


def test_host_can_replace_an_event(alice_client: APIClient, event: Event) -> None:
    body = event_body(title="Renamed", location="Hamburg", max_participants=5)

    response = alice_client.put(f"/api/events/{event.pk}/", body)

    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    event.refresh_from_db()
    assert (event.title, event.location, event.max_participants) == ("Renamed", "Hamburg", 5)
    assert event.start_time == datetime.fromisoformat(body["start_time"])


def test_put_needs_every_required_field(alice_client: APIClient, event: Event) -> None:
    response = alice_client.put(f"/api/events/{event.pk}/", {"title": "Renamed"})

    assert response.status_code == 400
    assert field_names(response) == {"start_time", "end_time", "max_participants"}
    event.refresh_from_db()
    assert event.title == "Meetup"


def test_host_can_change_some_fields_of_an_event(alice_client: APIClient, event: Event) -> None:
    original_start = event.start_time

    response = alice_client.patch(f"/api/events/{event.pk}/", {"title": "Renamed"})

    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    event.refresh_from_db()
    assert event.title == "Renamed"
    assert event.start_time == original_start


def test_read_only_fields_are_ignored_on_update(
    alice_client: APIClient, event: Event, alice: User, bob: User
) -> None:
    created_at = event.created_at

    response = alice_client.patch(
        f"/api/events/{event.pk}/",
        {"host": bob.pk, "id": 987654321, "created_at": "2000-01-01T00:00:00Z"},
    )

    assert response.status_code == 200
    event.refresh_from_db()
    assert event.host == alice
    assert event.created_at == created_at
    assert Event.objects.filter(pk=event.pk).exists()


def test_other_user_cannot_change_an_event(charlie_client: APIClient, event: Event) -> None:
    response = charlie_client.patch(f"/api/events/{event.pk}/", {"title": "Hijacked"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    event.refresh_from_db()
    assert event.title == "Meetup"


def test_title_of_a_started_event_can_still_be_changed(
    alice_client: APIClient, alice: User
) -> None:
    started = baker.make_recipe("api.started_event", host=alice, title="Meetup")

    response = alice_client.patch(f"/api/events/{started.pk}/", {"title": "Renamed"})

    assert response.status_code == 200
    started.refresh_from_db()
    assert started.title == "Renamed"


def test_a_started_event_can_be_replaced_with_its_start_time_unchanged(
    alice_client: APIClient, alice: User
) -> None:
    started = baker.make_recipe("api.started_event", host=alice, title="Meetup")
    body = event_body(
        title="Renamed",
        start_time=started.start_time.isoformat(),
        end_time=started.end_time.isoformat(),
    )

    response = alice_client.put(f"/api/events/{started.pk}/", body)

    assert response.status_code == 200
    started.refresh_from_db()
    assert started.title == "Renamed"


@pytest.mark.parametrize(
    "recipe",
    [
        pytest.param("api.future_event", id="future"),
        pytest.param("api.started_event", id="started"),
    ],
)
def test_changing_the_start_time_to_the_past_is_refused(
    alice_client: APIClient, alice: User, recipe: str
) -> None:
    target = baker.make_recipe(recipe, host=alice)
    original_start = target.start_time
    new_start = timezone.now() - timedelta(hours=2)

    response = alice_client.patch(
        f"/api/events/{target.pk}/", {"start_time": new_start.isoformat()}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {"start_time"}
    target.refresh_from_db()
    assert target.start_time == original_start


def test_start_time_can_move_to_another_future_time(alice_client: APIClient, event: Event) -> None:
    new_start = event.start_time - timedelta(days=1)

    response = alice_client.patch(f"/api/events/{event.pk}/", {"start_time": new_start.isoformat()})

    assert response.status_code == 200
    event.refresh_from_db()
    assert event.start_time == new_start


def test_end_time_before_the_stored_start_time_is_refused(
    alice_client: APIClient, event: Event
) -> None:
    original_end = event.end_time
    new_end = event.start_time - timedelta(minutes=1)

    response = alice_client.patch(f"/api/events/{event.pk}/", {"end_time": new_end.isoformat()})

    assert response.status_code == 400
    assert field_names(response) == {"end_time"}
    event.refresh_from_db()
    assert event.end_time == original_end


def test_start_time_after_the_stored_end_time_is_refused(
    alice_client: APIClient, event: Event
) -> None:
    original_start = event.start_time
    new_start = event.end_time + timedelta(minutes=1)

    response = alice_client.patch(f"/api/events/{event.pk}/", {"start_time": new_start.isoformat()})

    assert response.status_code == 400
    assert field_names(response) == {"end_time"}
    event.refresh_from_db()
    assert event.start_time == original_start


@pytest.mark.parametrize(
    ("value", "field"),
    [
        pytest.param(0, "max_participants", id="max-participants-0"),
        pytest.param(100_001, "max_participants", id="max-participants-100001"),
        pytest.param("", "title", id="blank-title"),
    ],
)
def test_invalid_values_are_refused_on_update(
    alice_client: APIClient, event: Event, value: Any, field: str
) -> None:
    response = alice_client.patch(f"/api/events/{event.pk}/", {field: value})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {field}
    event.refresh_from_db()
    assert (event.title, event.max_participants) == ("Meetup", 10)


@pytest.fixture
def event_with_three_participants(event: Event, make_user: Callable[..., User]) -> Event:
    for name in ("dora", "erin", "frank"):
        baker.make(EventParticipant, event=event, user=make_user(name))
    return event


def test_lowering_max_participants_below_the_participants_is_a_conflict(
    alice_client: APIClient, event_with_three_participants: Event
) -> None:
    event = event_with_three_participants

    response = alice_client.patch(f"/api/events/{event.pk}/", {"max_participants": 2})

    assert response.status_code == 409
    assert response.json()["code"] == "capacity_below_participants"
    event.refresh_from_db()
    assert event.max_participants == 10


def test_lowering_max_participants_below_the_participants_by_put_is_a_conflict(
    alice_client: APIClient, event_with_three_participants: Event
) -> None:
    event = event_with_three_participants

    response = alice_client.put(
        f"/api/events/{event.pk}/", event_body(title="Renamed", max_participants=2)
    )

    assert response.status_code == 409
    assert response.json()["code"] == "capacity_below_participants"
    event.refresh_from_db()
    assert (event.title, event.max_participants) == ("Meetup", 10)


def test_max_participants_can_be_lowered_to_the_number_of_participants(
    alice_client: APIClient, event_with_three_participants: Event
) -> None:
    event = event_with_three_participants

    response = alice_client.patch(f"/api/events/{event.pk}/", {"max_participants": 3})

    assert response.status_code == 200
    event.refresh_from_db()
    assert event.max_participants == 3


# Delete


def test_host_can_delete_an_event_with_everything_that_belongs_to_it(
    alice_client: APIClient, event: Event, alice: User, bob: User, charlie: User
) -> None:
    kept = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)
    baker.make(EventParticipant, event=kept, user=bob)
    baker.make(Invitation, event=event, inviter=alice, invitee=charlie)
    baker.make(Invitation, event=kept, inviter=alice, invitee=charlie)
    baker.make(Feedback, event=event, user=bob, rating=4)
    baker.make(Feedback, event=kept, user=bob, rating=5)

    response = alice_client.delete(f"/api/events/{event.pk}/")

    assert response.status_code == 204
    assert not Event.objects.filter(pk=event.pk).exists()
    assert not EventParticipant.objects.filter(event_id=event.pk).exists()
    assert not Invitation.objects.filter(event_id=event.pk).exists()
    assert not Feedback.objects.filter(event_id=event.pk).exists()
    assert EventParticipant.objects.filter(event=kept).count() == 1
    assert Invitation.objects.filter(event=kept).count() == 1
    assert Feedback.objects.filter(event=kept).count() == 1


def test_other_user_cannot_delete_an_event(
    charlie_client: APIClient, event: Event, bob: User
) -> None:
    baker.make(EventParticipant, event=event, user=bob)

    response = charlie_client.delete(f"/api/events/{event.pk}/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Event.objects.filter(pk=event.pk).exists()
    assert EventParticipant.objects.filter(event=event).count() == 1


def test_deleting_an_unknown_event_is_not_found(alice_client: APIClient) -> None:
    response = alice_client.delete("/api/events/999999999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# Which rule answers first: 401, 404, 403, 400, 409


@pytest.mark.parametrize(
    ("role", "target", "body", "expected", "code"),
    [
        pytest.param(
            "anonymous", "unknown", {"title": ""}, 401, "not_authenticated", id="401-before-404"
        ),
        pytest.param("other", "unknown", {"title": ""}, 404, "not_found", id="404-before-403"),
        pytest.param(
            "other", "event", {"title": ""}, 403, "permission_denied", id="403-before-400"
        ),
        pytest.param(
            "host",
            "event",
            {"max_participants": 1, "title": ""},
            400,
            "invalid",
            id="400-before-409",
        ),
    ],
)
def test_the_first_failing_rule_answers(
    auth_client: Callable[[User], APIClient],
    alice: User,
    charlie: User,
    event_with_three_participants: Event,
    role: str,
    target: str,
    body: dict[str, Any],
    expected: int,
    code: str,
) -> None:
    client = {
        "anonymous": APIClient(),
        "host": auth_client(alice),
        "other": auth_client(charlie),
    }[role]
    event_id = event_with_three_participants.pk if target == "event" else 999_999_999

    response = client.patch(f"/api/events/{event_id}/", body)

    assert response.status_code == expected
    assert response.json()["code"] == code
    event_with_three_participants.refresh_from_db()
    assert event_with_three_participants.title == "Meetup"
    assert event_with_three_participants.max_participants == 10


# Error bodies


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
    auth_client: Callable[[User], APIClient],
    alice: User,
    charlie: User,
    event_with_three_participants: Event,
    role: str,
    method: str,
    url: str,
    status: int,
    title: str,
    code: str,
) -> None:
    client = {
        "anonymous": APIClient(),
        "host": auth_client(alice),
        "other": auth_client(charlie),
    }[role]
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


# Query counts


@pytest.mark.parametrize(
    "quantity", [pytest.param(5, id="5-events"), pytest.param(50, id="50-events")]
)
def test_listing_events_takes_the_same_queries_whatever_the_page_size(
    api_client: APIClient,
    django_assert_num_queries: Any,
    quantity: int,
) -> None:
    events = baker.make_recipe("api.future_event", _quantity=quantity)
    for event in events:
        baker.make(EventParticipant, event=event, user=event.host)

    # One COUNT for the paginator, one SELECT for the page with hosts and counts joined.
    with django_assert_num_queries(2):
        response = api_client.get("/api/events/", {"page_size": quantity})

    assert response.status_code == 200
    assert len(response.json()["results"]) == quantity
    assert all(e["participants_count"] == 1 for e in response.json()["results"])


@pytest.mark.parametrize(
    "quantity", [pytest.param(5, id="5-events"), pytest.param(50, id="50-events")]
)
def test_an_authenticated_filtered_list_takes_the_same_queries_whatever_the_page_size(
    alice_client: APIClient,
    alice: User,
    django_assert_num_queries: Any,
    quantity: int,
) -> None:
    baker.make_recipe("api.future_event", host=alice, location="Berlin", _quantity=quantity)

    # The caller's user row, the COUNT and the page.
    with django_assert_num_queries(3):
        response = alice_client.get(
            "/api/events/",
            {"page_size": quantity, "host": alice.pk, "location": "berlin", "ordering": "-title"},
        )

    assert response.status_code == 200
    assert len(response.json()["results"]) == quantity


def test_retrieving_an_event_takes_one_query(
    api_client: APIClient, event_with_three_participants: Event, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        response = api_client.get(f"/api/events/{event_with_three_participants.pk}/")

    assert response.json()["participants_count"] == 3

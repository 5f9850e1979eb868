"""Events read: the list (filters, ordering, pagination and its caps) and the detail.

The list and the detail render plain rows (api.event_reads.render_events)
rather than the EventSerializer the spec is generated from; the fast-path tests hold the
two equal. The cap on counting and on page depth is 10,000 results; the cap tests lower
it to 5 so that a handful of events shows the behaviour.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Greatest
from django.db.models.lookups import Exact
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from model_bakery import baker
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from api import event_reads
from api.event_reads import render_event, render_events
from api.models import Event, EventParticipant, User, WaitingListEntry
from api.rest.pagination import CappedPageNumberPagination
from api.serializers import EventSerializer
from tests.helpers import EVENT_KEYS, assert_problem, field_names, in_days, utc

pytestmark = pytest.mark.django_db


def annotated_events() -> QuerySet[Event]:
    """Events as the serializer reads them: the model path the fast one must equal."""
    now = timezone.now()
    entries = "waiting_list"
    waiting = Count(entries, filter=Q(waiting_list__status="waiting"), distinct=True)
    held = Count(
        entries,
        filter=Q(waiting_list__status="offered", waiting_list__offer_expires_at__gt=now),
        distinct=True,
    )
    participants = Count("participants", distinct=True)
    return Event.objects.select_related("host").annotate(
        participants_count=participants,
        waiting_list_count=waiting + held,
        seats_available=Case(
            When(
                Q(Exact(waiting, 0)),
                then=Greatest(F("max_participants") - participants - held, Value(0)),
            ),
            default=Value(0),
        ),
    )


def titles(response: Any) -> list[str]:
    return [event["title"] for event in response.json()["results"]]


# List and filters


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


# Ordering


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
            "-title," + ",".join(["title"] * 1000),
            ["Charlie", "Bravo", "Alpha"],
            2,
            id="reversed-then-1000-times",
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
def make_events(alice: User) -> Callable[[int], list[Event]]:
    def make(quantity: int) -> list[Event]:
        return baker.make_recipe(
            "api.future_event", host=alice, _quantity=quantity, _bulk_create=True
        )

    return make


def test_pages_hold_twenty_events_by_default(
    api_client: APIClient, make_events: Callable[[int], list[Event]]
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
    api_client: APIClient, make_events: Callable[[int], list[Event]]
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
    api_client: APIClient, make_events: Callable[[int], list[Event]], page_size: str
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
    api_client: APIClient, make_events: Callable[[int], list[Event]], page: str
) -> None:
    make_events(3)

    response = api_client.get("/api/events/", {"page": page})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "page", [2**31, 2**63 - 1, 2**63, 2**64, 10**100], ids=lambda p: f"{len(str(p))}-digits"
)
def test_a_page_number_beyond_64_bits_is_a_page_past_the_end(
    api_client: APIClient, event: Event, page: int
) -> None:
    response = api_client.get("/api/events/", {"page": page})

    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    "page_size", [2**31, 2**63, 2**64, 10**100], ids=lambda p: f"{len(str(p))}-digits"
)
def test_a_page_size_beyond_64_bits_means_the_largest_page(
    api_client: APIClient, event: Event, page_size: int
) -> None:
    response = api_client.get("/api/events/", {"page_size": page_size})

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert len(response.json()["results"]) == 1


def test_a_huge_page_number_is_answered_without_converting_it(
    api_client: APIClient, event: Event
) -> None:
    # As long as the request target limit allows (8 KiB).
    response = api_client.get("/api/events/", {"page": "9" * 8_000})

    assert_problem(response, 404, "not_found")


def test_a_page_number_with_leading_zeros_is_that_page(api_client: APIClient, event: Event) -> None:
    response = api_client.get("/api/events/", {"page": "0001", "page_size": "005"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_deep_page_holds_the_same_events_as_the_ordering_says(
    api_client: APIClient, make_events: Callable[[int], list[Event]]
) -> None:
    created = make_events(7)
    expected = [event.pk for event in sorted(created, key=lambda e: (e.start_time, e.pk))]

    pages = [
        api_client.get("/api/events/", {"page_size": 3, "page": page}).json()["results"]
        for page in (1, 2, 3)
    ]

    assert [event["id"] for page in pages for event in page] == expected


# The caps: results counted and pages served up to max_results


@pytest.fixture
def cap_of_five(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(CappedPageNumberPagination, "max_results", 5)
    return 5


def test_results_up_to_the_cap_are_counted_exactly(
    api_client: APIClient, cap_of_five: int, make_events: Callable[[int], list[Event]]
) -> None:
    make_events(5)

    response = api_client.get("/api/events/", {"page_size": 2})

    assert response.json()["count"] == 5


def test_more_results_than_the_cap_are_counted_as_more(
    api_client: APIClient, cap_of_five: int, make_events: Callable[[int], list[Event]]
) -> None:
    make_events(8)

    response = api_client.get("/api/events/", {"page_size": 2})

    assert response.status_code == 200
    assert response.json()["count"] > cap_of_five


def test_a_page_starting_past_the_cap_is_refused_when_there_are_more_results(
    api_client: APIClient, cap_of_five: int, make_events: Callable[[int], list[Event]]
) -> None:
    make_events(8)

    response = api_client.get("/api/events/", {"page_size": 5, "page": 2})

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("page", "page_too_deep")]
    assert "narrow" in problem["errors"][0]["message"]


def test_a_page_past_the_end_of_a_short_list_is_still_not_found(
    api_client: APIClient, cap_of_five: int, make_events: Callable[[int], list[Event]]
) -> None:
    make_events(3)

    response = api_client.get("/api/events/", {"page_size": 5, "page": 2})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_page_holding_the_last_served_result_has_no_next_link(
    api_client: APIClient, cap_of_five: int, make_events: Callable[[int], list[Event]]
) -> None:
    make_events(8)

    first = api_client.get("/api/events/", {"page_size": 3}).json()
    second = api_client.get(first["next"]).json()

    assert second["next"] is None
    assert [len(first["results"]), len(second["results"])] == [3, 3]


def test_an_events_participants_are_not_capped(
    alice: User,
    auth_client: Callable[[User], APIClient],
    cap_of_five: int,
    make_user: Callable[..., User],
) -> None:
    event = baker.make_recipe("api.future_event", host=alice, max_participants=20)
    for number in range(8):
        baker.make(EventParticipant, event=event, user=make_user(f"guest{number}"))

    response = auth_client(alice).get(
        f"/api/events/{event.pk}/participants/", {"page_size": 5, "page": 2}
    )

    assert response.status_code == 200
    assert response.json()["count"] == 8
    assert len(response.json()["results"]) == 3


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


# The fast path: the same JSON as the serializer


def serializer_json(event: Event) -> dict[str, object]:
    data = EventSerializer(annotated_events().get(pk=event.pk)).data
    return json.loads(JSONRenderer().render(data))


@pytest.fixture
def events(alice: User, make_user: Callable[..., User]) -> list[Event]:
    quiet = baker.make_recipe("api.future_event", host=alice, location="", description="")
    busy = baker.make_recipe(
        "api.future_event",
        host=alice,
        title="Zürich ☕ meetup",
        location="Café, 2nd floor",
        start_time=timezone.now() + timedelta(days=3, microseconds=123),
        end_time=timezone.now() + timedelta(days=3, hours=2),
    )
    for name in ("dora", "erin"):
        baker.make(EventParticipant, event=busy, user=make_user(name))
    # One seat held by a live offer, and an offer that lapsed, which holds nothing.
    later, earlier = timezone.now() + timedelta(hours=1), timezone.now() - timedelta(seconds=1)
    for name, expires in (("frank", later), ("gina", earlier)):
        baker.make(
            WaitingListEntry,
            event=busy,
            user=make_user(name),
            status="offered",
            offered_at=earlier,
            offer_expires_at=expires,
        )
    # Someone waiting: no seat is available to anyone else, whatever the count says.
    baker.make(WaitingListEntry, event=quiet, user=make_user("hugo"))
    return [quiet, busy]


def test_the_list_shows_each_event_as_the_serializer_does(
    api_client: APIClient, events: list[Event]
) -> None:
    response = api_client.get("/api/events/")

    assert response.status_code == 200
    listed = {event["id"]: event for event in response.json()["results"]}
    assert listed == {event.pk: serializer_json(event) for event in events}


def test_the_detail_shows_an_event_as_the_serializer_does(
    api_client: APIClient, events: list[Event]
) -> None:
    for event in events:
        response = api_client.get(f"/api/events/{event.pk}/")

        assert response.status_code == 200
        assert response.json() == serializer_json(event)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_the_representation_follows_the_current_time_zone_as_the_serializer_does(
    events: list[Event], zone: str
) -> None:
    rows = list(event_reads.event_rows().filter(pk__in=[event.pk for event in events]))

    with timezone.override(zone):
        expected = [EventSerializer(annotated_events().get(pk=row["id"])).data for row in rows]
        assert render_events(rows) == expected
        assert [render_event(row) for row in rows] == expected


def test_one_event_row_is_the_row_the_list_query_gives(events: list[Event]) -> None:
    for event in events:
        assert event_reads.event_row(event.pk) == event_reads.event_rows().get(pk=event.pk)
    assert event_reads.event_row(max(event.pk for event in events) + 1) is None


def test_one_event_row_is_compiled_once_per_connection(
    events: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = []
    statement_class = event_reads._EventRowStatement

    def counting(connection: BaseDatabaseWrapper) -> object:
        compiled.append(connection)
        return statement_class(connection)

    monkeypatch.setattr(event_reads, "_EventRowStatement", counting)
    monkeypatch.setattr(event_reads, "_compiled", threading.local())

    rows = [event_reads.event_row(event.pk) for event in events * 3]

    assert len(compiled) == 1
    assert [row["id"] for row in rows if row] == [event.pk for event in events * 3]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_the_event_row_statement_on_its_own_connection(
    events: list[Event],
) -> None:
    """Server threads share the module, not their connections: a statement compiled for
    one thread's connection must not be used on another's."""
    expected = {event.pk: event_reads.event_row(event.pk) for event in events}
    seen: dict[int, dict[str, object] | None] = {}
    failures: list[BaseException] = []

    def read_in_a_thread() -> None:
        try:
            for event in events:
                seen[event.pk] = event_reads.event_row(event.pk)
        except BaseException as error:  # reported to the test's thread below
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=read_in_a_thread)
    thread.start()
    thread.join()

    assert failures == []
    assert seen == expected


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

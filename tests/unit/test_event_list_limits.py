"""The events list's fast paths: the same JSON as the serializer, a capped count and depth.

The list and the detail render plain rows (api.event_reads.render_events)
rather than the EventSerializer the spec is generated from; the first tests hold the two
equal. The cap on counting and on page depth is 10,000 results; here it is lowered to 5
so that a handful of events shows the behaviour.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, QuerySet
from django.utils import timezone
from model_bakery import baker
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from api import event_reads
from api.event_reads import render_event, render_events
from api.models import Event, EventParticipant, User
from api.rest.pagination import CappedPageNumberPagination
from api.serializers import EventSerializer

pytestmark = pytest.mark.django_db


def annotated_events() -> QuerySet[Event]:
    """Events as the serializer reads them: the model path the fast one must equal."""
    return Event.objects.select_related("host").annotate(participants_count=Count("participants"))


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


@pytest.fixture
def cap_of_five(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(CappedPageNumberPagination, "max_results", 5)
    return 5


@pytest.fixture
def make_events(alice: User) -> Callable[[int], list[Event]]:
    def make(quantity: int) -> list[Event]:
        return baker.make_recipe("api.future_event", host=alice, _quantity=quantity)

    return make


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

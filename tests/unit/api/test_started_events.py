"""Once an event has started, its start and end are history: feedback has been given
against them and registration has closed. Other fields may still be edited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from model_bakery import baker
from rest_framework.test import APIClient

from api.models import Event, EventParticipant, Feedback, User
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

AuthClient = Callable[[User], APIClient]


@pytest.fixture
def started(alice: User, bob: User) -> Event:
    event = baker.make_recipe("api.started_event", host=alice, max_participants=5)
    EventParticipant.objects.create(event=event, user=bob)
    Feedback.objects.create(event=event, user=bob, rating=4)
    return event


def in_future(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    "change",
    [
        {"start_time": "future", "end_time": "later"},
        {"end_time": "later"},
    ],
    ids=["moved-into-the-future", "end-moved"],
)
def test_a_started_event_cannot_be_moved(
    started: Event, alice: User, auth_client: AuthClient, change: dict[str, str]
) -> None:
    values = {"future": in_future(3), "later": in_future(4)}
    before = (started.start_time, started.end_time)

    response = auth_client(alice).patch(
        f"/api/events/{started.pk}/", {name: values[v] for name, v in change.items()}
    )

    assert_problem(response, 409, "event_started")
    started.refresh_from_db()
    assert (started.start_time, started.end_time) == before
    # Registration stays closed and the feedback stays attached to what happened.
    assert Feedback.objects.filter(event=started).count() == 1


def test_a_started_event_can_still_be_retitled_and_resized(
    started: Event, alice: User, auth_client: AuthClient
) -> None:
    response = auth_client(alice).patch(
        f"/api/events/{started.pk}/",
        {"title": "Renamed after the start", "max_participants": 9, "location": "Hall B"},
    )

    assert response.status_code == 200, response.json()
    started.refresh_from_db()
    assert (started.title, started.max_participants, started.location) == (
        "Renamed after the start",
        9,
        "Hall B",
    )


def test_a_put_that_repeats_the_times_of_a_started_event_is_accepted(
    started: Event, alice: User, auth_client: AuthClient
) -> None:
    body = {
        "title": "Same times",
        "description": started.description,
        "start_time": started.start_time.isoformat(),
        "end_time": started.end_time.isoformat(),
        "location": started.location,
        "max_participants": started.max_participants,
    }

    response = auth_client(alice).put(f"/api/events/{started.pk}/", body)

    assert response.status_code == 200, response.json()
    started.refresh_from_db()
    assert started.title == "Same times"


def test_an_event_not_yet_started_can_still_be_moved(alice: User, auth_client: AuthClient) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    new_start, new_end = in_future(10), in_future(11)

    response = auth_client(alice).patch(
        f"/api/events/{event.pk}/", {"start_time": new_start, "end_time": new_end}
    )

    assert response.status_code == 200, response.json()
    event.refresh_from_db()
    assert event.start_time.isoformat() == new_start

"""Feedback on events: left by participants once the event has started, read by anyone.

alice hosts, bob takes part, charlie is an outsider.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from model_bakery import baker
from rest_framework.test import APIClient

from api.models import Event, EventParticipant, Feedback, User
from tests.helpers import assert_field_error, assert_problem

AuthClient = Callable[[User], APIClient]

pytestmark = pytest.mark.django_db

UNKNOWN_EVENT_ID = 999_999


def feedback_url(event_id: int) -> str:
    return f"/api/events/{event_id}/feedback/"


def event_with_participant(recipe: str, host: User, participant: User) -> Event:
    event = baker.make_recipe(recipe, host=host)
    baker.make(EventParticipant, event=event, user=participant)
    return event


# Leave feedback


@pytest.mark.parametrize(
    "recipe", ["api.started_event", "api.ended_event"], ids=["started", "ended"]
)
def test_participant_can_leave_feedback_once_the_event_has_started(
    recipe: str, alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = event_with_participant(recipe, alice, bob)

    response = auth_client(bob).post(
        feedback_url(event.pk), {"rating": 4, "comment": "Great talks."}, format="json"
    )

    assert response.status_code == 201, response.content
    feedback = Feedback.objects.get(event=event, user=bob)
    assert (feedback.rating, feedback.comment) == (4, "Great talks.")
    body = response.json()
    assert set(body) == {"id", "user", "rating", "comment", "created_at"}
    assert body["id"] == feedback.pk
    assert body["user"] == {"id": bob.pk, "username": "bob"}
    assert body["rating"] == 4
    assert body["comment"] == "Great talks."
    assert datetime.fromisoformat(body["created_at"]) == feedback.created_at


def test_comment_is_optional(alice: User, bob: User, auth_client: AuthClient) -> None:
    event = event_with_participant("api.started_event", alice, bob)

    response = auth_client(bob).post(feedback_url(event.pk), {"rating": 5}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["comment"] == ""
    assert Feedback.objects.get(event=event, user=bob).comment == ""


@pytest.mark.parametrize("rating", [1, 5], ids=["lowest", "highest"])
def test_ratings_at_the_bounds_are_accepted(
    rating: int, alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = event_with_participant("api.started_event", alice, bob)

    response = auth_client(bob).post(feedback_url(event.pk), {"rating": rating}, format="json")

    assert response.status_code == 201, response.content
    assert Feedback.objects.get(event=event, user=bob).rating == rating


@pytest.mark.parametrize("role", ["outsider", "host who is not registered"])
def test_only_participants_may_leave_feedback(
    role: str, alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = event_with_participant("api.started_event", alice, bob)
    caller = {"outsider": charlie, "host who is not registered": alice}[role]

    response = auth_client(caller).post(feedback_url(event.pk), {"rating": 4}, format="json")

    assert_problem(response, 403, "permission_denied")
    assert not Feedback.objects.exists()


def test_participant_of_another_event_may_not_leave_feedback(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = event_with_participant("api.started_event", alice, bob)
    event_with_participant("api.started_event", alice, charlie)

    response = auth_client(charlie).post(feedback_url(event.pk), {"rating": 4}, format="json")

    assert_problem(response, 403, "permission_denied")
    assert not Feedback.objects.exists()


def test_feedback_is_refused_before_the_event_starts(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = event_with_participant("api.future_event", alice, bob)

    response = auth_client(bob).post(feedback_url(event.pk), {"rating": 4}, format="json")

    assert_problem(response, 409, "event_not_started")
    assert not Feedback.objects.exists()


def test_feedback_can_be_left_only_once(alice: User, bob: User, auth_client: AuthClient) -> None:
    event = event_with_participant("api.started_event", alice, bob)
    client = auth_client(bob)
    first = client.post(feedback_url(event.pk), {"rating": 4, "comment": "Good"}, format="json")
    assert first.status_code == 201, first.content

    response = client.post(feedback_url(event.pk), {"rating": 1, "comment": "Bad"}, format="json")

    assert_problem(response, 409, "feedback_exists")
    feedback = Feedback.objects.get(event=event, user=bob)
    assert (feedback.rating, feedback.comment) == (4, "Good")


def test_feedback_on_one_event_does_not_stop_feedback_on_another(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    first = event_with_participant("api.started_event", alice, bob)
    second = event_with_participant("api.started_event", alice, bob)
    baker.make(Feedback, event=first, user=bob, rating=2)

    response = auth_client(bob).post(feedback_url(second.pk), {"rating": 5}, format="json")

    assert response.status_code == 201, response.content
    assert Feedback.objects.get(event=second, user=bob).rating == 5
    assert Feedback.objects.get(event=first, user=bob).rating == 2


def test_every_participant_can_leave_their_own_feedback(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = event_with_participant("api.started_event", alice, bob)
    baker.make(EventParticipant, event=event, user=charlie)
    baker.make(Feedback, event=event, user=bob, rating=2)

    response = auth_client(charlie).post(feedback_url(event.pk), {"rating": 5}, format="json")

    assert response.status_code == 201, response.content
    ratings = Feedback.objects.filter(event=event).values_list("user__username", "rating")
    assert sorted(ratings) == [("bob", 2), ("charlie", 5)]


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": -1},
        {"rating": "x"},
        {"rating": 2.5},
        {"rating": None},
        {"comment": "No rating"},
    ],
    ids=["zero", "six", "negative", "not a number", "fraction", "null", "missing"],
)
def test_rating_must_be_a_whole_number_from_1_to_5(
    body: dict[str, Any], alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = event_with_participant("api.started_event", alice, bob)

    response = auth_client(bob).post(feedback_url(event.pk), body, format="json")

    assert_field_error(response, "rating")
    assert not Feedback.objects.exists()


def test_anonymous_user_cannot_leave_feedback(
    alice: User, bob: User, api_client: APIClient
) -> None:
    event = event_with_participant("api.started_event", alice, bob)

    response = api_client.post(feedback_url(event.pk), {"rating": 4}, format="json")

    assert_problem(response, 401, "not_authenticated")
    assert not Feedback.objects.exists()


def test_feedback_on_an_unknown_event_is_not_found(bob: User, auth_client: AuthClient) -> None:
    response = auth_client(bob).post(feedback_url(UNKNOWN_EVENT_ID), {"rating": 4}, format="json")

    assert_problem(response, 404, "not_found")
    assert not Feedback.objects.exists()


# When several rules fail at once: 401, 404, 403, 429, 400, 409.


def test_anonymous_feedback_on_an_unknown_event_is_401(api_client: APIClient) -> None:
    response = api_client.post(feedback_url(UNKNOWN_EVENT_ID), {"rating": 9}, format="json")

    assert_problem(response, 401, "not_authenticated")


def test_non_participant_posting_invalid_feedback_to_a_not_started_event_gets_403(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = event_with_participant("api.future_event", alice, bob)

    response = auth_client(charlie).post(feedback_url(event.pk), {"rating": 9}, format="json")

    assert_problem(response, 403, "permission_denied")
    assert not Feedback.objects.exists()


def test_participant_posting_invalid_feedback_to_a_not_started_event_gets_400(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = event_with_participant("api.future_event", alice, bob)

    response = auth_client(bob).post(feedback_url(event.pk), {"rating": 9}, format="json")

    assert_field_error(response, "rating")
    assert not Feedback.objects.exists()


def test_participant_posting_invalid_feedback_a_second_time_gets_400(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = event_with_participant("api.started_event", alice, bob)
    baker.make(Feedback, event=event, user=bob, rating=3)

    response = auth_client(bob).post(feedback_url(event.pk), {"rating": 9}, format="json")

    assert_field_error(response, "rating")
    assert Feedback.objects.get(event=event, user=bob).rating == 3


# Read feedback


@pytest.mark.parametrize("role", ["anonymous", "outsider", "participant"])
def test_anyone_can_read_feedback_newest_first(
    role: str,
    alice: User,
    bob: User,
    charlie: User,
    api_client: APIClient,
    auth_client: AuthClient,
) -> None:
    event = event_with_participant("api.ended_event", alice, bob)
    newer = baker.make(Feedback, event=event, user=bob, rating=5, comment="Loved it")
    older = baker.make(Feedback, event=event, user=alice, rating=2, comment="Too long")
    # Creation time, not id, orders the list: the older feedback has the higher id.
    Feedback.objects.filter(pk=older.pk).update(created_at=newer.created_at - timedelta(hours=1))
    caller = {"anonymous": None, "outsider": charlie, "participant": bob}[role]
    client = api_client if caller is None else auth_client(caller)

    response = client.get(feedback_url(event.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    assert body["results"][0] == {
        "id": newer.pk,
        "user": {"id": bob.pk, "username": "bob"},
        "rating": 5,
        "comment": "Loved it",
        "created_at": body["results"][0]["created_at"],
    }
    assert datetime.fromisoformat(body["results"][0]["created_at"]) == newer.created_at


def test_feedback_list_shows_only_this_events_feedback(
    alice: User, bob: User, api_client: APIClient
) -> None:
    event = baker.make_recipe("api.ended_event", host=alice)
    other = baker.make_recipe("api.ended_event", host=alice)
    mine = baker.make(Feedback, event=event, user=bob, rating=4)
    baker.make(Feedback, event=other, user=bob, rating=1)

    response = api_client.get(feedback_url(event.pk))

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_feedback_list_is_paginated(
    alice: User, make_user: Callable[..., User], api_client: APIClient
) -> None:
    event = baker.make_recipe("api.ended_event", host=alice)
    for index in range(3):
        baker.make(Feedback, event=event, user=make_user(f"guest{index}"), rating=3)

    response = api_client.get(feedback_url(event.pk), {"page_size": 2})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert "page=2" in body["next"]


def test_feedback_list_exposes_no_email(alice: User, bob: User, api_client: APIClient) -> None:
    event = baker.make_recipe("api.ended_event", host=alice)
    baker.make(Feedback, event=event, user=bob, rating=4)

    response = api_client.get(feedback_url(event.pk))

    assert response.status_code == 200, response.content
    assert b"email" not in response.content
    assert bob.email.encode() not in response.content


def test_feedback_of_an_unknown_event_is_not_found(api_client: APIClient) -> None:
    response = api_client.get(feedback_url(UNKNOWN_EVENT_ID))

    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("entries", [1, 25], ids=["one entry", "25 entries"])
def test_feedback_list_query_count_does_not_grow_with_the_page(
    entries: int,
    alice: User,
    make_user: Callable[..., User],
    api_client: APIClient,
    django_assert_num_queries: Callable[[int], AbstractContextManager[object]],
) -> None:
    event = baker.make_recipe("api.ended_event", host=alice)
    for index in range(entries):
        baker.make(Feedback, event=event, user=make_user(f"guest{index}"), rating=3)

    # The event, the page's count and the page with its users.
    with django_assert_num_queries(3):
        response = api_client.get(feedback_url(event.pk), {"page_size": 100})

    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == entries


# Database constraints, the last line of defence


@pytest.mark.parametrize("rating", [0, 6], ids=["below range", "above range"])
def test_database_refuses_a_rating_outside_1_to_5(rating: int, alice: User, bob: User) -> None:
    event = baker.make_recipe("api.ended_event", host=alice)

    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(event=event, user=bob, rating=rating)

    assert not Feedback.objects.exists()


def test_database_refuses_a_second_feedback_by_the_same_user(alice: User, bob: User) -> None:
    event = baker.make_recipe("api.ended_event", host=alice)
    Feedback.objects.create(event=event, user=bob, rating=4)

    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(event=event, user=bob, rating=2)

    assert Feedback.objects.filter(event=event, user=bob).count() == 1

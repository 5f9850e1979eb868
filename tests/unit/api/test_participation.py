"""Registering for an event, leaving it, and listing who takes part.

alice hosts, bob registers, charlie is an outsider (or the one who filled the last seat).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import pytest
from model_bakery import baker
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from api.models import Event, EventParticipant, User
from api.views.events import EventViewSet
from tests.helpers import assert_problem

AuthClient = Callable[[User], APIClient]

pytestmark = pytest.mark.django_db

UNKNOWN_EVENT_ID = 999_999


def register_url(event_id: int) -> str:
    return f"/api/events/{event_id}/register/"


def unregister_url(event_id: int) -> str:
    return f"/api/events/{event_id}/unregister/"


def participants_url(event_id: int) -> str:
    return f"/api/events/{event_id}/participants/"


def participant_count(event: Event, user: User | None = None) -> int:
    rows = EventParticipant.objects.filter(event=event)
    if user is not None:
        rows = rows.filter(user=user)
    return rows.count()


# Register


def test_participant_can_register_for_a_future_event(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)

    response = auth_client(bob).post(register_url(event.pk))

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "joined_at"}
    assert body["user"] == {"id": bob.pk, "username": "bob"}
    row = EventParticipant.objects.get(event=event, user=bob)
    assert datetime.fromisoformat(body["joined_at"]) == row.joined_at


def test_host_can_register_for_their_own_event(alice: User, auth_client: AuthClient) -> None:
    event = baker.make_recipe("api.future_event", host=alice)

    response = auth_client(alice).post(register_url(event.pk))

    assert response.status_code == 201, response.content
    assert participant_count(event, alice) == 1


def test_registering_twice_is_refused_and_keeps_one_registration(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    client = auth_client(bob)
    assert client.post(register_url(event.pk)).status_code == 201

    response = client.post(register_url(event.pk))

    assert_problem(response, 409, "already_registered")
    assert participant_count(event, bob) == 1


def test_the_only_participant_of_a_full_event_registering_again_is_already_registered(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    """Their own seat fills the event: "already registered" is the answer, not "full"."""
    event = baker.make_recipe("api.future_event", host=alice, max_participants=1)
    baker.make(EventParticipant, event=event, user=bob)

    response = auth_client(bob).post(register_url(event.pk))

    assert_problem(response, 409, "already_registered")
    assert participant_count(event, bob) == 1
    assert participant_count(event) == 1


def test_registration_is_refused_when_event_is_full(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice, max_participants=2)
    baker.make(EventParticipant, event=event, user=alice)
    baker.make(EventParticipant, event=event, user=charlie)

    response = auth_client(bob).post(register_url(event.pk))

    body = assert_problem(response, 409, "event_full")
    assert "2 seats" in str(body["detail"])
    assert "2 taken" in str(body["detail"])
    assert participant_count(event, bob) == 0
    assert participant_count(event) == 2


def test_last_free_seat_can_be_taken(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice, max_participants=2)
    baker.make(EventParticipant, event=event, user=charlie)

    response = auth_client(bob).post(register_url(event.pk))

    assert response.status_code == 201, response.content
    assert participant_count(event) == 2


@pytest.mark.parametrize(
    "recipe", ["api.started_event", "api.ended_event"], ids=["started", "ended"]
)
def test_registration_is_refused_once_the_event_has_started(
    recipe: str, alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe(recipe, host=alice)

    response = auth_client(bob).post(register_url(event.pk))

    assert_problem(response, 409, "registration_closed")
    assert participant_count(event) == 0


def test_anonymous_user_cannot_register(alice: User, api_client: APIClient) -> None:
    event = baker.make_recipe("api.future_event", host=alice)

    response = api_client.post(register_url(event.pk))

    assert_problem(response, 401, "not_authenticated")
    assert participant_count(event) == 0


def test_registering_for_an_unknown_event_is_not_found(bob: User, auth_client: AuthClient) -> None:
    response = auth_client(bob).post(register_url(UNKNOWN_EVENT_ID))

    assert_problem(response, 404, "not_found")
    assert EventParticipant.objects.count() == 0


def test_anonymous_user_registering_for_an_unknown_event_gets_401(api_client: APIClient) -> None:
    response = api_client.post(register_url(UNKNOWN_EVENT_ID))

    assert_problem(response, 401, "not_authenticated")


def test_an_action_that_acts_as_the_user_refuses_the_anonymous_even_without_a_permission(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """signed_in_user is the second guard behind IsAuthenticated: with the permission
    gone from the view, registering is still a 401, not a crash or an anonymous row."""
    event = baker.make_recipe("api.future_event")
    monkeypatch.setattr(EventViewSet, "get_permissions", lambda self: [AllowAny()])

    response = APIClient().post(f"/api/events/{event.pk}/register/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not event.participants.exists()


# Unregister


def test_participant_can_leave_a_future_event(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)

    response = auth_client(bob).delete(unregister_url(event.pk))

    assert response.status_code == 204, response.content
    assert response.content == b""
    assert participant_count(event, bob) == 0


def test_leaving_removes_only_the_callers_registration(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)
    baker.make(EventParticipant, event=event, user=charlie)

    response = auth_client(bob).delete(unregister_url(event.pk))

    assert response.status_code == 204, response.content
    assert list(EventParticipant.objects.filter(event=event).values_list("user", flat=True)) == [
        charlie.pk
    ]


def test_leaving_an_event_you_are_not_registered_for_is_not_found(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=charlie)

    response = auth_client(bob).delete(unregister_url(event.pk))

    assert_problem(response, 404, "not_found")
    assert participant_count(event, charlie) == 1


def test_leaving_is_refused_once_the_event_has_started(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.started_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)

    response = auth_client(bob).delete(unregister_url(event.pk))

    assert_problem(response, 409, "registration_closed")
    assert participant_count(event, bob) == 1


def test_not_registered_answers_before_registration_closed(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.started_event", host=alice)

    response = auth_client(bob).delete(unregister_url(event.pk))

    assert_problem(response, 404, "not_found")


def test_anonymous_user_cannot_leave(alice: User, bob: User, api_client: APIClient) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)

    response = api_client.delete(unregister_url(event.pk))

    assert_problem(response, 401, "not_authenticated")
    assert participant_count(event, bob) == 1


def test_leaving_an_unknown_event_is_not_found(bob: User, auth_client: AuthClient) -> None:
    response = auth_client(bob).delete(unregister_url(UNKNOWN_EVENT_ID))

    assert_problem(response, 404, "not_found")


# Participants


def test_authenticated_user_sees_participants_in_registration_order(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    bobs = baker.make(EventParticipant, event=event, user=bob)
    charlies = baker.make(EventParticipant, event=event, user=charlie)
    # Registration time, not id, orders the list: charlie's row is newer but joined first.
    EventParticipant.objects.filter(pk=charlies.pk).update(
        joined_at=bobs.joined_at - timedelta(minutes=5)
    )

    response = auth_client(alice).get(participants_url(event.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert body["next"] is None
    assert body["previous"] is None
    assert [set(row) for row in body["results"]] == [{"user", "joined_at"}] * 2
    assert [row["user"] for row in body["results"]] == [
        {"id": charlie.pk, "username": "charlie"},
        {"id": bob.pk, "username": "bob"},
    ]


def test_outsider_may_list_participants_too(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)

    response = auth_client(charlie).get(participants_url(event.pk))

    assert response.status_code == 200, response.content
    assert [row["user"]["id"] for row in response.json()["results"]] == [bob.pk]


def test_participants_list_shows_only_this_events_participants(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    other = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)
    baker.make(EventParticipant, event=other, user=charlie)

    response = auth_client(alice).get(participants_url(event.pk))

    assert response.status_code == 200, response.content
    assert [row["user"]["id"] for row in response.json()["results"]] == [bob.pk]


def test_participants_list_exposes_no_email(
    alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)

    response = auth_client(charlie).get(participants_url(event.pk))

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["user"] == {"id": bob.pk, "username": "bob"}
    assert b"email" not in response.content
    assert bob.email.encode() not in response.content


def test_participants_list_is_paginated(
    alice: User, make_user: Callable[..., User], auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    for index in range(3):
        baker.make(EventParticipant, event=event, user=make_user(f"guest{index}"))

    response = auth_client(alice).get(participants_url(event.pk), {"page_size": 2})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert "page=2" in body["next"]


def test_anonymous_user_cannot_list_participants(
    alice: User, bob: User, api_client: APIClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)

    response = api_client.get(participants_url(event.pk))

    assert_problem(response, 401, "not_authenticated")


def test_participants_of_an_unknown_event_are_not_found(bob: User, auth_client: AuthClient) -> None:
    response = auth_client(bob).get(participants_url(UNKNOWN_EVENT_ID))

    assert_problem(response, 404, "not_found")


# The caller (from the JWT), the event, the page's count and the page with its users.
PARTICIPANTS_QUERIES = 4


@pytest.mark.parametrize("participants", [1, 25], ids=["one participant", "25 participants"])
def test_participants_query_count_does_not_grow_with_the_page(
    participants: int,
    alice: User,
    make_user: Callable[..., User],
    auth_client: AuthClient,
    django_assert_num_queries: Callable[[int], AbstractContextManager[object]],
) -> None:
    event = baker.make_recipe("api.future_event", host=alice, max_participants=50)
    for index in range(participants):
        baker.make(EventParticipant, event=event, user=make_user(f"guest{index}"))
    client = auth_client(alice)

    with django_assert_num_queries(PARTICIPANTS_QUERIES):
        response = client.get(participants_url(event.pk), {"page_size": 100})

    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == participants


# What the refusals say


def test_leaving_an_event_you_are_not_registered_for_says_so(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)

    response = auth_client(bob).delete(unregister_url(event.pk))

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "You are not registered for this event."


def test_leaving_an_event_is_not_leaving_another_one(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    """bob takes part in one event and leaves another: his registration elsewhere is
    not the one this request may delete."""
    registered = baker.make_recipe("api.future_event", host=alice)
    other = baker.make_recipe("api.future_event", host=alice)
    baker.make(EventParticipant, event=registered, user=bob)

    response = auth_client(bob).delete(unregister_url(other.pk))

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "You are not registered for this event."
    assert participant_count(registered, bob) == 1


def test_leaving_a_started_event_says_it_has_started(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.started_event", host=alice)
    baker.make(EventParticipant, event=event, user=bob)

    response = auth_client(bob).delete(unregister_url(event.pk))

    body = assert_problem(response, 409, "registration_closed")
    assert body["detail"] == "The event has already started; you can no longer leave it."
    assert participant_count(event, bob) == 1


def test_registering_for_an_event_deleted_after_the_lookup_is_not_found(
    alice: User, bob: User, auth_client: AuthClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delete that commits between the view's lookup and the service's lock: the
    service answers 404 itself rather than insert a row for a vanished event."""
    event = baker.make_recipe("api.future_event", host=alice)
    look_up = EventViewSet.get_object

    def found_then_deleted(view: EventViewSet) -> Event:
        found = look_up(view)
        Event.objects.filter(pk=found.pk).delete()
        return found

    monkeypatch.setattr(EventViewSet, "get_object", found_then_deleted)

    response = auth_client(bob).post(register_url(event.pk))

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "No event with this id."
    assert not EventParticipant.objects.exists()

"""Events written: create, update and delete, and who may do which."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from model_bakery import baker
from rest_framework.test import APIClient

from api.models import Event, EventCreation, EventParticipant, Feedback, Invitation, User
from tests.helpers import (
    EVENT_KEYS,
    assert_problem,
    database_state,
    event_body,
    field_names,
    in_days,
    nothing_written,
    utc,
)

pytestmark = pytest.mark.django_db


# Permissions

USERNAMES = {"host": "alice", "other": "charlie"}


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
    client_as: Callable[[str], APIClient],
    event: Event,
    role: str,
    method: str,
    target: str,
    expected: int,
) -> None:
    client = client_as(role)
    url = "/api/events/" if target == "list" else f"/api/events/{event.pk}/"
    body = event_body(title="Changed") if method in ("post", "put") else {"title": "Changed"}
    before = database_state()

    response = getattr(client, method)(url, body if method != "get" else None)

    assert response.status_code == expected, response.content
    if expected >= 400:
        code = {401: "not_authenticated", 403: "permission_denied"}[expected]
        assert_problem(response, expected, code)
    if expected >= 400 or method == "get":
        assert database_state() == before
    elif method == "post":
        created = Event.objects.exclude(pk=event.pk).get()
        assert response.json()["id"] == created.pk
        assert (created.title, created.host.username) == ("Changed", USERNAMES[role])
        assert Event.objects.get(pk=event.pk).title == "Meetup"
    elif method == "delete":
        assert not Event.objects.exists()
    else:
        assert response.json()["title"] == "Changed"
        assert list(Event.objects.values_list("pk", "title")) == [(event.pk, "Changed")]
    if method == "get":
        shown = response.json()["results"][0] if target == "list" else response.json()
        assert (shown["id"], shown["title"]) == (event.pk, "Meetup")


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


def test_anonymous_user_with_an_empty_body_is_unauthenticated_not_invalid(
    api_client: APIClient,
) -> None:
    """The permission answers before validation: a 400 here would mean anyone may create."""
    with nothing_written():
        response = api_client.post("/api/events/", {}, format="json")

    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not EventCreation.objects.exists()
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
    client_as: Callable[[str], APIClient],
    event_with_three_participants: Event,
    role: str,
    target: str,
    body: dict[str, Any],
    expected: int,
    code: str,
) -> None:
    client = client_as(role)
    event_id = event_with_three_participants.pk if target == "event" else 999_999_999

    response = client.patch(f"/api/events/{event_id}/", body)

    assert response.status_code == expected
    assert response.json()["code"] == code
    event_with_three_participants.refresh_from_db()
    assert event_with_three_participants.title == "Meetup"
    assert event_with_three_participants.max_participants == 10


def test_a_capacity_conflict_says_what_was_asked_and_how_many_are_registered(
    alice_client: APIClient, event_with_three_participants: Event
) -> None:
    event = event_with_three_participants

    response = alice_client.patch(f"/api/events/{event.pk}/", {"max_participants": 2})

    body = assert_problem(response, 409, "capacity_below_participants")
    assert body["detail"] == "max_participants cannot be 2: 3 users are already registered."
    event.refresh_from_db()
    assert event.max_participants == 10


def test_moving_only_the_start_of_a_started_event_is_refused(
    alice_client: APIClient, alice: User
) -> None:
    started = baker.make_recipe("api.started_event", host=alice)
    before = (started.start_time, started.end_time)
    still_before_the_end = started.end_time - timedelta(minutes=30)

    response = alice_client.patch(
        f"/api/events/{started.pk}/", {"start_time": still_before_the_end.isoformat()}
    )

    assert_problem(response, 409, "event_started")
    started.refresh_from_db()
    assert (started.start_time, started.end_time) == before

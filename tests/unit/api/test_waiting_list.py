"""The waiting list: joining and leaving, the queue's order, offers that hold a seat
and expire, and nobody registering past the queue.

alice hosts; dora holds the last seat of a full event; bob, charlie and others wait.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from model_bakery import baker
from rest_framework.test import APIClient

from api import waiting_list
from api.management.commands import worker
from api.models import (
    Event,
    EventParticipant,
    Invitation,
    User,
    WaitingListEntry,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.helpers import PASSWORD, assert_problem

AuthClient = Callable[[User], APIClient]

pytestmark = pytest.mark.django_db


def queue_url(event: Event) -> str:
    return f"/api/events/{event.pk}/waiting-list/"


def answer_url(entry: WaitingListEntry, answer: str) -> str:
    return f"/api/waiting-list/{entry.pk}/{answer}/"


def status_of(entry: WaitingListEntry) -> str:
    entry.refresh_from_db()
    return entry.status


def shown(client: APIClient, event: Event) -> dict[str, Any]:
    response = client.get(f"/api/events/{event.pk}/")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def full(alice: User, make_user: Callable[..., User]) -> Event:
    """One seat, taken by dora."""
    event = baker.make_recipe("api.future_event", host=alice, max_participants=1)
    baker.make(EventParticipant, event=event, user=make_user("dora"))
    return event


@pytest.fixture
def dora(full: Event) -> User:
    return full.participants.get().user


def wait(event: Event, *users: User) -> list[WaitingListEntry]:
    return [WaitingListEntry.objects.create(event=event, user=user) for user in users]


def offer(event: Event, user: User, hours: float = 24) -> WaitingListEntry:
    now = timezone.now()
    return WaitingListEntry.objects.create(
        event=event,
        user=user,
        status="offered",
        offered_at=now,
        offer_expires_at=now + timedelta(hours=hours),
    )


# Joining and leaving


def test_a_user_joins_the_waiting_list_of_a_full_event(
    full: Event, bob: User, auth_client: AuthClient
) -> None:
    response = auth_client(bob).post(queue_url(full))

    assert response.status_code == 201, response.content
    body = response.json()
    entry = WaitingListEntry.objects.get(event=full, user=bob)
    assert body["id"] == entry.pk
    assert body["status"] == "waiting"
    assert body["position"] == 1
    assert body["offer_expires_at"] is None
    assert body["event"]["id"] == full.pk
    assert body["user"] == {"id": bob.pk, "username": bob.username}
    assert shown(auth_client(bob), full)["waiting_list_count"] == 1


def test_joining_is_refused_while_a_seat_is_free_and_nobody_waits(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", host=alice, max_participants=2)

    response = auth_client(bob).post(queue_url(event))

    assert_problem(response, 409, "seats_available")
    assert not WaitingListEntry.objects.exists()


def test_joining_twice_is_refused(full: Event, bob: User, auth_client: AuthClient) -> None:
    wait(full, bob)

    assert_problem(auth_client(bob).post(queue_url(full)), 409, "already_on_waiting_list")
    assert WaitingListEntry.objects.filter(user=bob).count() == 1


def test_a_participant_cannot_join(full: Event, dora: User, auth_client: AuthClient) -> None:
    assert_problem(auth_client(dora).post(queue_url(full)), 409, "already_registered")


def test_joining_a_started_event_is_refused(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.started_event", host=alice, max_participants=1)

    assert_problem(auth_client(bob).post(queue_url(event)), 409, "registration_closed")


def test_joining_is_refused_when_the_host_turned_the_list_off(
    full: Event, bob: User, auth_client: AuthClient
) -> None:
    Event.objects.filter(pk=full.pk).update(waiting_list_enabled=False)

    assert_problem(auth_client(bob).post(queue_url(full)), 409, "waiting_list_disabled")


def test_joining_an_unknown_event_is_404(bob: User, auth_client: AuthClient) -> None:
    assert_problem(auth_client(bob).post("/api/events/999999/waiting-list/"), 404, "not_found")


def test_someone_who_left_may_join_again_at_the_end(
    full: Event, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    wait(full, bob, charlie)
    assert auth_client(bob).delete(queue_url(full)).status_code == 204

    response = auth_client(bob).post(queue_url(full))

    assert response.status_code == 201
    assert response.json()["position"] == 2


def test_leaving_closes_the_entry(full: Event, bob: User, auth_client: AuthClient) -> None:
    (entry,) = wait(full, bob)

    response = auth_client(bob).delete(queue_url(full))

    assert response.status_code == 204
    assert status_of(entry) == "left"


def test_leaving_a_list_one_is_not_on_is_404(
    full: Event, bob: User, auth_client: AuthClient
) -> None:
    assert_problem(auth_client(bob).delete(queue_url(full)), 404, "not_found")


def test_leaving_with_an_offer_passes_the_seat_to_the_next(
    full: Event, dora: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    EventParticipant.objects.filter(user=dora).delete()
    held = offer(full, bob)
    (next_one,) = wait(full, charlie)

    assert auth_client(bob).delete(queue_url(full)).status_code == 204

    assert status_of(held) == "left"
    assert status_of(next_one) == "offered"


# The host's view and the user's


def test_only_the_host_sees_the_waiting_list_in_queue_order(
    full: Event, alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    first, second = wait(full, charlie, bob)

    response = auth_client(alice).get(queue_url(full))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(item["id"], item["position"]) for item in results] == [
        (first.pk, 1),
        (second.pk, 2),
    ]
    assert_problem(auth_client(bob).get(queue_url(full)), 403, "permission_denied")
    assert_problem(auth_client(bob).get("/api/events/999999/waiting-list/"), 404, "not_found")


def test_the_host_sees_closed_entries_too_and_a_lapsed_offer_as_expired(
    full: Event, alice: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    lapsed = offer(full, bob, hours=-1)
    left = WaitingListEntry.objects.create(event=full, user=charlie, status="left")

    results = auth_client(alice).get(queue_url(full)).json()["results"]

    assert [(item["id"], item["status"], item["position"]) for item in results] == [
        (lapsed.pk, "expired", None),
        (left.pk, "left", None),
    ]


def test_my_waiting_list_shows_open_entries_with_positions_and_offers(
    alice: User, bob: User, make_user: Callable[..., User], auth_client: AuthClient
) -> None:
    soon = baker.make_recipe("api.future_event", host=alice, max_participants=1)
    later = baker.make_recipe(
        "api.future_event",
        host=alice,
        start_time=soon.start_time + timedelta(days=1),
        end_time=soon.end_time + timedelta(days=1),
    )
    wait(later, make_user("erin"), make_user("fay"))
    (waiting,) = wait(later, bob)
    offered = offer(soon, bob)
    lapsed_event = baker.make_recipe("api.future_event", host=alice)
    offer(lapsed_event, bob, hours=-1)
    started = baker.make_recipe("api.started_event", host=alice)
    wait(started, bob)

    response = auth_client(bob).get("/api/me/waiting-list/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(item["id"], item["status"], item["position"]) for item in results] == [
        (offered.pk, "offered", None),
        (waiting.pk, "waiting", 3),
    ]
    assert results[0]["offer_expires_at"] is not None
    assert results[1]["offer_expires_at"] is None


# Seats freed go to the queue, in order


def test_an_unregistration_offers_the_seat_to_the_first_waiting(
    full: Event, dora: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    first, second = wait(full, bob, charlie)

    assert auth_client(dora).delete(f"/api/events/{full.pk}/unregister/").status_code == 204

    first.refresh_from_db()
    assert first.status == "offered"
    assert first.offer_expires_at is not None
    assert first.offered_at is not None
    expected = first.offered_at + timedelta(hours=full.waiting_list_offer_hours)
    assert first.offer_expires_at == expected
    assert status_of(second) == "waiting"
    body = shown(auth_client(bob), full)
    assert (body["seats_available"], body["waiting_list_count"]) == (0, 2)


def test_an_offer_never_outlasts_the_start(
    alice: User, bob: User, make_user: Callable[..., User], auth_client: AuthClient
) -> None:
    start = timezone.now() + timedelta(hours=2)
    event = baker.make_recipe(
        "api.future_event",
        host=alice,
        max_participants=1,
        start_time=start,
        end_time=start + timedelta(hours=1),
    )
    dora = make_user("dora")
    baker.make(EventParticipant, event=event, user=dora)
    (entry,) = wait(event, bob)

    auth_client(dora).delete(f"/api/events/{event.pk}/unregister/")

    entry.refresh_from_db()
    assert entry.offer_expires_at == event.start_time


def test_a_capacity_increase_offers_each_new_seat(
    full: Event, alice: User, make_user: Callable[..., User], auth_client: AuthClient
) -> None:
    entries = wait(full, *(make_user(f"fan{i}") for i in range(3)))

    response = auth_client(alice).patch(
        f"/api/events/{full.pk}/", {"max_participants": 3}, format="json"
    )

    assert response.status_code == 200
    assert [status_of(entry) for entry in entries] == ["offered", "offered", "waiting"]
    assert response.json()["seats_available"] == 0


def test_the_capacity_cannot_drop_below_participants_and_held_seats(
    full: Event, alice: User, bob: User, auth_client: AuthClient
) -> None:
    Event.objects.filter(pk=full.pk).update(max_participants=2)
    offer(full, bob)

    response = auth_client(alice).patch(
        f"/api/events/{full.pk}/", {"max_participants": 1}, format="json"
    )

    problem = assert_problem(response, 409, "capacity_below_participants")
    assert "held by waiting-list offers" in problem["detail"]
    full.refresh_from_db()
    assert full.max_participants == 2


def test_declining_passes_the_seat_on(
    full: Event, dora: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    EventParticipant.objects.filter(user=dora).delete()
    held = offer(full, bob)
    (next_one,) = wait(full, charlie)

    response = auth_client(bob).post(answer_url(held, "decline"))

    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    assert status_of(next_one) == "offered"


def test_accepting_registers_in_the_held_seat(
    full: Event, dora: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    EventParticipant.objects.filter(user=dora).delete()
    held = offer(full, bob)
    wait(full, charlie)

    response = auth_client(bob).post(answer_url(held, "accept"))

    assert response.status_code == 201
    assert response.json()["user"]["id"] == bob.pk
    assert status_of(held) == "accepted"
    assert EventParticipant.objects.filter(event=full, user=bob).exists()
    assert shown(auth_client(bob), full)["seats_available"] == 0


@pytest.mark.parametrize(
    ("status", "hours", "code"),
    [
        ("waiting", None, "not_offered"),
        ("offered", -1, "offer_expired"),
        ("expired", -1, "offer_expired"),
        ("declined", 1, "entry_closed"),
        ("accepted", 1, "entry_closed"),
        ("left", None, "entry_closed"),
    ],
)
@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_only_a_live_offer_can_be_answered(
    full: Event,
    bob: User,
    auth_client: AuthClient,
    status: str,
    hours: float | None,
    code: str,
    answer: str,
) -> None:
    now = timezone.now()
    entry = WaitingListEntry.objects.create(
        event=full,
        user=bob,
        status=status,
        offered_at=now if hours is not None else None,
        offer_expires_at=now + timedelta(hours=hours) if hours is not None else None,
    )

    assert_problem(auth_client(bob).post(answer_url(entry, answer)), 409, code)
    assert not EventParticipant.objects.filter(user=bob).exists()


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_another_users_entry_is_404(
    full: Event, bob: User, charlie: User, auth_client: AuthClient, answer: str
) -> None:
    held = offer(full, bob)

    assert_problem(auth_client(charlie).post(answer_url(held, answer)), 404, "not_found")
    assert status_of(held) == "offered"


# Nobody skips the queue


def test_registering_while_people_wait_is_refused_even_with_a_free_seat(
    full: Event, dora: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    Event.objects.filter(pk=full.pk).update(max_participants=2)
    wait(full, bob)

    problem = assert_problem(
        auth_client(charlie).post(f"/api/events/{full.pk}/register/"), 409, "event_full"
    )
    assert "join the waiting list" in problem["detail"]
    assert not EventParticipant.objects.filter(user=charlie).exists()


def test_an_accepted_invitation_obeys_the_queue(
    full: Event, alice: User, dora: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    Event.objects.filter(pk=full.pk).update(max_participants=2)
    wait(full, bob)
    invitation = Invitation.objects.create(event=full, inviter=alice, invitee=charlie)

    response = auth_client(charlie).put(
        f"/api/invitations/{invitation.pk}/", {"status": "ACCEPTED"}, format="json"
    )

    assert_problem(response, 409, "event_full")
    invitation.refresh_from_db()
    assert invitation.status == "PENDING"


def test_a_seat_held_by_an_offer_is_not_sold_to_a_walk_in(
    full: Event, dora: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    EventParticipant.objects.filter(user=dora).delete()
    offer(full, bob)

    assert_problem(auth_client(charlie).post(f"/api/events/{full.pk}/register/"), 409, "event_full")


def test_registering_with_an_offer_takes_the_held_seat(
    full: Event, dora: User, bob: User, auth_client: AuthClient
) -> None:
    EventParticipant.objects.filter(user=dora).delete()
    held = offer(full, bob)

    assert auth_client(bob).post(f"/api/events/{full.pk}/register/").status_code == 201
    assert status_of(held) == "accepted"


# Expiry


def test_a_lapsed_offer_holds_nothing_before_the_job_runs(
    full: Event, dora: User, bob: User, charlie: User, auth_client: AuthClient
) -> None:
    EventParticipant.objects.filter(user=dora).delete()
    offer(full, bob, hours=-0.001)

    assert shown(auth_client(charlie), full)["seats_available"] == 1
    assert auth_client(charlie).post(f"/api/events/{full.pk}/register/").status_code == 201


def test_the_expiry_job_expires_lapsed_offers_and_offers_the_next(
    full: Event, alice: User, dora: User, bob: User, charlie: User
) -> None:
    EventParticipant.objects.filter(user=dora).delete()
    lapsed = offer(full, bob, hours=-0.001)
    (next_one,) = wait(full, charlie)
    hook = baker.make(WebhookEndpoint, owner=alice, url="https://example.com/hook")
    user_hook = baker.make(WebhookEndpoint, owner=charlie, url="https://example.com/mine")

    assert waiting_list.expire_offers() == 1

    lapsed.refresh_from_db()
    assert lapsed.status == "expired"
    assert lapsed.closed_at == lapsed.offer_expires_at
    assert status_of(next_one) == "offered"
    assert list(
        WebhookDelivery.objects.filter(endpoint=hook).values_list("event_type", flat=True)
    ) == ["waiting_list.expired"]
    assert list(
        WebhookDelivery.objects.filter(endpoint=user_hook).values_list("event_type", flat=True)
    ) == ["waiting_list.offered"]
    assert waiting_list.expire_offers() == 0


def test_the_worker_runs_the_expiry_job(
    full: Event, dora: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    EventParticipant.objects.filter(user=dora).delete()
    lapsed = offer(full, bob, hours=-0.001)
    # The worker's loops close connections not in autocommit mode; this one holds the
    # test's transaction, so it is left open (as tests/unit/webhooks/conftest.py does).
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)

    call_command("worker", "--until-idle", "--interval", "0")

    assert status_of(lapsed) == "expired"


# Notifications to the host, and what goes with events and accounts


def test_the_host_hears_of_joins_and_leaves(
    full: Event, alice: User, bob: User, auth_client: AuthClient
) -> None:
    hook = baker.make(WebhookEndpoint, owner=alice, url="https://example.com/hook")

    auth_client(bob).post(queue_url(full))
    auth_client(bob).delete(queue_url(full))

    types = WebhookDelivery.objects.filter(endpoint=hook).order_by("id")
    assert list(types.values_list("event_type", flat=True)) == [
        "waiting_list.joined",
        "waiting_list.left",
    ]


def test_old_events_go_with_their_waiting_lists(alice: User, bob: User) -> None:
    old = baker.make_recipe("api.ended_event", host=alice)
    old.end_time = timezone.now() - timedelta(days=70)
    old.start_time = old.end_time - timedelta(hours=1)
    old.save()
    wait(old, bob)

    call_command("delete_old_events")

    assert not WaitingListEntry.objects.exists()


def test_a_deleted_account_frees_its_seat_for_the_queue(
    full: Event, dora: User, bob: User, auth_client: AuthClient, fast_password_hashing: None
) -> None:
    dora.set_password(PASSWORD)
    dora.save()
    (entry,) = wait(full, bob)

    response = auth_client(dora).delete("/api/me/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert status_of(entry) == "offered"

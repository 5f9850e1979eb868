"""Races on PostgreSQL, through the whole HTTP stack.

Every request runs in its own thread, with its own APIClient, JWT and database
connection; a barrier releases them together so that they really overlap.

Each lock is also shown to matter: with it removed and the window between the check
and the insert held open by a barrier (so the outcome is deterministic, with no
sleeps), the same race overbooks. For the uniqueness races the same window shows the
database constraint as the last line: a duplicate that slips past the check is still
a 409 with its code, never a 500.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model, QuerySet
from model_bakery import baker
from model_bakery.recipe import seq
from rest_framework.response import Response
from rest_framework.test import APIClient

from api.models import (
    Event,
    EventCreation,
    EventParticipant,
    Feedback,
    Invitation,
    User,
    WebhookEndpoint,
)
from tests.helpers import event_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 60
INVITEES = 10
WALK_INS = 20
DUPLICATES = 10
# Long enough for 60 requests on 2 cores, short enough that a broken race fails the
# test instead of hanging it.
BARRIER_TIMEOUT = 20.0

Call = Callable[[], Response]
AuthClient = Callable[[object], APIClient]


def race(calls: Sequence[Call]) -> list[Response]:
    """Sends every request from its own thread, all released at once; answers in order."""
    start = threading.Barrier(len(calls), timeout=BARRIER_TIMEOUT)
    responses: list[Response | None] = [None] * len(calls)
    errors: list[Exception] = []

    def send(index: int, call: Call) -> None:
        try:
            # Connect before the barrier, so the requests overlap rather than the connects.
            connection.ensure_connection()
            start.wait()
            responses[index] = call()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * BARRIER_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    if errors:
        raise errors[0]
    return [response for response in responses if response is not None]


def statuses(responses: Sequence[Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def codes(responses: Sequence[Response], status: int) -> set[str]:
    return {response.data["code"] for response in responses if response.status_code == status}


def remove_row_lock(monkeypatch: pytest.MonkeyPatch, model: type[Model]) -> None:
    """Makes ``select_for_update()`` on ``model`` a plain read, as if the lock were deleted."""
    select_for_update = QuerySet.select_for_update

    def without_lock(self: QuerySet[Any], **kwargs: Any) -> QuerySet[Any]:
        return self.all() if self.model is model else select_for_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "select_for_update", without_lock)


def hold_inserts(monkeypatch: pytest.MonkeyPatch, model: type[Model], parties: int) -> None:
    """Holds every insert of ``model`` until ``parties`` requests have made their checks.

    This opens the check-then-insert window as wide as it gets, every time: what a
    lock prevents then happens deterministically instead of now and then. With the
    lock in place the requests never all reach the insert and the barrier breaks.
    """
    window = threading.Barrier(parties, timeout=BARRIER_TIMEOUT)
    create = QuerySet.create

    def create_when_all_have_checked(self: QuerySet[Any], **kwargs: Any) -> Any:
        if self.model is model:
            window.wait()
        return create(self, **kwargs)

    monkeypatch.setattr(QuerySet, "create", create_when_all_have_checked)


def make_users(count: int, prefix: str) -> list[User]:
    return baker.make(
        "api.User",
        username=seq(prefix),
        email=seq(prefix, suffix="@example.org"),
        _quantity=count,
        _bulk_create=True,
    )


def register_everyone(event: Event, auth_client: AuthClient) -> list[Response]:
    clients = [auth_client(user) for user in make_users(RACERS, "racer")]
    return race([partial(client.post, f"/api/events/{event.pk}/register/") for client in clients])


@pytest.mark.parametrize("seats", [2, 5], ids=["2-seats", "5-seats"])
def test_sixty_users_registering_at_once_fill_the_seats_exactly(
    seats: int, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=seats)

    responses = register_everyone(event, auth_client)

    assert statuses(responses) == {201: seats, 409: RACERS - seats}
    assert codes(responses, 409) == {"event_full"}
    winners = {response.data["user"]["id"] for response in responses if response.status_code == 201}
    participants = set(EventParticipant.objects.filter(event=event).values_list("user", flat=True))
    assert participants == winners
    assert len(participants) == seats


def test_without_the_event_lock_registration_overbooks(
    monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=2)
    remove_row_lock(monkeypatch, Event)
    hold_inserts(monkeypatch, EventParticipant, parties=RACERS)

    responses = register_everyone(event, auth_client)

    taken = EventParticipant.objects.filter(event=event).count()
    assert taken > event.max_participants
    assert taken == RACERS
    assert statuses(responses) == {201: RACERS}


def race_acceptances_against_registrations(
    event: Event, auth_client: AuthClient
) -> tuple[list[Invitation], list[Response]]:
    invitees = make_users(INVITEES, "invitee")
    invitations = baker.make(
        "api.Invitation",
        event=event,
        inviter=event.host,
        invitee=iter(invitees),
        status=Invitation.Status.PENDING,
        _quantity=len(invitees),
    )
    accepts = [
        partial(
            auth_client(invitation.invitee).put,
            f"/api/invitations/{invitation.pk}/",
            {"status": Invitation.Status.ACCEPTED},
            format="json",
        )
        for invitation in invitations
    ]
    registrations = [
        partial(auth_client(user).post, f"/api/events/{event.pk}/register/")
        for user in make_users(WALK_INS, "walk-in")
    ]
    return invitations, race([*accepts, *registrations])


def test_invitation_acceptance_racing_registration_sells_the_last_seat_once(
    auth_client: AuthClient,
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=1)

    invitations, responses = race_acceptances_against_registrations(event, auth_client)

    won = [response for response in responses if response.status_code in (200, 201)]
    assert len(won) == 1
    assert statuses(responses)[409] == len(responses) - 1
    assert codes(responses, 409) == {"event_full"}
    (participant,) = EventParticipant.objects.filter(event=event)
    losers = [
        invitation for invitation in invitations if invitation.invitee_id != participant.user_id
    ]
    assert Invitation.objects.filter(
        pk__in=[invitation.pk for invitation in losers],
        status=Invitation.Status.PENDING,
        responded_at__isnull=True,
    ).count() == len(losers)
    if won[0].status_code == 200:
        accepted = Invitation.objects.get(invitee=participant.user)
        assert accepted.status == Invitation.Status.ACCEPTED


def test_without_the_event_lock_acceptance_and_registration_overbook_the_last_seat(
    monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=1)
    remove_row_lock(monkeypatch, Event)
    hold_inserts(monkeypatch, EventParticipant, parties=INVITEES + WALK_INS)

    _, responses = race_acceptances_against_registrations(event, auth_client)

    assert EventParticipant.objects.filter(event=event).count() == INVITEES + WALK_INS
    assert statuses(responses) == {200: INVITEES, 201: WALK_INS}


def create_twelve_events_at_once(host: User, auth_client: AuthClient) -> list[Response]:
    clients = [auth_client(host) for _ in range(12)]
    return race(
        [
            partial(client.post, "/api/events/", event_body(title="Race"), format="json")
            for client in clients
        ]
    )


def test_twelve_creations_at_once_create_five_events(auth_client: AuthClient) -> None:
    host = baker.make("api.User", username="host", email="host@example.org")

    responses = create_twelve_events_at_once(host, auth_client)

    assert statuses(responses) == {201: 5, 429: 7}
    assert codes(responses, 429) == {"throttled"}
    assert all(
        int(response["Retry-After"]) > 0 for response in responses if response.status_code == 429
    )
    assert Event.objects.filter(host=host).count() == 5
    assert EventCreation.objects.filter(user=host).count() == 5

    client = auth_client(host)
    deleted = client.delete(f"/api/events/{Event.objects.filter(host=host).first().pk}/")
    again = client.post("/api/events/", event_body(title="After a delete"), format="json")

    assert deleted.status_code == 204
    assert again.status_code == 429
    assert again.data["code"] == "throttled"
    assert Event.objects.filter(host=host).count() == 4
    assert EventCreation.objects.filter(user=host).count() == 5


def test_without_the_host_lock_the_creation_limit_is_exceeded(
    monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    host = baker.make("api.User", username="host", email="host@example.org")
    remove_row_lock(monkeypatch, User)
    hold_inserts(monkeypatch, EventCreation, parties=12)

    responses = create_twelve_events_at_once(host, auth_client)

    assert statuses(responses) == {201: 12}
    assert Event.objects.filter(host=host).count() == 12
    assert EventCreation.objects.filter(user=host).count() == 12


# Each uniqueness race runs as the code is, and again with the lock removed and every
# request held past its check, so the duplicates reach the database constraint.
WINDOWS = pytest.mark.parametrize("past_the_check", [False, True], ids=["as-is", "past-the-check"])


@WINDOWS
def test_one_user_registering_ten_times_at_once_is_registered_once(
    past_the_check: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=100)
    user = baker.make("api.User", username="eager", email="eager@example.org")
    if past_the_check:
        remove_row_lock(monkeypatch, Event)
        hold_inserts(monkeypatch, EventParticipant, parties=DUPLICATES)
    clients = [auth_client(user) for _ in range(DUPLICATES)]

    responses = race(
        [partial(client.post, f"/api/events/{event.pk}/register/") for client in clients]
    )

    assert statuses(responses) == {201: 1, 409: DUPLICATES - 1}
    assert codes(responses, 409) == {"already_registered"}
    assert EventParticipant.objects.filter(event=event, user=user).count() == 1


@WINDOWS
def test_one_participant_posting_feedback_ten_times_at_once_leaves_it_once(
    past_the_check: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.started_event")
    user = baker.make("api.User", username="critic", email="critic@example.org")
    baker.make("api.EventParticipant", event=event, user=user)
    if past_the_check:
        # Feedback locks its event like every writer of the event's rows (api.services).
        remove_row_lock(monkeypatch, Event)
        hold_inserts(monkeypatch, Feedback, parties=DUPLICATES)
    clients = [auth_client(user) for _ in range(DUPLICATES)]

    responses = race(
        [
            partial(client.post, f"/api/events/{event.pk}/feedback/", {"rating": 4}, format="json")
            for client in clients
        ]
    )

    assert statuses(responses) == {201: 1, 409: DUPLICATES - 1}
    assert codes(responses, 409) == {"feedback_exists"}
    assert Feedback.objects.filter(event=event, user=user).count() == 1


@WINDOWS
def test_host_inviting_one_user_ten_times_at_once_sends_one_invitation(
    past_the_check: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event")
    invitee = baker.make("api.User", username="guest", email="guest@example.org")
    if past_the_check:
        remove_row_lock(monkeypatch, Event)
        hold_inserts(monkeypatch, Invitation, parties=DUPLICATES)
    clients = [auth_client(event.host) for _ in range(DUPLICATES)]

    responses = race(
        [
            partial(
                client.post,
                f"/api/events/{event.pk}/invite/",
                {"invitee": invitee.pk},
                format="json",
            )
            for client in clients
        ]
    )

    assert statuses(responses) == {201: 1, 409: DUPLICATES - 1}
    assert codes(responses, 409) == {"already_invited"}
    assert (
        Invitation.objects.filter(
            event=event, invitee=invitee, status=Invitation.Status.PENDING
        ).count()
        == 1
    )


def register_twelve_webhooks_at_once(owner: User, auth_client: AuthClient) -> list[Response]:
    clients = [auth_client(owner) for _ in range(12)]
    body = {"url": "https://receiver.example.com/hook"}
    return race([partial(client.post, "/api/webhooks/", body, format="json") for client in clients])


def test_twelve_webhook_registrations_at_once_create_ten(auth_client: AuthClient) -> None:
    owner = baker.make("api.User", username="owner", email="owner@example.org")

    responses = register_twelve_webhooks_at_once(owner, auth_client)

    assert statuses(responses) == {201: 10, 409: 2}
    assert codes(responses, 409) == {"webhook_limit_reached"}
    assert WebhookEndpoint.objects.filter(owner=owner).count() == 10


def test_without_the_owner_lock_the_webhook_limit_is_exceeded(
    monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    owner = baker.make("api.User", username="owner", email="owner@example.org")
    remove_row_lock(monkeypatch, User)
    hold_inserts(monkeypatch, WebhookEndpoint, parties=12)

    responses = register_twelve_webhooks_at_once(owner, auth_client)

    assert statuses(responses) == {201: 12}
    assert WebhookEndpoint.objects.filter(owner=owner).count() == 12

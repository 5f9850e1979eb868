"""Races with the interleaving forced, on PostgreSQL: one request is held at a named
point of its transaction (``api.checkpoints``) while the competing one runs, so each
lock is exercised the same way every run (tests/races.py).

Each case runs twice: against the code as it is, where the rule holds, and with the
row lock removed (``select_for_update`` made a plain read), where the same
interleaving breaks the rule. The second run proves that the first one would catch
a missing lock rather than pass by luck.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db.models import Model
from django.utils import timezone
from model_bakery import baker
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from api import accounts, checkpoints, sessions
from api.models import (
    Event,
    EventCreation,
    EventParticipant,
    Feedback,
    Invitation,
    TokenFamily,
    User,
)
from tests.helpers import PASSWORD, event_body
from tests.races import Request, blocked_or_done, hold_at, lock_waiters, wait_until
from tests.unit.db.test_concurrency import make_users, race, remove_row_lock, statuses

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AuthClient = Callable[[User], APIClient]
LOCKED = pytest.mark.parametrize("locked", [True, False], ids=["locked", "without-lock"])


def held(name: str, first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """Runs ``first`` until it reaches checkpoint ``name``, then ``second`` until it waits
    for a lock (or finishes), then lets ``first`` go on; both responses."""
    with hold_at(name) as hold:
        first_request = Request(first)
        first_request.start()
        hold.wait_until_arrived()
        second_request = Request(second)
        second_request.start()
        wait_until(blocked_or_done(second_request), "the second request waits or is done")
        hold.release()
        return first_request.outcome(), second_request.outcome()


def without_lock(monkeypatch: pytest.MonkeyPatch, locked: bool, model: type[Model]) -> None:
    if not locked:
        remove_row_lock(monkeypatch, model)


@LOCKED
def test_lowering_capacity_while_someone_registers_never_leaves_too_many_participants(
    locked: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=3)
    for user in make_users(2, "seated"):
        EventParticipant.objects.create(event=event, user=user)
    (walk_in,) = make_users(1, "walk-in")
    without_lock(monkeypatch, locked, Event)

    lowered, registered = held(
        checkpoints.CAPACITY_COUNTED,
        partial(
            auth_client(event.host).patch,
            f"/api/events/{event.pk}/",
            {"max_participants": 2},
            format="json",
        ),
        partial(auth_client(walk_in).post, f"/api/events/{event.pk}/register/"),
    )

    event.refresh_from_db()
    taken = EventParticipant.objects.filter(event=event).count()
    if locked:
        assert lowered.status_code == 200
        assert registered.status_code == 409
        assert registered.data["code"] == "event_full"
        assert (event.max_participants, taken) == (2, 2)
    else:
        # The registration counted 2 of 3 seats while the update held its count of 2.
        assert (lowered.status_code, registered.status_code) == (200, 201)
        assert taken > event.max_participants


@LOCKED
def test_an_acceptance_held_after_its_count_and_a_walk_in_sell_the_last_seat_once(
    locked: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=1)
    invitee, walk_in = make_users(2, "guest")
    invitation = Invitation.objects.create(event=event, inviter=event.host, invitee=invitee)
    without_lock(monkeypatch, locked, Event)

    accepted, registered = held(
        checkpoints.PARTICIPANT_COUNTED,
        partial(
            auth_client(invitee).put,
            f"/api/invitations/{invitation.pk}/",
            {"status": "ACCEPTED"},
            format="json",
        ),
        partial(auth_client(walk_in).post, f"/api/events/{event.pk}/register/"),
    )

    participants = list(EventParticipant.objects.filter(event=event).values_list("user", flat=True))
    if locked:
        assert accepted.status_code == 200
        assert registered.status_code == 409
        assert registered.data["code"] == "event_full"
        assert participants == [invitee.pk]
    else:
        assert (accepted.status_code, registered.status_code) == (200, 201)
        assert len(participants) == 2


@LOCKED
def test_two_registrations_for_the_last_seat_one_held_after_its_count(
    locked: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=1)
    first, second = make_users(2, "fan")
    without_lock(monkeypatch, locked, Event)

    responses = held(
        checkpoints.PARTICIPANT_COUNTED,
        partial(auth_client(first).post, f"/api/events/{event.pk}/register/"),
        partial(auth_client(second).post, f"/api/events/{event.pk}/register/"),
    )

    taken = EventParticipant.objects.filter(event=event).count()
    if locked:
        assert statuses(responses) == {201: 1, 409: 1}
        assert taken == 1
    else:
        assert statuses(responses) == {201: 2}
        assert taken == 2


@LOCKED
def test_a_creation_held_after_its_count_and_another_never_exceed_the_daily_limit(
    locked: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    (host,) = make_users(1, "host")
    for _ in range(4):
        EventCreation.objects.create(user=host, created_at=timezone.now())
    without_lock(monkeypatch, locked, User)
    create = partial(auth_client(host).post, "/api/events/", event_body(), format="json")

    responses = held(checkpoints.CREATIONS_COUNTED, create, create)

    created = EventCreation.objects.filter(user=host).count()
    if locked:
        assert statuses(responses) == {201: 1, 429: 1}
        assert created == 5
    else:
        # Both counted four of five before either wrote.
        assert statuses(responses) == {201: 2}
        assert created == 6


# A delete and everything else done to the event


def test_registrations_waiting_for_a_delete_answer_404_and_leave_nothing(
    auth_client: AuthClient,
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=50)
    walk_ins = make_users(20, "walk-in")

    with hold_at(checkpoints.EVENT_DELETE_LOCKED) as hold:
        delete = Request(partial(auth_client(event.host).delete, f"/api/events/{event.pk}/"))
        delete.start()
        hold.wait_until_arrived()
        registrations = [
            Request(partial(auth_client(user).post, f"/api/events/{event.pk}/register/"))
            for user in walk_ins
        ]
        for request in registrations:
            request.start()
        # Every registration found the event and now waits for its lock.
        wait_until(lambda: lock_waiters() == len(registrations), "all registrations wait")
        hold.release()
        deleted = delete.outcome()
        answers = [request.outcome() for request in registrations]

    assert deleted.status_code == 204
    assert statuses(answers) == {404: 20}
    assert {answer.data["code"] for answer in answers} == {"not_found"}
    assert not Event.objects.filter(pk=event.pk).exists()
    assert not EventParticipant.objects.filter(event_id=event.pk).exists()


def test_twenty_rounds_of_a_delete_among_registrations_answer_only_documented_statuses(
    auth_client: AuthClient,
) -> None:
    for round_ in range(20):
        host, *users = make_users(11, f"round{round_}-")
        event = baker.make_recipe("api.future_event", host=host, max_participants=50)
        calls = [
            partial(auth_client(user).post, f"/api/events/{event.pk}/register/") for user in users
        ]
        calls.insert(5, partial(auth_client(event.host).delete, f"/api/events/{event.pk}/"))

        responses = race(calls)

        (deleted,) = [
            response for response in responses if response.request["REQUEST_METHOD"] == "DELETE"
        ]
        registered = [response for response in responses if response is not deleted]
        assert deleted.status_code == 204, (round_, deleted.data)
        assert set(statuses(registered)) <= {201, 404}, (round_, statuses(registered))
        assert not Event.objects.filter(pk=event.pk).exists()
        assert not EventParticipant.objects.filter(event_id=event.pk).exists()


def delete_first(
    event: Event, auth_client: AuthClient, other: Callable[[], Any]
) -> tuple[Any, Any]:
    return held(
        checkpoints.EVENT_DELETE_LOCKED,
        partial(auth_client(event.host).delete, f"/api/events/{event.pk}/"),
        other,
    )


def test_an_acceptance_waiting_for_a_delete_answers_404(auth_client: AuthClient) -> None:
    event = baker.make_recipe("api.future_event")
    (invitee,) = make_users(1, "invitee")
    invitation = Invitation.objects.create(event=event, inviter=event.host, invitee=invitee)

    deleted, accepted = delete_first(
        event,
        auth_client,
        partial(
            auth_client(invitee).put,
            f"/api/invitations/{invitation.pk}/",
            {"status": "ACCEPTED"},
            format="json",
        ),
    )

    assert deleted.status_code == 204
    assert accepted.status_code == 404
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    assert not EventParticipant.objects.filter(user=invitee).exists()


def test_a_delete_waiting_for_an_acceptance_deletes_it_with_the_event(
    auth_client: AuthClient,
) -> None:
    event = baker.make_recipe("api.future_event")
    (invitee,) = make_users(1, "invitee")
    invitation = Invitation.objects.create(event=event, inviter=event.host, invitee=invitee)

    accepted, deleted = held(
        checkpoints.PARTICIPANT_COUNTED,
        partial(
            auth_client(invitee).put,
            f"/api/invitations/{invitation.pk}/",
            {"status": "ACCEPTED"},
            format="json",
        ),
        partial(auth_client(event.host).delete, f"/api/events/{event.pk}/"),
    )

    assert (accepted.status_code, deleted.status_code) == (200, 204)
    assert not Event.objects.filter(pk=event.pk).exists()
    assert not EventParticipant.objects.filter(user=invitee).exists()


def test_a_capacity_change_waiting_for_a_delete_answers_404(auth_client: AuthClient) -> None:
    event = baker.make_recipe("api.future_event", max_participants=5)

    deleted, changed = delete_first(
        event,
        auth_client,
        partial(
            auth_client(event.host).patch,
            f"/api/events/{event.pk}/",
            {"max_participants": 9},
            format="json",
        ),
    )

    assert (deleted.status_code, changed.status_code) == (204, 404)
    assert not Event.objects.filter(pk=event.pk).exists()


def test_feedback_waiting_for_a_delete_answers_404(auth_client: AuthClient) -> None:
    event = baker.make_recipe("api.started_event")
    (guest,) = make_users(1, "guest")
    EventParticipant.objects.create(event=event, user=guest)

    deleted, feedback = delete_first(
        event,
        auth_client,
        partial(
            auth_client(guest).post,
            f"/api/events/{event.pk}/feedback/",
            {"rating": 5},
            format="json",
        ),
    )

    assert (deleted.status_code, feedback.status_code) == (204, 404)
    assert not Feedback.objects.exists()


# Refresh tokens


def test_eight_refreshes_with_one_token_have_one_winner_twenty_rounds_running(
    alice: User,
) -> None:
    for round_ in range(20):
        # A login each round, as POST /api/login/ starts one (without its rate limit).
        token = str(sessions.start(alice))
        calls = [
            partial(APIClient().post, "/api/token/refresh/", {"refresh": token}, format="json")
            for _ in range(8)
        ]

        responses = race(calls)

        assert statuses(responses) == {200: 1, 401: 7}, (round_, statuses(responses))
        # Seven reuses: the session is over, the winner's new token included.
        (winner,) = [response for response in responses if response.status_code == 200]
        again = APIClient().post(
            "/api/token/refresh/", {"refresh": winner.json()["refresh"]}, format="json"
        )
        assert again.status_code == 401


def test_a_logout_racing_a_refresh_leaves_nothing_that_refreshes(
    alice_with_password: User, auth_client: AuthClient
) -> None:
    login = APIClient().post("/api/login/", {"username": "alice", "password": PASSWORD})
    pair = login.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")

    refreshed, logged_out = held(
        checkpoints.REFRESH_FAMILY_LOCKED,
        partial(APIClient().post, "/api/token/refresh/", {"refresh": pair["refresh"]}),
        partial(client.post, "/api/logout/", {"refresh": pair["refresh"]}),
    )

    assert (refreshed.status_code, logged_out.status_code) == (200, 204)
    # The pair the refresh issued while the logout waited is dead with its session.
    child = APIClient().post("/api/token/refresh/", {"refresh": refreshed.json()["refresh"]})
    assert child.status_code == 401
    assert TokenFamily.objects.get().revoked_at is not None


@LOCKED
def test_a_second_refresh_waiting_for_the_first_is_reuse(
    locked: bool, monkeypatch: pytest.MonkeyPatch, alice: User
) -> None:
    login = RefreshToken.for_user(alice)
    family = TokenFamily.objects.create(user=alice)
    login["fam"] = str(family.pk)
    without_lock(monkeypatch, locked, TokenFamily)
    send = partial(APIClient().post, "/api/token/refresh/", {"refresh": str(login)})

    first, second = held(checkpoints.REFRESH_FAMILY_LOCKED, send, send)

    # With or without the family lock, the token's row lets one redemption through.
    assert statuses([first, second]) == {200: 1, 401: 1}


@LOCKED
def test_a_reset_token_confirmed_twice_at_once_sets_one_password(
    locked: bool, monkeypatch: pytest.MonkeyPatch, alice: User
) -> None:
    token = accounts.reset_token(alice)
    without_lock(monkeypatch, locked, User)

    def confirm(new_password: str) -> Callable[[], Any]:
        body = {"token": token, "new_password": new_password}
        return partial(APIClient().post, "/api/password-reset/confirm/", body, format="json")

    first, second = held(
        checkpoints.RESET_USER_LOCKED, confirm("first-new-passphrase-1"), confirm("second-2-x")
    )

    if locked:
        # The second waited for the first, then found the token spent (the password
        # it hashes changed).
        assert statuses([first, second]) == {204: 1, 400: 1}
    else:
        # Both read the old password, both passed the check: the token worked twice.
        assert statuses([first, second]) == {204: 2}

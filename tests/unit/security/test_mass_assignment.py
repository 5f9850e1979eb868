"""Mass assignment: fields the server owns are ignored on every write.

A client may send any field it likes next to a valid body; ids, owners, timestamps, counts
and states stay the server's. Each test sends such fields and then checks the database,
not only the response. alice hosts, bob takes part or is invited, charlie is the user a
forged field points at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone
from model_bakery import baker
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from api.models import Event, EventCreation, EventParticipant, Feedback, Invitation, User
from tests.helpers import PASSWORD, event_body

AuthClient = Callable[[User], APIClient]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

LONG_AGO = "2000-01-01T00:00:00Z"
FORGED_ID = 987_654_321


@pytest.fixture
def request_started() -> datetime:
    """A time before the request: server-set timestamps fall between it and the test's end."""
    return timezone.now()


def assert_set_by_the_server(moment: datetime | None, started: datetime) -> None:
    assert moment is not None
    assert started <= moment <= timezone.now()


@pytest.fixture
def event(alice: User) -> Event:
    return baker.make_recipe("api.future_event", host=alice, title="Meetup")


@pytest.fixture
def other_event(charlie: User) -> Event:
    return baker.make_recipe("api.future_event", host=charlie, title="Elsewhere")


# Events: id, host, created_at and participants_count


# The host as a client may send it: its id, or the object the API shows.
HOST_AS = pytest.mark.parametrize(
    "host_as",
    [
        pytest.param(lambda user: user.pk, id="host-as-id"),
        pytest.param(lambda user: {"id": user.pk, "username": user.username}, id="host-as-object"),
    ],
)


def forged_event_fields(host: Any) -> dict[str, Any]:
    return {"id": FORGED_ID, "host": host, "created_at": LONG_AGO, "participants_count": 50}


@HOST_AS
def test_read_only_fields_are_ignored_when_creating_an_event(
    auth_client: AuthClient,
    alice: User,
    charlie: User,
    request_started: datetime,
    host_as: Callable[[User], Any],
) -> None:
    response = auth_client(alice).post(
        "/api/events/", event_body(**forged_event_fields(host_as(charlie))), format="json"
    )

    assert response.status_code == 201, response.content
    created = Event.objects.get()
    assert created.pk != FORGED_ID
    assert created.host == alice
    assert_set_by_the_server(created.created_at, request_started)
    assert not EventParticipant.objects.exists()
    assert EventCreation.objects.filter(user=alice).count() == 1
    assert not EventCreation.objects.filter(user=charlie).exists()
    data = response.json()
    assert (data["id"], data["host"]["id"], data["participants_count"]) == (created.pk, alice.pk, 0)


@pytest.mark.parametrize(
    ("method", "body"),
    [
        pytest.param("put", event_body, id="put"),
        pytest.param("patch", lambda: {"title": "Renamed"}, id="patch"),
    ],
)
@HOST_AS
def test_read_only_fields_are_ignored_when_updating_an_event(
    auth_client: AuthClient,
    alice: User,
    charlie: User,
    event: Event,
    method: str,
    body: Callable[[], dict[str, Any]],
    host_as: Callable[[User], Any],
) -> None:
    created_at = event.created_at

    response = getattr(auth_client(alice), method)(
        f"/api/events/{event.pk}/", {**body(), **forged_event_fields(host_as(charlie))}
    )

    assert response.status_code == 200, response.content
    event.refresh_from_db()
    assert event.title != "Meetup"
    assert event.host == alice
    assert event.created_at == created_at
    assert not Event.objects.filter(pk=FORGED_ID).exists()
    assert Event.objects.count() == 1
    assert not EventParticipant.objects.exists()
    assert response.json()["participants_count"] == 0


# Participation: the caller, the event in the URL, now


def test_a_body_sent_when_registering_for_an_event_is_ignored(
    auth_client: AuthClient,
    bob: User,
    charlie: User,
    event: Event,
    other_event: Event,
    request_started: datetime,
) -> None:
    forged = {"user": charlie.pk, "event": other_event.pk, "joined_at": LONG_AGO, "id": FORGED_ID}

    response = auth_client(bob).post(f"/api/events/{event.pk}/register/", forged, format="json")

    assert response.status_code == 201, response.content
    participation = EventParticipant.objects.get()
    assert (participation.user, participation.event) == (bob, event)
    assert participation.pk != FORGED_ID
    assert_set_by_the_server(participation.joined_at, request_started)
    assert response.json()["user"] == {"id": bob.pk, "username": "bob"}


# Accounts: no privileges, no chosen id, no chosen timestamps


def test_privilege_and_bookkeeping_fields_are_ignored_when_creating_an_account(
    api_client: APIClient, request_started: datetime
) -> None:
    body = {
        "username": "dora",
        "email": "dora@example.org",
        "password": PASSWORD,
        "id": FORGED_ID,
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "date_joined": LONG_AGO,
        "last_login": LONG_AGO,
        "groups": [1],
        "user_permissions": [1],
    }

    response = api_client.post("/api/register/", body, format="json")

    assert response.status_code == 201, response.content
    dora = User.objects.get(username="dora")
    assert dora.pk != FORGED_ID
    assert (dora.is_staff, dora.is_superuser, dora.is_active) == (False, False, True)
    assert_set_by_the_server(dora.date_joined, request_started)
    assert dora.last_login is None
    assert not dora.groups.exists()
    assert not dora.user_permissions.exists()
    assert response.json() == {"id": dora.pk, "username": "dora", "email": "dora@example.org"}


@pytest.mark.parametrize("method", ["put", "patch"])
def test_the_account_cannot_be_changed_through_me(
    auth_client: AuthClient, alice: User, method: str
) -> None:
    response = getattr(auth_client(alice), method)(
        "/api/me/", {"email": "new@example.org", "username": "mallory", "is_staff": True}
    )

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    alice.refresh_from_db()
    assert (alice.username, alice.email, alice.is_staff) == ("alice", "alice@example.org", False)


# Tokens: claims come from the account, never from the body


def test_claims_in_the_login_body_are_ignored(
    api_client: APIClient, alice_with_password: User, bob: User
) -> None:
    alice = alice_with_password
    body = {
        "username": "alice",
        "password": PASSWORD,
        "user_id": bob.pk,
        "token_type": "refresh",
        "exp": 4_102_444_800,
        "is_staff": True,
    }

    response = api_client.post("/api/login/", body, format="json")

    assert response.status_code == 200, response.content
    access = AccessToken(response.json()["access"])
    assert access["user_id"] == str(alice.pk)
    assert access["token_type"] == "access"
    assert access["exp"] != body["exp"]
    assert "is_staff" not in access.payload


def test_claims_next_to_a_refresh_token_are_ignored(
    api_client: APIClient, alice: User, bob: User
) -> None:
    body = {"refresh": str(RefreshToken.for_user(alice)), "user_id": bob.pk, "exp": 4_102_444_800}

    response = api_client.post("/api/token/refresh/", body, format="json")

    assert response.status_code == 200, response.content
    assert AccessToken(response.json()["access"])["user_id"] == str(alice.pk)
    assert RefreshToken(response.json()["refresh"])["user_id"] == str(alice.pk)


# Invitations: status, responded_at, inviter and event belong to the server


@pytest.mark.parametrize("forged_status", ["ACCEPTED", "DECLINED"])
def test_server_owned_fields_are_ignored_when_inviting(
    auth_client: AuthClient,
    alice: User,
    bob: User,
    charlie: User,
    event: Event,
    other_event: Event,
    request_started: datetime,
    forged_status: str,
) -> None:
    body = {
        "invitee": bob.pk,
        "status": forged_status,
        "responded_at": LONG_AGO,
        "sent_at": LONG_AGO,
        "inviter": charlie.pk,
        "event": other_event.pk,
        "id": FORGED_ID,
    }

    response = auth_client(alice).post(f"/api/events/{event.pk}/invite/", body, format="json")

    assert response.status_code == 201, response.content
    invitation = Invitation.objects.get()
    assert invitation.pk != FORGED_ID
    assert invitation.status == Invitation.Status.PENDING
    assert invitation.responded_at is None
    assert (invitation.event, invitation.inviter, invitation.invitee) == (event, alice, bob)
    assert_set_by_the_server(invitation.sent_at, request_started)
    assert not EventParticipant.objects.exists()
    assert response.json()["status"] == "PENDING"


@pytest.mark.parametrize("answer", ["ACCEPTED", "DECLINED"])
def test_only_the_status_of_an_answer_is_taken(
    auth_client: AuthClient,
    alice: User,
    bob: User,
    charlie: User,
    event: Event,
    other_event: Event,
    request_started: datetime,
    answer: str,
) -> None:
    invitation = baker.make(Invitation, event=event, inviter=alice, invitee=bob)
    sent_at = invitation.sent_at
    body = {
        "status": answer,
        "responded_at": LONG_AGO,
        "sent_at": LONG_AGO,
        "event": other_event.pk,
        "invitee": charlie.pk,
        "inviter": charlie.pk,
        "id": FORGED_ID,
    }

    response = auth_client(bob).put(f"/api/invitations/{invitation.pk}/", body, format="json")

    assert response.status_code == 200, response.content
    invitation.refresh_from_db()
    assert invitation.status == answer
    assert (invitation.event, invitation.inviter, invitation.invitee) == (event, alice, bob)
    assert invitation.sent_at == sent_at
    assert_set_by_the_server(invitation.responded_at, request_started)
    assert not Invitation.objects.filter(pk=FORGED_ID).exists()
    expected = {(event.pk, bob.pk)} if answer == "ACCEPTED" else set()
    assert set(EventParticipant.objects.values_list("event", "user")) == expected


# Feedback: the caller, the event in the URL, now


@pytest.mark.parametrize(
    "user_as",
    [
        pytest.param(lambda user: user.pk, id="user-as-id"),
        pytest.param(lambda user: {"id": user.pk, "username": user.username}, id="user-as-object"),
    ],
)
def test_server_owned_fields_are_ignored_when_leaving_feedback(
    auth_client: AuthClient,
    alice: User,
    bob: User,
    charlie: User,
    other_event: Event,
    request_started: datetime,
    user_as: Callable[[User], Any],
) -> None:
    started = baker.make_recipe("api.started_event", host=alice)
    baker.make(EventParticipant, event=started, user=bob)
    body = {
        "rating": 4,
        "comment": "Good",
        "user": user_as(charlie),
        "event": other_event.pk,
        "created_at": LONG_AGO,
        "id": FORGED_ID,
    }

    response = auth_client(bob).post(f"/api/events/{started.pk}/feedback/", body, format="json")

    assert response.status_code == 201, response.content
    feedback = Feedback.objects.get()
    assert feedback.pk != FORGED_ID
    assert (feedback.user, feedback.event) == (bob, started)
    assert (feedback.rating, feedback.comment) == (4, "Good")
    assert_set_by_the_server(feedback.created_at, request_started)
    assert response.json()["user"] == {"id": bob.pk, "username": "bob"}

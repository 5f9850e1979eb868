"""The endpoint table and the rows it points at: alice hosts ``event`` and invites bob,
who takes part in ``started_event_with_bob``; charlie is the one to invite."""

from __future__ import annotations

import pytest
from model_bakery import baker
from pytest_django import Settings
from rest_framework_simplejwt.tokens import RefreshToken

from api.models import Event, EventParticipant, Invitation, User
from tests.helpers import PASSWORD, client_for, event_body
from tests.unit.hostile_input.endpoints import EVENTS_URL, Endpoint


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings, fast_password_hashing: None) -> None:
    """Fast password hashing, and no creation limit: these tests are about neither."""
    settings.EVENT_CREATION_LIMIT = 10_000


@pytest.fixture
def event(alice: User) -> Event:
    return baker.make_recipe(
        "api.future_event", host=alice, title="Meetup", location="Berlin", max_participants=10
    )


@pytest.fixture
def started_event_with_bob(alice: User, bob: User) -> Event:
    started = baker.make_recipe("api.started_event", host=alice)
    baker.make(EventParticipant, event=started, user=bob)
    return started


@pytest.fixture
def endpoints(
    alice_with_password: User, bob: User, charlie: User, event: Event, started_event_with_bob: Event
) -> dict[str, Endpoint]:
    alice = alice_with_password
    invitation = baker.make(Invitation, event=event, inviter=alice, invitee=bob)
    alice_client, bob_client, anonymous = client_for(alice), client_for(bob), client_for(None)
    event_url = f"{EVENTS_URL}{event.pk}/"
    return {
        "create-event": Endpoint(alice_client, "POST", EVENTS_URL, event_body(), 201),
        "replace-event": Endpoint(alice_client, "PUT", event_url, event_body(), 200),
        "change-event": Endpoint(alice_client, "PATCH", event_url, {"title": "Renamed"}, 200),
        "register": Endpoint(
            anonymous,
            "POST",
            "/api/register/",
            {"username": "dora", "email": "dora@example.org", "password": PASSWORD},
            201,
        ),
        "login": Endpoint(
            anonymous, "POST", "/api/login/", {"username": "alice", "password": PASSWORD}, 200
        ),
        "refresh": Endpoint(
            anonymous,
            "POST",
            "/api/token/refresh/",
            {"refresh": str(RefreshToken.for_user(alice))},
            200,
        ),
        "logout": Endpoint(
            alice_client,
            "POST",
            "/api/logout/",
            {"refresh": str(RefreshToken.for_user(alice))},
            204,
        ),
        "invite": Endpoint(
            alice_client, "POST", f"{event_url}invite/", {"invitee": charlie.pk}, 201
        ),
        "answer": Endpoint(
            bob_client, "PUT", f"/api/invitations/{invitation.pk}/", {"status": "ACCEPTED"}, 200
        ),
        "feedback": Endpoint(
            bob_client,
            "POST",
            f"{EVENTS_URL}{started_event_with_bob.pk}/feedback/",
            {"rating": 4, "comment": "Great"},
            201,
        ),
    }

"""Events as the API tests need them: alice hosts, charlie is an outsider."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from model_bakery import baker
from rest_framework.test import APIClient

from api.models import Event, EventParticipant, User


@pytest.fixture
def alice_client(auth_client: Callable[[User], APIClient], alice: User) -> APIClient:
    return auth_client(alice)


@pytest.fixture
def charlie_client(auth_client: Callable[[User], APIClient], charlie: User) -> APIClient:
    return auth_client(charlie)


@pytest.fixture
def client_as(
    auth_client: Callable[[User], APIClient], alice: User, charlie: User
) -> Callable[[str], APIClient]:
    """A client for a role of the permission tables: "anonymous", "host" (alice) or "other"
    (charlie)."""
    clients = {
        "anonymous": APIClient,
        "host": lambda: auth_client(alice),
        "other": lambda: auth_client(charlie),
    }
    return lambda role: clients[role]()


@pytest.fixture
def event(alice: User) -> Event:
    return baker.make_recipe("api.future_event", host=alice, title="Meetup", max_participants=10)


@pytest.fixture
def event_with_three_participants(event: Event, make_user: Callable[..., User]) -> Event:
    for name in ("dora", "erin", "frank"):
        baker.make(EventParticipant, event=event, user=make_user(name))
    return event

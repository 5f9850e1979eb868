"""Notifications over WebSockets: who may connect, who hears what, and when.

alice hosts and invites, bob is invited, charlie is an outsider. The sockets talk to the
whole ASGI application (origin check, routing, consumer) through Channels'
WebsocketCommunicator; with REDIS_URL set, through the Redis channel layer. Every
received message is checked against its schema in spec/asyncapi.yaml.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import sys
import types
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import jwt
import pytest
import yaml
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings as django_settings
from django.db import transaction
from model_bakery import baker
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from api import notifications, services
from api.consumers import CLOSE_UNAUTHORIZED
from api.models import Event, EventParticipant, Invitation, User, WaitingListEntry
from config.asgi import application
from tests.unit.realtime.asyncapi import SPEC, assert_documented, asyncapi, message_validator

# channels.testing imports daphne for its live-server test case even when only the
# communicator is wanted (django/channels#1942), and this project serves with uvicorn:
# stand in for daphne during that import only.
if importlib.util.find_spec("daphne") is None:
    sys.modules["daphne"] = types.ModuleType("daphne")
    sys.modules["daphne.testing"] = types.ModuleType("daphne.testing")
    sys.modules["daphne.testing"].DaphneProcess = None  # type: ignore[attr-defined]
    try:
        from channels.testing import WebsocketCommunicator
    finally:
        del sys.modules["daphne.testing"], sys.modules["daphne"]
else:
    from channels.testing import WebsocketCommunicator

AuthClient = Callable[[User], APIClient]

pytestmark = pytest.mark.django_db(transaction=True)

NOTIFICATIONS_PATH = "/ws/notifications/"
CLOSED_UNAUTHORIZED = {"type": "websocket.close", "code": CLOSE_UNAUTHORIZED}
# Long enough for a message already on its way through Redis; an absence is otherwise
# proven by a later message arriving first (see `test_*_gets_nothing`).
QUIET = 0.3


# Sockets.


def access_token(user: User) -> str:
    return str(AccessToken.for_user(user))


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    # async_to_sync, not asyncio.run: the consumer's database calls then run in this
    # thread, on the test's own database connection.
    async_to_sync(scenario)()


@asynccontextmanager
async def socket(
    query: str = "", *, origin: str | None = None, path: str = NOTIFICATIONS_PATH
) -> AsyncIterator[WebsocketCommunicator]:
    headers = [(b"origin", origin.encode())] if origin is not None else []
    communicator = WebsocketCommunicator(application, f"{path}?{query}", headers=headers)
    try:
        yield communicator
    finally:
        await communicator.disconnect()


@asynccontextmanager
async def connected(user: User) -> AsyncIterator[WebsocketCommunicator]:
    async with socket(f"token={access_token(user)}") as communicator:
        accepted, _ = await communicator.connect()
        assert accepted
        yield communicator


async def next_message(communicator: WebsocketCommunicator) -> dict[str, Any]:
    message = await communicator.receive_json_from(timeout=2)
    assert_documented(message)
    return message


async def post(client: APIClient, url: str, data: dict[str, Any]) -> Any:
    return await sync_to_async(client.post)(url, data, format="json")


async def put(client: APIClient, url: str, data: dict[str, Any]) -> Any:
    return await sync_to_async(client.put)(url, data, format="json")


async def listed(client: APIClient, invitation_id: int) -> dict[str, Any]:
    """The invitation as GET /api/invitations/ shows it to its invitee."""
    response = await sync_to_async(client.get)("/api/invitations/")
    assert response.status_code == 200, response.content
    [item] = [item for item in response.json()["results"] if item["id"] == invitation_id]
    return item


def invite_url(event: Event) -> str:
    return f"/api/events/{event.pk}/invite/"


@pytest.fixture(autouse=True)
def _own_channel_layer(settings: Settings) -> None:
    """A fresh layer per test; on Redis, under a prefix no other run shares."""
    layers = copy.deepcopy(django_settings.CHANNEL_LAYERS)
    if "CONFIG" in layers["default"]:
        layers["default"]["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CHANNEL_LAYERS = layers


@pytest.fixture
def event(alice: User) -> Event:
    return baker.make_recipe("api.future_event", host=alice, title="Launch party")


# Made before a scenario starts: issuing a token writes to the database.
@pytest.fixture
def as_alice(alice: User, auth_client: AuthClient) -> APIClient:
    return auth_client(alice)


@pytest.fixture
def as_bob(bob: User, auth_client: AuthClient) -> APIClient:
    return auth_client(bob)


# Who may connect.


def test_user_with_a_valid_access_token_is_connected(bob: User) -> None:
    async def scenario() -> None:
        async with connected(bob) as communicator:
            assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


def _expired(user: User) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def _forged(user: User) -> str:
    payload = dict(AccessToken.for_user(user).payload)
    return jwt.encode(payload, "not-the-signing-key-of-this-server-0123456789", algorithm="HS256")


def _deactivated(user: User) -> str:
    token = access_token(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    return token


def _deleted(user: User) -> str:
    token = access_token(user)
    user.delete()
    return token


REFUSED_QUERIES: dict[str, Callable[[User], str]] = {
    "no-token": lambda user: "",
    "empty-token": lambda user: "token=",
    "garbage": lambda user: "token=not.a.jwt",
    "expired": lambda user: f"token={_expired(user)}",
    "refresh-token-as-access": lambda user: f"token={RefreshToken.for_user(user)}",
    "forged-signature": lambda user: f"token={_forged(user)}",
    "deactivated-user": lambda user: f"token={_deactivated(user)}",
    "deleted-user": lambda user: f"token={_deleted(user)}",
    "token-in-another-parameter": lambda user: f"access={access_token(user)}",
}


@pytest.mark.parametrize("make_query", REFUSED_QUERIES.values(), ids=REFUSED_QUERIES.keys())
def test_refused_token_is_closed_with_4401_and_no_message(
    make_query: Callable[[User], str], bob: User
) -> None:
    query = make_query(bob)

    async def scenario() -> None:
        async with socket(query) as communicator:
            # Accepted, then closed: only an open socket can carry a close code.
            accepted, _ = await communicator.connect()
            assert accepted
            assert await communicator.receive_output(timeout=2) == CLOSED_UNAUTHORIZED

    run(scenario)


def test_socket_is_closed_with_4401_when_its_token_expires(bob: User) -> None:
    token = AccessToken.for_user(bob)
    # exp has whole seconds: this one falls between two and three seconds from now.
    token.set_exp(lifetime=timedelta(seconds=3))

    async def scenario() -> None:
        async with socket(f"token={token}") as communicator:
            accepted, _ = await communicator.connect()
            assert accepted
            assert await communicator.receive_nothing(timeout=QUIET)
            assert await communicator.receive_output(timeout=4) == CLOSED_UNAUTHORIZED

    run(scenario)


ORIGINS = {
    "no-origin": (None, True),
    "localhost": ("http://localhost:8000", True),
    "loopback-address": ("http://127.0.0.1:8000", True),
    "another-site": ("https://evil.example", False),
    "allowed-host-as-prefix": ("http://localhost.evil.example", False),
    "opaque-null-origin": ("null", False),
}


@pytest.mark.parametrize(("origin", "admitted"), ORIGINS.values(), ids=ORIGINS.keys())
def test_browser_origin_must_be_an_allowed_host(
    origin: str | None, admitted: bool, bob: User
) -> None:
    """DJANGO_ALLOWED_HOSTS is testserver,127.0.0.1,localhost here (pyproject.toml)."""

    async def scenario() -> None:
        async with socket(f"token={access_token(bob)}", origin=origin) as communicator:
            accepted, _ = await communicator.connect()
            assert accepted is admitted
            if admitted:
                assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


def test_unknown_websocket_path_is_refused_at_the_handshake(bob: User) -> None:
    async def scenario() -> None:
        async with socket(f"token={access_token(bob)}", path="/ws/elsewhere/") as communicator:
            accepted, _ = await communicator.connect()
            assert not accepted

    run(scenario)


def test_messages_from_the_client_are_ignored(
    alice: User, bob: User, event: Event, as_alice: APIClient, as_bob: APIClient
) -> None:
    async def scenario() -> None:
        async with connected(bob) as communicator:
            await communicator.send_to(text_data="not json")
            await communicator.send_json_to({"type": "invitation.received", "invitation": {}})
            await communicator.send_to(bytes_data=b"\x00\xff")
            assert await communicator.receive_nothing(timeout=QUIET)

            response = await post(as_alice, invite_url(event), {"invitee": bob.pk})

            assert response.status_code == 201, response.content
            message = await next_message(communicator)
            assert message["invitation"]["id"] == response.json()["id"]

    run(scenario)


# Who hears what.


def test_invitee_receives_the_invitation_as_the_api_lists_it(
    alice: User, bob: User, event: Event, as_alice: APIClient, as_bob: APIClient
) -> None:
    async def scenario() -> None:
        async with connected(bob) as communicator:
            response = await post(as_alice, invite_url(event), {"invitee": bob.pk})

            assert response.status_code == 201, response.content
            message = await next_message(communicator)
            invitation_id = response.json()["id"]
            assert message == {
                "type": "invitation.received",
                "invitation": await listed(as_bob, invitation_id),
            }
            assert message["invitation"]["status"] == "PENDING"
            assert message["invitation"]["responded_at"] is None
            assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


def test_every_connection_of_the_invitee_receives_it(
    alice: User, bob: User, event: Event, as_alice: APIClient, as_bob: APIClient
) -> None:
    async def scenario() -> None:
        async with connected(bob) as tab1, connected(bob) as tab2, connected(bob) as phone:
            response = await post(as_alice, invite_url(event), {"invitee": bob.pk})

            assert response.status_code == 201, response.content
            for communicator in (tab1, tab2, phone):
                message = await next_message(communicator)
                assert message["invitation"]["id"] == response.json()["id"]

    run(scenario)


def test_users_other_than_the_invitee_get_nothing(
    alice: User, bob: User, charlie: User, event: Event, as_alice: APIClient, as_bob: APIClient
) -> None:
    other_event = baker.make_recipe("api.future_event", host=bob, title="Other")

    async def scenario() -> None:
        async with connected(alice) as host, connected(bob) as invitee, connected(charlie) as out:
            await post(as_alice, invite_url(event), {"invitee": bob.pk})
            assert (await next_message(invitee))["invitation"]["invitee"]["id"] == bob.pk

            # Had charlie been sent bob's invitation, it would come before his own.
            await post(as_bob, invite_url(other_event), {"invitee": charlie.pk})
            first = await next_message(out)
            assert first["invitation"]["event"]["id"] == other_event.pk
            assert await host.receive_nothing(timeout=QUIET)

    run(scenario)


def test_nothing_is_sent_for_a_rolled_back_invitation(
    alice: User, bob: User, event: Event, as_alice: APIClient, as_bob: APIClient
) -> None:
    later_event = baker.make_recipe("api.future_event", host=alice, title="Later")

    def invite_then_roll_back() -> None:
        with transaction.atomic():
            services.invitation_create(event=event, inviter=alice, invitee=bob)
            transaction.set_rollback(True)

    async def scenario() -> None:
        async with connected(bob) as communicator:
            await sync_to_async(invite_then_roll_back)()
            assert not await sync_to_async(Invitation.objects.filter(event=event).exists)()

            await post(as_alice, invite_url(later_event), {"invitee": bob.pk})
            first = await next_message(communicator)
            assert first["invitation"]["event"]["id"] == later_event.pk

    run(scenario)


def test_nothing_is_sent_for_a_refused_invitation(
    alice: User, bob: User, event: Event, as_alice: APIClient, as_bob: APIClient
) -> None:
    later_event = baker.make_recipe("api.future_event", host=alice, title="Later")
    baker.make(Invitation, event=event, inviter=alice, invitee=bob)

    async def scenario() -> None:
        async with connected(bob) as communicator:
            refused = await post(as_alice, invite_url(event), {"invitee": bob.pk})
            assert refused.status_code == 409, refused.content

            await post(as_alice, invite_url(later_event), {"invitee": bob.pk})
            first = await next_message(communicator)
            assert first["invitation"]["event"]["id"] == later_event.pk

    run(scenario)


@pytest.mark.parametrize("answer", ["ACCEPTED", "DECLINED"])
def test_inviter_hears_that_the_invitation_was_answered(
    answer: str, alice: User, bob: User, event: Event, as_alice: APIClient, as_bob: APIClient
) -> None:
    invitation = baker.make(Invitation, event=event, inviter=alice, invitee=bob)

    async def scenario() -> None:
        async with connected(alice) as host, connected(bob) as invitee:
            response = await put(as_bob, f"/api/invitations/{invitation.pk}/", {"status": answer})

            assert response.status_code == 200, response.content
            message = await next_message(host)
            assert message == {
                "type": "invitation.answered",
                "invitation": await listed(as_bob, invitation.pk),
            }
            assert message["invitation"]["status"] == answer
            assert message["invitation"]["responded_at"] is not None
            assert await invitee.receive_nothing(timeout=QUIET)

    run(scenario)


# Delivery never fails the request.


def test_invitation_is_created_when_the_channel_layer_is_down(
    alice: User,
    bob: User,
    event: Event,
    auth_client: AuthClient,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A Redis nobody listens on: the send fails as it does when Redis is down.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }

    with caplog.at_level(logging.ERROR, logger="api.notifications"):
        response = auth_client(alice).post(invite_url(event), {"invitee": bob.pk}, format="json")

    assert response.status_code == 201, response.content
    assert Invitation.objects.filter(pk=response.json()["id"], invitee=bob).exists()
    [record] = [r for r in caplog.records if r.name == "api.notifications"]
    assert record.levelno == logging.ERROR
    assert "invitation.received" in record.getMessage()
    assert record.exc_info is not None


def test_invitation_is_created_when_the_notification_itself_fails(
    alice: User,
    bob: User,
    event: Event,
    auth_client: AuthClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """robust=True: whatever a notification raises, Django logs it and the request stands."""

    def broken(invitation: Invitation) -> None:
        raise RuntimeError("notification bug")

    monkeypatch.setattr(notifications, "invitation_received", broken)
    # Django's logger does not propagate to the root logger caplog listens on.
    django_logger = logging.getLogger("django.db.backends.base")
    monkeypatch.setattr(django_logger, "handlers", [*django_logger.handlers, caplog.handler])

    response = auth_client(alice).post(invite_url(event), {"invitee": bob.pk}, format="json")

    assert response.status_code == 201, response.content
    assert Invitation.objects.filter(pk=response.json()["id"], invitee=bob).exists()
    [record] = [r for r in caplog.records if r.name == "django.db.backends.base"]
    assert "notification bug" in record.getMessage()


def test_the_next_person_waiting_hears_of_the_seat_offered_as_their_list_shows_it(
    alice: User, bob: User, charlie: User, as_bob: APIClient, auth_client: AuthClient
) -> None:
    full = baker.make_recipe("api.future_event", host=alice, max_participants=1)
    baker.make(EventParticipant, event=full, user=charlie)
    entry = baker.make(WaitingListEntry, event=full, user=bob)
    as_charlie = auth_client(charlie)

    async def scenario() -> None:
        async with connected(bob) as communicator:
            response = await sync_to_async(as_charlie.delete)(f"/api/events/{full.pk}/unregister/")

            assert response.status_code == 204, response.content
            message = await next_message(communicator)
            mine = await sync_to_async(as_bob.get)("/api/me/waiting-list/")
            assert message == {"type": "waiting_list.offered", "entry": mine.json()["results"][0]}
            assert message["entry"]["id"] == entry.pk
            assert message["entry"]["status"] == "offered"
            assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


# The AsyncAPI document agrees with the OpenAPI one.


def _openapi_schema(name: str) -> dict[str, Any]:
    return yaml.safe_load((SPEC / "openapi.yaml").read_text())["components"]["schemas"][name]


@pytest.mark.parametrize("name", ["Invitation", "InvitationEvent", "User", "WaitingListEntry"])
def test_asyncapi_schemas_have_the_fields_of_the_openapi_ones(name: str) -> None:
    ours = asyncapi()["components"]["schemas"][name]
    theirs = _openapi_schema(name)

    assert set(ours["properties"]) == set(theirs["properties"])
    assert set(ours["required"]) == set(theirs["required"])


def test_asyncapi_invitation_statuses_are_the_openapi_ones() -> None:
    ours = asyncapi()["components"]["schemas"]["Invitation"]["properties"]["status"]

    assert ours["enum"] == _openapi_schema("InvitationStatus")["enum"]


def test_asyncapi_examples_match_their_message_schemas() -> None:
    for message in asyncapi()["components"]["messages"].values():
        for example in message["examples"]:
            assert example["payload"]["type"] == message["name"]
            message_validator(message["name"]).validate(example["payload"])

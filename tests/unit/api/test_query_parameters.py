"""Strict query strings: an unknown parameter or a repeated single-valued one is a 400
naming it, and the parameters each operation takes are exactly those the spec lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.utils import timezone
from model_bakery import baker

from api.models import Event, User, WebhookDelivery
from tests.helpers import client_for
from tests.spec_validation import SPEC_PATH

pytestmark = pytest.mark.django_db

SPEC = yaml.safe_load(SPEC_PATH.read_text())


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in SPEC["paths"].items()
        for method, operation in operations.items()
    ]


World = tuple[Event, int, WebhookDelivery, int]


def _url(path: str, world: World) -> str:
    event, invitation_id, delivery, entry_id = world
    if path.startswith("/api/invitations/"):
        identifier = invitation_id
    elif path.startswith("/api/webhooks/"):
        identifier = delivery.endpoint_id
    else:
        identifier = event.pk
    return (
        path.replace("{id}", str(identifier))
        .replace("{webhook_id}", str(delivery.endpoint_id))
        .replace("{delivery_id}", str(delivery.pk))
        .replace("{entry_id}", str(entry_id))
    )


def _caller(path: str, alice: User, bob: User) -> User:
    # The invitee answers invitations; alice, the host (also a participant) and the
    # webhooks' owner, does the rest.
    return bob if path.startswith("/api/invitations/") else alice


@pytest.fixture
def world(alice: User, bob: User) -> World:
    start = timezone.now() + timedelta(days=3)
    event = baker.make_recipe(
        "api.future_event", host=alice, start_time=start, end_time=start + timedelta(hours=2)
    )
    invitation = baker.make("api.Invitation", event=event, inviter=alice, invitee=bob)
    # The host takes part, so every event operation admits them up to the query check.
    baker.make("api.EventParticipant", event=event, user=alice)
    endpoint = baker.make("api.WebhookEndpoint", owner=alice, url="https://example.com/hook")
    delivery = baker.make(
        "api.WebhookDelivery", endpoint=endpoint, message_id="msg_1", event_type="webhook.ping"
    )
    # An offer of alice's, on another event, to accept or decline.
    full = baker.make_recipe("api.future_event", host=bob, max_participants=1)
    entry = baker.make(
        "api.WaitingListEntry",
        event=full,
        user=alice,
        status="offered",
        offered_at=timezone.now(),
        offer_expires_at=start,
    )
    return event, invitation.pk, delivery, entry.pk


@pytest.mark.parametrize(
    ("path", "method"),
    [(path, method) for path, method, _ in _operations()],
    ids=[operation["operationId"] for _, _, operation in _operations()],
)
def test_every_operation_refuses_an_unknown_parameter(
    path: str, method: str, world: World, alice: User, bob: User
) -> None:
    url = _url(path, world)

    response = getattr(client_for(_caller(path, alice, bob)), method)(
        f"{url}?hots=1", {}, format="json"
    )

    if response.status_code in (401, 403, 404, 429):
        pytest.fail(f"{method} {url}: {response.status_code} before the query was checked")
    assert response.status_code == 400
    if method != "head":
        problem = response.json()
        assert problem["code"] == "unknown_parameter"
        assert problem["errors"] == [
            {
                "field": "hots",
                "code": "unknown_parameter",
                "message": problem["errors"][0]["message"],
            }
        ]
        assert "'hots'" in problem["errors"][0]["message"]


@pytest.mark.parametrize(
    ("path", "method", "names"),
    [
        (path, method, sorted(p["name"] for p in op.get("parameters", []) if p["in"] == "query"))
        for path, method, op in _operations()
        if method == "get"
    ],
    ids=[op["operationId"] for _, method, op in _operations() if method == "get"],
)
def test_each_parameter_the_spec_lists_is_accepted(
    path: str, method: str, names: list[str], world: World, alice: User, bob: User
) -> None:
    """The other direction of the drift check: no listed parameter is refused as unknown."""
    url = _url(path, world)
    valid = {
        "page": "1",
        "page_size": "5",
        "host": str(alice.pk),
        "location": "x",
        "ordering": "title",
        "status": "pending" if "/deliveries/" in path else "PENDING",
        # A cursor as the API writes them: base64 of "p=<position>" (DRF's format).
        "cursor": "cD0x",
    }
    # Anyone may read the events list; a webhook's log and an event's waiting list are
    # their owner's only.
    owned = path.startswith("/api/webhooks/") or path == "/api/events/{id}/waiting-list/"
    caller = alice if owned else bob
    for name in names:
        value = valid.get(name, "2026-01-01")
        response = client_for(caller).get(url, {name: value})
        assert response.status_code == 200, (name, response.content)


def test_a_single_valued_parameter_sent_twice_is_refused(alice: User) -> None:
    response = client_for(None).get(f"/api/events/?host={alice.pk}&host={alice.pk + 1}")

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "repeated_parameter"
    assert problem["errors"][0]["field"] == "host"
    assert problem["errors"][0]["code"] == "repeated_parameter"


def test_page_sent_twice_is_refused() -> None:
    response = client_for(None).get("/api/events/?page=1&page=2")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page"


@pytest.fixture
def three_events(alice: User) -> list[Event]:
    start = timezone.now() + timedelta(days=1)
    return [
        baker.make_recipe(
            "api.future_event",
            host=alice,
            title=title,
            start_time=start + timedelta(hours=hour),
            end_time=start + timedelta(hours=hour + 1),
        )
        for title, hour in [("b", 1), ("a", 2), ("b", 3)]
    ]


def test_ordering_repeated_means_the_same_as_comma_separated(three_events: list[Event]) -> None:
    client = client_for(None)

    repeated = client.get("/api/events/?ordering=-title&ordering=start_time").json()
    commas = client.get("/api/events/?ordering=-title,start_time").json()
    last_only = client.get("/api/events/?ordering=start_time").json()

    order = [item["id"] for item in repeated["results"]]
    assert order == [item["id"] for item in commas["results"]]
    # -title first, start_time breaking the tie between the two "b"s.
    b_early, a, b_late = three_events
    assert order == [b_early.pk, b_late.pk, a.pk]
    assert order != [item["id"] for item in last_only["results"]]


def test_a_method_the_path_does_not_take_is_405_whatever_the_query() -> None:
    response = client_for(None).generic("TRACE", "/api/events/?hots=1")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"

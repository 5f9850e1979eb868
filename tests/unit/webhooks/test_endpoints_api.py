"""The webhook endpoints' API: registering receivers, their secrets, pings, the delivery
log and redeliveries, as /api/webhooks/ answers them.

alice owns the endpoints, bob is another signed-in user who must not see them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from model_bakery import baker
from rest_framework.test import APIClient

from api.models import User, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.webhooks import endpoints
from api.webhooks.messages import EVENT_TYPES
from api.webhooks.serializers import WebhookEndpointSerializer
from tests.helpers import assert_field_error, assert_problem
from tests.webhook_receiver import Receiver

AuthClient = Callable[[User], APIClient]
Worker = Callable[[], str]

pytestmark = pytest.mark.django_db

WEBHOOKS_URL = "/api/webhooks/"
# A public name: names are not resolved when an endpoint is registered, so no receiver
# needs to listen here and production's rules apply.
HOOK_URL = "https://hooks.example.com/events"
# As the spec documents it, rather than the service's constant: a test of the rule.
MAX_ENDPOINTS_PER_USER = 10
ENDPOINT_KEYS = set(WebhookEndpointSerializer.Meta.fields)
ATTEMPT_KEYS = {"attempted_at", "status_code", "duration_ms", "response_body", "error", "manual"}
Status = WebhookDelivery.Status


def endpoint_url(endpoint_id: int) -> str:
    return f"{WEBHOOKS_URL}{endpoint_id}/"


def deliveries_url(endpoint_id: int) -> str:
    return f"{endpoint_url(endpoint_id)}deliveries/"


def redeliver_url(endpoint_id: int, delivery_id: int) -> str:
    return f"{deliveries_url(endpoint_id)}{delivery_id}/redeliver/"


def make_endpoint(owner: User, **fields: Any) -> WebhookEndpoint:
    fields.setdefault("url", HOOK_URL)
    return endpoints.endpoint_create(owner=owner, **fields)


def make_delivery(endpoint: WebhookEndpoint, **fields: Any) -> WebhookDelivery:
    fields.setdefault("status", Status.PENDING)
    delivery: WebhookDelivery = baker.make(
        WebhookDelivery,
        endpoint=endpoint,
        event_type="webhook.ping",
        payload=json.dumps({"type": "webhook.ping", "data": {"endpoint_id": endpoint.pk}}),
        **fields,
    )
    return delivery


def disable(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)


def webhook_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: list(model._default_manager.order_by("pk").values())
        for model in (WebhookEndpoint, WebhookDelivery, WebhookAttempt)
    }


def assert_is_a_secret(secret: str) -> None:
    """Standard Webhooks' form: whsec_ and the base64 of 32 random bytes."""
    assert secret.startswith("whsec_"), secret
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


# Create


def test_registering_an_endpoint_answers_201_with_its_secret(
    alice: User, auth_client: AuthClient
) -> None:
    response = auth_client(alice).post(WEBHOOKS_URL, {"url": HOOK_URL}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert set(body) == ENDPOINT_KEYS | {"secret"}
    assert body["id"] == endpoint.pk
    assert body["url"] == endpoint.url == HOOK_URL
    assert body["enabled"] is True
    assert body["disabled_reason"] == ""
    assert body["previous_secret_expires_at"] is None
    assert body["secret"] == endpoint.secret
    assert_is_a_secret(body["secret"])
    assert endpoint.owner == alice


def test_each_endpoint_gets_a_secret_of_its_own(alice: User, auth_client: AuthClient) -> None:
    client = auth_client(alice)

    first = client.post(WEBHOOKS_URL, {"url": HOOK_URL}, format="json")
    second = client.post(WEBHOOKS_URL, {"url": HOOK_URL}, format="json")

    assert first.status_code == second.status_code == 201
    assert first.json()["secret"] != second.json()["secret"]


def test_the_secret_is_never_shown_after_creation(alice: User, auth_client: AuthClient) -> None:
    client = auth_client(alice)
    created = client.post(WEBHOOKS_URL, {"url": HOOK_URL}, format="json").json()
    secret, url = created["secret"], endpoint_url(created["id"])

    responses = {
        "list": client.get(WEBHOOKS_URL),
        "detail": client.get(url),
        "change": client.patch(url, {"description": "CRM"}, format="json"),
    }

    for name, response in responses.items():
        assert response.status_code == 200, (name, response.content)
        shown = response.json()["results"][0] if name == "list" else response.json()
        assert set(shown) == ENDPOINT_KEYS, name
        assert secret not in response.content.decode(), name


@pytest.mark.parametrize("body", [{}, {"events": None}], ids=["omitted", "null"])
def test_an_endpoint_without_events_subscribes_to_every_type(
    body: dict[str, Any], alice: User, auth_client: AuthClient
) -> None:
    response = auth_client(alice).post(WEBHOOKS_URL, {"url": HOOK_URL, **body}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["events"] is None
    assert WebhookEndpoint.objects.get().events is None


def test_events_are_stored_once_each_in_the_order_of_the_event_types(
    alice: User, auth_client: AuthClient
) -> None:
    sent = ["webhook.ping", "event.deleted", "participant.registered", "webhook.ping"]

    response = auth_client(alice).post(
        WEBHOOKS_URL, {"url": HOOK_URL, "events": sent}, format="json"
    )

    assert response.status_code == 201, response.content
    expected = sorted(set(sent), key=EVENT_TYPES.index)
    assert expected == ["participant.registered", "event.deleted", "webhook.ping"]
    assert response.json()["events"] == expected
    assert WebhookEndpoint.objects.get().events == expected


def test_the_description_defaults_to_empty(alice: User, auth_client: AuthClient) -> None:
    response = auth_client(alice).post(WEBHOOKS_URL, {"url": HOOK_URL}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["description"] == ""
    assert WebhookEndpoint.objects.get().description == ""


def test_the_list_shows_the_callers_endpoints_only_oldest_first(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    first, second = make_endpoint(alice), make_endpoint(alice)
    make_endpoint(bob)

    response = auth_client(alice).get(WEBHOOKS_URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None
    assert body["previous"] is None
    assert [shown["id"] for shown in body["results"]] == [first.pk, second.pk]


# Limit


def test_the_eleventh_endpoint_is_refused_until_one_is_deleted(
    alice: User, auth_client: AuthClient
) -> None:
    client = auth_client(alice)
    existing = [make_endpoint(alice) for _ in range(MAX_ENDPOINTS_PER_USER)]

    refused = client.post(WEBHOOKS_URL, {"url": HOOK_URL}, format="json")

    assert_problem(refused, 409, "webhook_limit_reached")
    assert WebhookEndpoint.objects.filter(owner=alice).count() == MAX_ENDPOINTS_PER_USER

    assert client.delete(endpoint_url(existing[0].pk)).status_code == 204
    accepted = client.post(WEBHOOKS_URL, {"url": HOOK_URL}, format="json")

    assert accepted.status_code == 201, accepted.content
    assert WebhookEndpoint.objects.filter(owner=alice).count() == MAX_ENDPOINTS_PER_USER


def test_the_limit_counts_each_users_endpoints_apart(
    alice: User, bob: User, auth_client: AuthClient
) -> None:
    for _ in range(MAX_ENDPOINTS_PER_USER):
        make_endpoint(alice)

    response = auth_client(bob).post(WEBHOOKS_URL, {"url": HOOK_URL}, format="json")

    assert response.status_code == 201, response.content
    assert WebhookEndpoint.objects.filter(owner=bob).count() == 1


# The URL and the other fields


def _overlong_url() -> str:
    prefix = "https://hooks.example.com/"
    return prefix + "a" * (2049 - len(prefix))


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (_overlong_url(), "max_length"),
        ("https://user:password@hooks.example.com/", "userinfo"),
        ("https://exämple.com/", "idn"),
        ("https://hooks.example.com:0/", "invalid_port"),
        ("https://hooks.example.com:65536/", "invalid_port"),
        ("https://hooks.example.com:abc/", "invalid_port"),
        ("https://hooks.example.com/hook#section", "fragment"),
        ("https://hooks.example.com/a hook", "invalid"),
        ("http://hooks.example.com/", "invalid_scheme"),
        ("https://127.0.0.1/", "private_address"),
        ("https://[::1]/", "private_address"),
        ("https://[::ffff:127.0.0.1]/", "private_address"),
        ("https://169.254.169.254/latest/meta-data/", "private_address"),
        ("https://10.0.0.1/", "private_address"),
    ],
    ids=[
        "2049 characters",
        "user and password",
        "Unicode host name",
        "port 0",
        "port 65536",
        "port not a number",
        "fragment",
        "space",
        "plain http",
        "IPv4 loopback",
        "IPv6 loopback",
        "IPv4-mapped loopback",
        "cloud metadata",
        "private network",
    ],
)
def test_a_hostile_url_is_refused_naming_the_url(
    url: str, code: str, alice: User, auth_client: AuthClient
) -> None:
    response = auth_client(alice).post(WEBHOOKS_URL, {"url": url}, format="json")

    assert_field_error(response, "url", code)
    assert not WebhookEndpoint.objects.exists()


def test_a_change_to_a_hostile_url_is_refused_and_the_url_kept(
    alice: User, auth_client: AuthClient
) -> None:
    endpoint = make_endpoint(alice)

    response = auth_client(alice).patch(
        endpoint_url(endpoint.pk), {"url": "https://169.254.169.254/"}, format="json"
    )

    assert_field_error(response, "url", "private_address")
    endpoint.refresh_from_db()
    assert endpoint.url == HOOK_URL


@pytest.mark.parametrize(
    "url",
    ["https://xn--exmple-cua.com/hook", "https://93.184.215.14:8443/hook?source=events"],
    ids=["punycode host", "public IPv4 with port"],
)
def test_a_punycode_host_or_a_public_address_is_accepted(
    url: str, alice: User, auth_client: AuthClient
) -> None:
    response = auth_client(alice).post(WEBHOOKS_URL, {"url": url}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["url"] == url
    assert WebhookEndpoint.objects.get().url == url


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": 123}, "url", "invalid"),
        ({}, "url", "required"),
        ({"url": HOOK_URL, "events": "participant.registered"}, "events", "not_a_list"),
        ({"url": HOOK_URL, "events": ["participant.exploded"]}, "events.0", "invalid_choice"),
        ({"url": HOOK_URL, "events": []}, "events", "min_length"),
        ({"url": HOOK_URL, "description": "x" * 501}, "description", "max_length"),
    ],
    ids=[
        "url not a string",
        "url missing",
        "events not a list",
        "unknown event type",
        "no event type",
        "description over 500",
    ],
)
def test_an_invalid_field_is_refused_naming_it(
    body: dict[str, Any], field: str, code: str, alice: User, auth_client: AuthClient
) -> None:
    response = auth_client(alice).post(WEBHOOKS_URL, body, format="json")

    assert_field_error(response, field, code)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("enabled", ["true", 1, None], ids=["string", "number", "null"])
def test_enabled_must_be_a_boolean(enabled: Any, alice: User, auth_client: AuthClient) -> None:
    endpoint = make_endpoint(alice)
    disable(endpoint)

    response = auth_client(alice).patch(
        endpoint_url(endpoint.pk), {"enabled": enabled}, format="json"
    )

    assert_field_error(response, "enabled")
    endpoint.refresh_from_db()
    assert endpoint.enabled is False


# Change


def test_owner_can_change_url_events_and_description(alice: User, auth_client: AuthClient) -> None:
    endpoint = make_endpoint(alice)
    new_url = "https://crm.example.org/hooks?v=2"

    response = auth_client(alice).patch(
        endpoint_url(endpoint.pk),
        {"url": new_url, "events": ["event.deleted", "event.updated"], "description": "CRM"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["url"], body["events"], body["description"]) == (
        new_url,
        ["event.updated", "event.deleted"],
        "CRM",
    )
    endpoint.refresh_from_db()
    assert endpoint.url == new_url
    assert endpoint.events == ["event.updated", "event.deleted"]
    assert endpoint.description == "CRM"


def test_a_change_leaves_the_fields_not_sent_as_they_were(
    alice: User, auth_client: AuthClient
) -> None:
    endpoint = make_endpoint(alice, events=["feedback.created"], description="Feedback")
    secret = endpoint.secret

    response = auth_client(alice).patch(
        endpoint_url(endpoint.pk), {"description": "Reviews"}, format="json"
    )

    assert response.status_code == 200, response.content
    endpoint.refresh_from_db()
    assert endpoint.description == "Reviews"
    assert endpoint.url == HOOK_URL
    assert endpoint.events == ["feedback.created"]
    assert endpoint.enabled is True
    assert endpoint.secret == secret


def test_owner_can_pause_an_endpoint(alice: User, auth_client: AuthClient) -> None:
    endpoint = make_endpoint(alice)

    response = auth_client(alice).patch(
        endpoint_url(endpoint.pk), {"enabled": False}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is False
    assert response.json()["disabled_reason"] == ""
    endpoint.refresh_from_db()
    assert endpoint.enabled is False


def test_enabling_an_endpoint_the_service_disabled_clears_its_reason(
    alice: User, auth_client: AuthClient
) -> None:
    endpoint = make_endpoint(alice)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason="x", failing_since=timezone.now() - timedelta(days=5)
    )

    response = auth_client(alice).patch(endpoint_url(endpoint.pk), {"enabled": True}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is True
    assert response.json()["disabled_reason"] == ""
    endpoint.refresh_from_db()
    assert endpoint.enabled is True
    assert endpoint.disabled_reason == ""
    assert endpoint.failing_since is None


# Rotate the secret


def test_rotating_the_secret_shows_a_new_one_and_keeps_the_old_for_24_hours(
    alice: User, auth_client: AuthClient
) -> None:
    client = auth_client(alice)
    endpoint = make_endpoint(alice)
    old = endpoint.secret

    response = client.post(f"{endpoint_url(endpoint.pk)}rotate-secret/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == ENDPOINT_KEYS | {"secret"}
    assert body["secret"] != old
    assert_is_a_secret(body["secret"])
    expires = parse_time(body["previous_secret_expires_at"])
    assert abs(expires - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    endpoint.refresh_from_db()
    assert endpoint.secret == body["secret"]
    assert endpoint.previous_secret == old
    assert endpoint.previous_secret_expires_at == expires
    shown = [response, client.get(endpoint_url(endpoint.pk)), client.get(WEBHOOKS_URL)]
    for answer in shown:
        assert old not in answer.content.decode(), answer.wsgi_request.path


def test_the_rotated_secret_is_not_shown_again(alice: User, auth_client: AuthClient) -> None:
    client = auth_client(alice)
    endpoint = make_endpoint(alice)
    rotated = client.post(f"{endpoint_url(endpoint.pk)}rotate-secret/").json()

    shown = client.get(endpoint_url(endpoint.pk))

    assert shown.status_code == 200, shown.content
    assert rotated["secret"] not in shown.content.decode()
    assert shown.json()["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]


# Ping


def test_a_ping_queues_a_delivery_to_that_endpoint(alice: User, auth_client: AuthClient) -> None:
    endpoint = make_endpoint(alice, events=["feedback.created"])
    other = make_endpoint(alice)

    response = auth_client(alice).post(f"{endpoint_url(endpoint.pk)}ping/")

    assert response.status_code == 202, response.content
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == endpoint
    assert delivery.event_type == "webhook.ping"
    assert delivery.status == Status.PENDING
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()
    body = response.json()
    assert body["id"] == delivery.pk
    assert body["message_id"] == delivery.message_id
    assert body["event_type"] == "webhook.ping"
    assert body["status"] == "pending"
    assert body["attempts"] == []
    assert body["payload"] == delivery.payload
    assert json.loads(body["payload"])["data"] == {"endpoint_id": endpoint.pk}


def test_pinging_a_disabled_endpoint_is_refused(alice: User, auth_client: AuthClient) -> None:
    endpoint = make_endpoint(alice)
    disable(endpoint)

    response = auth_client(alice).post(f"{endpoint_url(endpoint.pk)}ping/")

    assert_problem(response, 409, "webhook_disabled")
    assert not WebhookDelivery.objects.exists()


# The delivery log


def test_deliveries_are_listed_newest_first(alice: User, auth_client: AuthClient) -> None:
    endpoint = make_endpoint(alice)
    made = [make_delivery(endpoint) for _ in range(3)]
    make_delivery(make_endpoint(alice))

    response = auth_client(alice).get(deliveries_url(endpoint.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert [shown["id"] for shown in body["results"]] == [d.pk for d in reversed(made)]
    assert body["next"] is None
    assert body["previous"] is None


@pytest.mark.parametrize("status", [Status.PENDING, Status.SUCCEEDED, Status.FAILED])
def test_deliveries_can_be_filtered_by_status(
    status: str, alice: User, auth_client: AuthClient
) -> None:
    endpoint = make_endpoint(alice)
    by_status = {name: make_delivery(endpoint, status=name) for name in Status.values}

    response = auth_client(alice).get(deliveries_url(endpoint.pk), {"status": status})

    assert response.status_code == 200, response.content
    assert [shown["id"] for shown in response.json()["results"]] == [by_status[status].pk]


def test_the_cursor_pages_through_every_delivery_once_newest_first(
    alice: User, auth_client: AuthClient
) -> None:
    client = auth_client(alice)
    endpoint = make_endpoint(alice)
    made = [make_delivery(endpoint) for _ in range(5)]

    pages = []
    response = client.get(deliveries_url(endpoint.pk), {"page_size": 2})
    while True:
        assert response.status_code == 200, response.content
        pages.append([shown["id"] for shown in response.json()["results"]])
        link = response.json()["next"]
        if link is None:
            break
        response = client.get(link)

    newest_first = [d.pk for d in reversed(made)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]


def test_an_invalid_cursor_is_refused_naming_it(alice: User, auth_client: AuthClient) -> None:
    endpoint = make_endpoint(alice)
    make_delivery(endpoint)

    response = auth_client(alice).get(deliveries_url(endpoint.pk), {"cursor": "not-a-cursor"})

    assert_field_error(response, "cursor", "invalid")


def test_an_unknown_status_filter_is_refused_naming_it(
    alice: User, auth_client: AuthClient
) -> None:
    endpoint = make_endpoint(alice)

    response = auth_client(alice).get(deliveries_url(endpoint.pk), {"status": "delivered"})

    assert_field_error(response, "status")


def test_an_unknown_query_parameter_of_the_log_is_refused(
    alice: User, auth_client: AuthClient
) -> None:
    endpoint = make_endpoint(alice)

    response = auth_client(alice).get(deliveries_url(endpoint.pk), {"statuss": "failed"})

    body = assert_problem(response, 400, "unknown_parameter")
    assert [error["field"] for error in body["errors"]] == ["statuss"]


def test_attempts_are_listed_oldest_first_with_what_the_receiver_said(
    alice: User, auth_client: AuthClient
) -> None:
    endpoint = make_endpoint(alice)
    delivery = make_delivery(endpoint, status=Status.SUCCEEDED)
    now = timezone.now()
    # Written newest first, so the order shown cannot be the order of insertion.
    later = baker.make(
        WebhookAttempt,
        delivery=delivery,
        attempted_at=now,
        status_code=200,
        duration_ms=12,
        response_body="ok",
        error="",
        manual=True,
    )
    earlier = baker.make(
        WebhookAttempt,
        delivery=delivery,
        attempted_at=now - timedelta(minutes=5),
        status_code=0,
        duration_ms=15000,
        response_body="",
        error="timed out after 15 s",
        manual=False,
    )

    response = auth_client(alice).get(deliveries_url(endpoint.pk))

    assert response.status_code == 200, response.content
    attempts = response.json()["results"][0]["attempts"]
    assert [set(shown) for shown in attempts] == [ATTEMPT_KEYS, ATTEMPT_KEYS]
    assert [parse_time(shown.pop("attempted_at")) for shown in attempts] == [
        earlier.attempted_at,
        later.attempted_at,
    ]
    assert attempts == [
        {
            "status_code": 0,
            "duration_ms": 15000,
            "response_body": "",
            "error": "timed out after 15 s",
            "manual": False,
        },
        {"status_code": 200, "duration_ms": 12, "response_body": "ok", "error": "", "manual": True},
    ]


# Redeliver


def test_a_redelivery_is_queued_as_manual(alice: User, auth_client: AuthClient) -> None:
    endpoint = make_endpoint(alice)
    delivery = make_delivery(endpoint, status=Status.FAILED)

    response = auth_client(alice).post(redeliver_url(endpoint.pk, delivery.pk))

    assert response.status_code == 202, response.content
    assert response.json()["id"] == delivery.pk
    assert response.json()["message_id"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.manual_requested is True
    assert delivery.queued_at is not None


def test_a_delivery_of_another_endpoint_cannot_be_redelivered_through_this_one(
    alice: User, auth_client: AuthClient
) -> None:
    endpoint, other = make_endpoint(alice), make_endpoint(alice)
    delivery = make_delivery(other, status=Status.FAILED)

    response = auth_client(alice).post(redeliver_url(endpoint.pk, delivery.pk))

    assert_problem(response, 404, "not_found")
    delivery.refresh_from_db()
    assert delivery.manual_requested is False
    assert delivery.queued_at is None


def test_redelivering_to_a_disabled_endpoint_is_refused(
    alice: User, auth_client: AuthClient
) -> None:
    endpoint = make_endpoint(alice)
    delivery = make_delivery(endpoint, status=Status.FAILED)
    disable(endpoint)

    response = auth_client(alice).post(redeliver_url(endpoint.pk, delivery.pk))

    assert_problem(response, 409, "webhook_disabled")
    delivery.refresh_from_db()
    assert delivery.manual_requested is False
    assert delivery.queued_at is None


# Delete


def test_deleting_an_endpoint_deletes_its_delivery_log(
    alice: User, auth_client: AuthClient
) -> None:
    endpoint, kept = make_endpoint(alice), make_endpoint(alice)
    delivery = make_delivery(endpoint, status=Status.SUCCEEDED)
    baker.make(WebhookAttempt, delivery=delivery, attempted_at=timezone.now(), status_code=200)
    kept_delivery = make_delivery(kept)

    response = auth_client(alice).delete(endpoint_url(endpoint.pk))

    assert response.status_code == 204, response.content
    assert list(WebhookEndpoint.objects.all()) == [kept]
    assert list(WebhookDelivery.objects.all()) == [kept_delivery]
    assert not WebhookAttempt.objects.exists()


# Who may do what


OPERATIONS_ON_AN_ENDPOINT = [
    pytest.param("get", "{endpoint}", None, id="show it"),
    pytest.param("patch", "{endpoint}", {"description": "taken over"}, id="change it"),
    pytest.param("delete", "{endpoint}", None, id="delete it"),
    pytest.param("post", "{endpoint}rotate-secret/", None, id="rotate its secret"),
    pytest.param("post", "{endpoint}ping/", None, id="ping it"),
    pytest.param("get", "{endpoint}deliveries/", None, id="list its deliveries"),
    pytest.param("get", "{endpoint}deliveries/{delivery}/", None, id="show a delivery"),
    pytest.param("post", "{endpoint}deliveries/{delivery}/redeliver/", None, id="redeliver"),
]


def _request(
    client: APIClient, method: str, path: str, body: dict[str, Any] | None, alices: WebhookEndpoint
) -> Any:
    delivery = alices.deliveries.get()
    url = path.format(endpoint=endpoint_url(alices.pk), delivery=delivery.pk)
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS_ON_AN_ENDPOINT)
def test_another_user_cannot_reach_an_endpoint_nor_learn_it_exists(
    method: str,
    path: str,
    body: dict[str, Any] | None,
    alice: User,
    bob: User,
    auth_client: AuthClient,
) -> None:
    alices = make_endpoint(alice)
    make_delivery(alices, status=Status.FAILED)
    make_endpoint(bob)
    before = webhook_rows()

    response = _request(auth_client(bob), method, path, body, alices)

    assert_problem(response, 404, "not_found")
    assert webhook_rows() == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("get", WEBHOOKS_URL, None, id="list endpoints"),
        pytest.param("post", WEBHOOKS_URL, {"url": HOOK_URL}, id="register one"),
        *OPERATIONS_ON_AN_ENDPOINT,
    ],
)
def test_anonymous_user_can_do_nothing_with_webhooks(
    method: str, path: str, body: dict[str, Any] | None, alice: User, api_client: APIClient
) -> None:
    alices = make_endpoint(alice)
    make_delivery(alices, status=Status.FAILED)
    before = webhook_rows()

    response = _request(api_client, method, path, body, alices)

    assert_problem(response, 401, "not_authenticated")
    assert webhook_rows() == before


# With the real worker


def test_a_ping_reaches_the_receiver_and_the_log_shows_its_success(
    alice: User, auth_client: AuthClient, receiver: Receiver, run_worker: Worker
) -> None:
    client = auth_client(alice)
    created = client.post(WEBHOOKS_URL, {"url": receiver.url}, format="json")
    assert created.status_code == 201, created.content
    endpoint_id = created.json()["id"]
    ping = client.post(f"{endpoint_url(endpoint_id)}ping/")
    assert ping.status_code == 202, ping.content

    run_worker()

    [received] = receiver.received
    assert received.headers["webhook-id"] == ping.json()["message_id"]
    response = client.get(deliveries_url(endpoint_id))
    assert response.status_code == 200, response.content
    [delivery] = response.json()["results"]
    assert delivery["id"] == ping.json()["id"]
    assert delivery["status"] == "succeeded"
    assert delivery["next_attempt_at"] is None
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 200
    assert attempt["error"] == ""
    assert attempt["manual"] is False
    assert WebhookDelivery.objects.get().status == Status.SUCCEEDED


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("cD1hYmM=", id="position-not-a-number"),
        pytest.param("cD0xMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1", id="position-beyond-any-id"),
        pytest.param("cD0w", id="position-zero"),
        pytest.param("", id="empty"),
        pytest.param("cD0x" * 51, id="longer-than-the-spec-allows"),
    ],
)
def test_a_decodable_cursor_with_a_bad_position_is_refused_naming_it(
    alice: User, auth_client: AuthClient, cursor: str
) -> None:
    endpoint = baker.make("api.WebhookEndpoint", owner=alice, url="https://example.com/hook")

    response = auth_client(alice).get(f"/api/webhooks/{endpoint.pk}/deliveries/?cursor={cursor}")

    assert_field_error(response, "cursor", "invalid")

"""Webhook endpoints, their secrets and their delivery log."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view

from api.apidocs.responses import errors
from api.exceptions import WEBHOOK_NOT_FOUND, WebhookDisabled, WebhookLimitReached
from api.webhooks import messages
from api.webhooks.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
)

TAG = ["webhooks"]

ENDPOINT_EXAMPLE = OpenApiExample(
    "Registrations only",
    value={
        "url": "https://crm.example.com/hooks/events",
        "events": ["participant.registered", "participant.unregistered"],
        "description": "CRM sync",
    },
    request_only=True,
)

webhooks = extend_schema_view(
    list=extend_schema(
        tags=TAG,
        operation_id="webhooks_list",
        summary="List your webhook endpoints",
        description="Yours only, oldest first. Secrets are not shown.",
        responses={200: WebhookEndpointSerializer(many=True), **errors(400, 401, 404)},
    ),
    create=extend_schema(
        tags=TAG,
        operation_id="webhooks_create",
        summary="Register a webhook endpoint",
        description="Messages about the events you host, and invitations you receive, are "
        "POSTed to `url`, signed per Standard Webhooks (see the `webhooks` section). The "
        "response holds the signing `secret`: store it, it is not shown again (rotate it "
        "to get a new one). At most 10 endpoints per user.",
        request=WebhookEndpointCreateSerializer,
        examples=[ENDPOINT_EXAMPLE],
        responses={
            201: WebhookEndpointSecretSerializer,
            **errors(400, 401, 409, conflicts=[WebhookLimitReached]),
        },
    ),
    retrieve=extend_schema(
        tags=TAG,
        operation_id="webhooks_retrieve",
        summary="Show a webhook endpoint",
        responses={200: WebhookEndpointSerializer, **errors(401, 404, s404=WEBHOOK_NOT_FOUND)},
    ),
    partial_update=extend_schema(
        tags=TAG,
        operation_id="webhooks_partial_update",
        summary="Change a webhook endpoint",
        description="Any of url, events, description and enabled. `enabled: true` resumes "
        "deliveries after the service disabled the endpoint (410 Gone, or 5 days of "
        "failures): messages still pending are then attempted again.",
        request=WebhookEndpointUpdateSerializer,
        examples=[OpenApiExample("Re-enable", value={"enabled": True}, request_only=True)],
        responses={
            200: WebhookEndpointSerializer,
            **errors(400, 401, 404, s404=WEBHOOK_NOT_FOUND),
        },
    ),
    destroy=extend_schema(
        tags=TAG,
        operation_id="webhooks_destroy",
        summary="Delete a webhook endpoint",
        description="With its delivery log; nothing more is sent to it.",
        responses={
            204: OpenApiResponse(description="Deleted."),
            **errors(401, 404, s404=WEBHOOK_NOT_FOUND),
        },
    ),
)

rotate_secret = extend_schema(
    tags=TAG,
    operation_id="webhooks_rotate_secret",
    summary="Rotate the signing secret",
    description="A new secret, shown in this response only. For 24 hours every message "
    "carries two signatures (new and previous secret, space-separated in "
    "`webhook-signature`), so the receiver can switch without losing a message.",
    request=None,
    responses={200: WebhookEndpointSecretSerializer, **errors(401, 404, s404=WEBHOOK_NOT_FOUND)},
)

ping = extend_schema(
    tags=TAG,
    operation_id="webhooks_ping",
    summary="Send a test message",
    description="Queues a `webhook.ping` to this endpoint, delivered and logged like any "
    "other message; the response is its delivery.",
    request=None,
    responses={
        202: WebhookDeliverySerializer,
        **errors(401, 404, 409, conflicts=[WebhookDisabled], s404=WEBHOOK_NOT_FOUND),
    },
)

deliveries = extend_schema_view(
    list=extend_schema(
        tags=TAG,
        operation_id="webhooks_deliveries_list",
        summary="List the messages sent to an endpoint",
        description="Newest first, with every attempt. A message is `pending` until an "
        "attempt succeeds (`succeeded`) or its retries, over about three days, run out "
        "(`failed`). Attempts older than 30 days are pruned, and messages finished that "
        "long ago.",
        responses={
            200: WebhookDeliverySerializer(many=True),
            **errors(400, 401, 404, s404=WEBHOOK_NOT_FOUND),
        },
    ),
    retrieve=extend_schema(
        tags=TAG,
        operation_id="webhooks_deliveries_retrieve",
        summary="Show a message sent to an endpoint",
        description="With every attempt: poll it after a ping or a redelivery.",
        responses={
            200: WebhookDeliverySerializer,
            **errors(401, 404, s404="No such endpoint of yours, or no such delivery to it."),
        },
    ),
)

redeliver = extend_schema(
    tags=TAG,
    operation_id="webhooks_redeliver",
    summary="Send a message again",
    description="One more attempt with the same `webhook-id` and body, recorded as manual. "
    "If it fails, the message keeps its state and schedule; if an attempt is in flight, "
    "this one follows it.",
    request=None,
    responses={
        202: WebhookDeliverySerializer,
        **errors(
            401,
            404,
            409,
            conflicts=[WebhookDisabled],
            s404="No such endpoint of yours, or no such delivery to it.",
        ),
    },
)


# --- The messages sent (OpenAPI 3.1 `webhooks`, built by api.rest.openapi.add_webhooks) --
# Each type: its component name, who receives it, and its `data`, in the API's own
# representations (components the API's responses define).
def _ref(name: str) -> dict[str, object]:
    return {"$ref": f"#/components/schemas/{name}"}


def _pair(name: str, component: str = "") -> dict[str, object]:
    return {
        "type": "object",
        "required": ["event", name],
        "properties": {
            "event": {**_ref("Event"), "description": "As GET /api/events/{id}/ shows it."},
            name: _ref(component or name.capitalize()),
        },
    }


def _entry() -> dict[str, object]:
    return _pair("entry", "WaitingListEntry")


MESSAGES: dict[str, tuple[str, str, dict[str, object]]] = {
    messages.PARTICIPANT_REGISTERED: (
        "ParticipantRegisteredMessage",
        "To the host: someone registered for their event (directly, or by accepting an "
        "invitation).",
        _pair("participant"),
    ),
    messages.PARTICIPANT_UNREGISTERED: (
        "ParticipantUnregisteredMessage",
        "To the host: a participant left their event; `event` no longer counts them.",
        _pair("participant"),
    ),
    messages.INVITATION_RECEIVED: (
        "InvitationReceivedMessage",
        "To the invitee: a host invited them. `data` is the invitation as the invitee's "
        "GET /api/invitations/ lists it.",
        _ref("Invitation"),
    ),
    messages.INVITATION_ANSWERED: (
        "InvitationAnsweredMessage",
        "To the host who invited: the invitee accepted or declined. `data` is the "
        "invitation as the invitee's GET /api/invitations/ lists it.",
        _ref("Invitation"),
    ),
    messages.FEEDBACK_CREATED: (
        "FeedbackCreatedMessage",
        "To the host: a participant left feedback on their event.",
        _pair("feedback"),
    ),
    messages.EVENT_UPDATED: (
        "EventUpdatedMessage",
        "To the host: their event changed (`data` as GET /api/events/{id}/ shows it now).",
        _ref("Event"),
    ),
    messages.EVENT_DELETED: (
        "EventDeletedMessage",
        "To the host: their event was deleted; `data` is its last representation. (Events "
        "removed by the retention job send nothing.)",
        _ref("Event"),
    ),
    messages.WAITING_LIST_JOINED: (
        "WaitingListJoinedMessage",
        "To the host: someone joined the waiting list of their full event.",
        _entry(),
    ),
    messages.WAITING_LIST_LEFT: (
        "WaitingListLeftMessage",
        "To the host: someone left the waiting list of their event (if they held an offer, "
        "its seat went to the next person waiting).",
        _entry(),
    ),
    messages.WAITING_LIST_OFFERED: (
        "WaitingListOfferedMessage",
        "To the user whose turn it is: a seat of a full event is held for them until "
        "`entry.offer_expires_at`; accept it with POST /api/waiting-list/{entry_id}/accept/.",
        _entry(),
    ),
    messages.WAITING_LIST_EXPIRED: (
        "WaitingListExpiredMessage",
        "To the host: an offered seat was not accepted in time; it went to the next person "
        "waiting.",
        _entry(),
    ),
    messages.WEBHOOK_PING: (
        "WebhookPingMessage",
        "To one endpoint, when its owner asks for a test message (POST /api/webhooks/{id}/ping/).",
        {
            "type": "object",
            "required": ["endpoint_id"],
            "properties": {"endpoint_id": {"type": "integer", "minimum": 1}},
        },
    ),
}

RECEIVING = (
    "Every message is a POST of compact JSON, signed per Standard Webhooks 1.0: verify "
    "`webhook-signature` over `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's "
    "secret (e.g. with the `standardwebhooks` library) before trusting the body. Delivery is "
    "at least once and unordered: deduplicate on `webhook-id`, which stays the same on every "
    "retry and redelivery, and order by `timestamp`. Answer 2xx within 15 seconds; "
    "anything else (a redirect included) is retried with backoff for about three days, and "
    "410 Gone disables the endpoint at once. On 429 or 503 a `Retry-After` (seconds or a "
    "date, at most an hour) sets the next attempt."
)

HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The message's id: the same on every attempt; deduplicate on it.",
        "schema": {"type": "string", "pattern": "^msg_[0-9a-f]{32}$"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "When this attempt was signed, in Unix seconds; refuse old ones.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under "
        "the secret (without `whsec_`, base64-decoded); during the 24 hours after a rotation, "
        "two of them, space-separated (new secret and previous one).",
        "schema": {"type": "string", "pattern": "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)?$"},
    },
]


def message_schema(event_type: str) -> dict[str, object]:
    """The component schema of one message type's body."""
    _, description, data = MESSAGES[event_type]
    return {
        "type": "object",
        "description": description,
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"type": "string", "const": event_type},
            "timestamp": {
                "type": "string",
                "format": "date-time",
                "description": "When the change happened (the same on every attempt).",
            },
            "data": data,
        },
    }


def webhook_operation(event_type: str) -> dict[str, object]:
    name, description, _ = MESSAGES[event_type]
    return {
        "operationId": "webhook_" + event_type.replace(".", "_"),
        "summary": description.split(":")[0] + f": {event_type}",
        "description": f"{description}\n\n{RECEIVING}",
        "tags": ["webhooks"],
        "security": [],
        "parameters": HEADERS,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref(name)}},
        },
        "responses": {
            "2XX": {"description": "Received."},
            "default": {
                "description": "Not received: retried later, as is no answer within 15 s; "
                "410 Gone disables the endpoint at once."
            },
        },
    }

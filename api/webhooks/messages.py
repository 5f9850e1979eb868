"""What webhooks say: the message types, their bodies, and the outbox rows for them.

Services call the functions here inside the transaction of the change they report, so
a message exists exactly when its change committed: written with the change, never for
a rollback, and not lost if the process dies after the commit (the rows are the
outbox; a worker sends them). Bodies reuse the API's own representations, and the
bytes stored are the bytes signed and sent.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from api import event_reads
from api.models import (
    Event,
    EventParticipant,
    Feedback,
    Invitation,
    WaitingListEntry,
    WebhookDelivery,
    WebhookEndpoint,
)
from api.selectors import invitation_list_received, waiting_list_entries
from api.serializers import (
    FeedbackSerializer,
    InvitationSerializer,
    ParticipantSerializer,
    WaitingListEntrySerializer,
)
from api.webhooks.tasks import deliver

PARTICIPANT_REGISTERED = "participant.registered"
PARTICIPANT_UNREGISTERED = "participant.unregistered"
INVITATION_RECEIVED = "invitation.received"
INVITATION_ANSWERED = "invitation.answered"
FEEDBACK_CREATED = "feedback.created"
EVENT_UPDATED = "event.updated"
EVENT_DELETED = "event.deleted"
WAITING_LIST_JOINED = "waiting_list.joined"
WAITING_LIST_LEFT = "waiting_list.left"
WAITING_LIST_OFFERED = "waiting_list.offered"
WAITING_LIST_EXPIRED = "waiting_list.expired"
WEBHOOK_PING = "webhook.ping"

# Every type an endpoint may subscribe to, in the order the spec lists them.
EVENT_TYPES = (
    PARTICIPANT_REGISTERED,
    PARTICIPANT_UNREGISTERED,
    INVITATION_RECEIVED,
    INVITATION_ANSWERED,
    FEEDBACK_CREATED,
    EVENT_UPDATED,
    EVENT_DELETED,
    WAITING_LIST_JOINED,
    WAITING_LIST_LEFT,
    WAITING_LIST_OFFERED,
    WAITING_LIST_EXPIRED,
    WEBHOOK_PING,
)

_timestamp = serializers.DateTimeField().to_representation


def message_id() -> str:
    """A new ``webhook-id``: unique, and the receiver's key for deduplication."""
    return f"msg_{secrets.token_hex(16)}"


def body(event_type: str, data: dict[str, Any], *, at: datetime) -> str:
    """The compact JSON text sent (its UTF-8 bytes are what is signed)."""
    return json.dumps(
        {"type": event_type, "timestamp": _timestamp(at), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def event_data(event: Event) -> dict[str, Any]:
    """The event as ``GET /api/events/{id}/`` shows it, read inside the transaction."""
    row = event_reads.event_row(event.pk)
    if row is None:
        raise LookupError(f"event {event.pk} is not readable in this transaction")
    return event_reads.render_event(row)


def invitation_data(invitation: Invitation) -> dict[str, Any]:
    """The invitation as its invitee's ``GET /api/invitations/`` lists it."""
    row = invitation_list_received(user=invitation.invitee).get(pk=invitation.pk)
    return dict(InvitationSerializer(row).data)


def emit(*, user_id: int, event_type: str, data: Callable[[], dict[str, Any]]) -> int:
    """Write one delivery per enabled endpoint of ``user_id`` subscribed to the type,
    each with a task to send it, in the caller's transaction; returns how many.

    ``data`` is called only when some endpoint wants the message, so a change for a
    user without webhooks costs one indexed query.
    """
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(owner_id=user_id, enabled=True).only(
            "id", "events"
        )
        if endpoint.events is None or event_type in endpoint.events
    ]
    if not endpoints:
        return 0
    now = timezone.now()
    text = body(event_type, data(), at=now)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            message_id=message_id(),
            event_type=event_type,
            payload=text,
            created_at=now,
            next_attempt_at=now,
            queued_at=now,
        )
        for endpoint in endpoints
    )
    for delivery in deliveries:
        deliver.enqueue(delivery.pk)
    return len(deliveries)


def participant_registered(event: Event, participant: EventParticipant) -> None:
    _participant(PARTICIPANT_REGISTERED, event, participant)


def participant_unregistered(event: Event, participant: EventParticipant) -> None:
    """Called after the delete: the event's count no longer includes the participant."""
    _participant(PARTICIPANT_UNREGISTERED, event, participant)


def _participant(event_type: str, event: Event, participant: EventParticipant) -> None:
    emit(
        user_id=event.host_id,
        event_type=event_type,
        data=lambda: {
            "event": event_data(event),
            "participant": dict(ParticipantSerializer(participant).data),
        },
    )


def invitation_received(invitation: Invitation) -> None:
    emit(
        user_id=invitation.invitee_id,
        event_type=INVITATION_RECEIVED,
        data=lambda: invitation_data(invitation),
    )


def invitation_answered(invitation: Invitation) -> None:
    emit(
        user_id=invitation.inviter_id,
        event_type=INVITATION_ANSWERED,
        data=lambda: invitation_data(invitation),
    )


def feedback_created(feedback: Feedback) -> None:
    emit(
        user_id=feedback.event.host_id,
        event_type=FEEDBACK_CREATED,
        data=lambda: {
            "event": event_data(feedback.event),
            "feedback": dict(FeedbackSerializer(feedback).data),
        },
    )


def event_updated(event: Event) -> None:
    emit(user_id=event.host_id, event_type=EVENT_UPDATED, data=lambda: event_data(event))


def event_deleted(event: Event) -> None:
    """Called before the delete, in its transaction: the body is the last representation."""
    emit(user_id=event.host_id, event_type=EVENT_DELETED, data=lambda: event_data(event))


def entry_data(entry: WaitingListEntry) -> dict[str, Any]:
    """The waiting-list entry as the API shows it, read inside the transaction."""
    return dict(WaitingListEntrySerializer(waiting_list_entries().get(pk=entry.pk)).data)


def _waiting_list(event_type: str, user_id: int, entry: WaitingListEntry) -> None:
    emit(
        user_id=user_id,
        event_type=event_type,
        data=lambda: {"event": event_data(entry.event), "entry": entry_data(entry)},
    )


def waiting_list_joined(entry: WaitingListEntry) -> None:
    _waiting_list(WAITING_LIST_JOINED, entry.event.host_id, entry)


def waiting_list_left(entry: WaitingListEntry) -> None:
    _waiting_list(WAITING_LIST_LEFT, entry.event.host_id, entry)


def waiting_list_expired(entry: WaitingListEntry) -> None:
    _waiting_list(WAITING_LIST_EXPIRED, entry.event.host_id, entry)


def waiting_list_offered(entry: WaitingListEntry) -> None:
    """To the user whose turn it is, not the host: they have a seat to accept."""
    _waiting_list(WAITING_LIST_OFFERED, entry.user_id, entry)


def ping(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.ping`` to this endpoint only, whatever it subscribes to."""
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=message_id(),
        event_type=WEBHOOK_PING,
        payload=body(WEBHOOK_PING, {"endpoint_id": endpoint.pk}, at=now),
        created_at=now,
        next_attempt_at=now,
        queued_at=now,
    )
    deliver.enqueue(delivery.pk)
    return delivery

"""Real-time notifications: what the services send to users' open WebSockets.

Services call these from ``transaction.on_commit``, so a message leaves only for a row
that was committed. Each user's sockets share one channel-layer group, so every tab
they have open gets the message; spec/asyncapi.yaml documents the messages.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from rest_framework.renderers import JSONRenderer

from api.models import Invitation, WaitingListEntry
from api.selectors import invitation_list_received, waiting_list_of_user
from api.serializers import InvitationSerializer, WaitingListEntrySerializer

logger = logging.getLogger(__name__)

INVITATION_RECEIVED = "invitation.received"
INVITATION_ANSWERED = "invitation.answered"
WAITING_LIST_OFFERED = "waiting_list.offered"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def invitation_received(invitation: Invitation) -> None:
    """Tell the invitee, on every socket they have open, that they were invited."""
    _send(user_id=invitation.invitee_id, message_type=INVITATION_RECEIVED, invitation=invitation)


def invitation_answered(invitation: Invitation) -> None:
    """Tell the host who sent the invitation that it was accepted or declined."""
    _send(user_id=invitation.inviter_id, message_type=INVITATION_ANSWERED, invitation=invitation)


def _representation(invitation: Invitation) -> dict[str, Any] | None:
    # Read back through the invitee's GET /api/invitations/ queryset and render with the
    # same renderer, so the message carries exactly the committed row as the API shows it.
    row = invitation_list_received(user=invitation.invitee).filter(pk=invitation.pk).first()
    if row is None:
        return None
    return json.loads(JSONRenderer().render(InvitationSerializer(row).data))


def waiting_list_offered(entry: WaitingListEntry) -> None:
    """Tell the user whose turn it is that a seat is held for them, with the entry as
    their ``GET /api/me/waiting-list/`` lists it."""
    row = waiting_list_of_user(user=entry.user).filter(pk=entry.pk).first()
    if row is None:
        # Accepted, declined, expired or deleted since the commit: nothing to offer.
        return
    representation = json.loads(JSONRenderer().render(WaitingListEntrySerializer(row).data))
    _group_send(
        entry.user_id, {"type": WAITING_LIST_OFFERED, "entry": representation}, f"entry {entry.pk}"
    )


def _send(*, user_id: int, message_type: str, invitation: Invitation) -> None:
    representation = _representation(invitation)
    if representation is None:
        # Deleted (with its event) between the commit and now: nothing left to announce.
        return
    message = {"type": message_type, "invitation": representation}
    _group_send(user_id, message, f"invitation {invitation.pk}")


def _group_send(user_id: int, message: dict[str, Any], subject: str) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(user_group(user_id), message)
    except Exception:
        # Delivery is best effort: the change is committed and listed by the API
        # whatever happens here, so a channel layer that is down is logged, not raised.
        logger.exception("Could not send %s for %s to user %s", message["type"], subject, user_id)

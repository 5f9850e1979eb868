"""Plain reads shared by the endpoints and rules that need the same rows.

Events themselves are read on their fast path, ``api.event_reads``.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from api.models import Event, EventCreation, EventParticipant, Feedback, Invitation, User


def participant_list(*, event: Event) -> QuerySet[EventParticipant]:
    return EventParticipant.objects.filter(event=event).select_related("user")


def feedback_list(*, event: Event) -> QuerySet[Feedback]:
    return Feedback.objects.filter(event=event).select_related("user")


def invitation_list_received(*, user: User) -> QuerySet[Invitation]:
    """Invitations are visible to their invitee only: to anyone else they do not exist."""
    return Invitation.objects.filter(invitee=user).select_related("event", "inviter", "invitee")


def is_participant(*, event: Event, user: User) -> bool:
    return EventParticipant.objects.filter(event=event, user=user).exists()


def event_creation_wait(*, user: User, now: datetime | None = None) -> float | None:
    """Seconds until ``user`` may create another event, or None if they may now."""
    now = now or timezone.now()
    window_start = now - settings.EVENT_CREATION_WINDOW
    newest = EventCreation.objects.filter(user=user, created_at__gt=window_start).order_by(
        "-created_at"
    )
    created_at = list(newest.values_list("created_at", flat=True)[: settings.EVENT_CREATION_LIMIT])
    if len(created_at) < settings.EVENT_CREATION_LIMIT:
        return None
    # A slot frees when the limit-th newest creation leaves the rolling window: the
    # older ones (if the limit was lowered) have left it by then too.
    return (created_at[-1] + settings.EVENT_CREATION_WINDOW - now).total_seconds()

"""Plain reads shared by the endpoints and rules that need the same rows.

Events themselves are read on their fast path, ``api.event_reads``.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from api.models import (
    Event,
    EventCreation,
    EventParticipant,
    Feedback,
    Invitation,
    User,
    WaitingListEntry,
)


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


def waiting_list_entries(*, now: datetime | None = None) -> QuerySet[WaitingListEntry]:
    """Entries as the API shows them: the status as of ``now`` and the queue position.

    A position is the count of waiting entries ahead (first come, first served), made
    per row by an index range scan of the event's queue, for the page's rows only.
    """
    now = now or timezone.now()
    status = WaitingListEntry.Status
    ahead = (
        WaitingListEntry.objects.filter(event=OuterRef("event"), status=status.WAITING)
        .filter(
            Q(joined_at__lt=OuterRef("joined_at"))
            | Q(joined_at=OuterRef("joined_at"), id__lt=OuterRef("id"))
        )
        .order_by()
        .annotate(total=Func("pk", function="COUNT"))
        .values("total")
    )
    return WaitingListEntry.objects.select_related("event", "user").annotate(
        shown_status=Case(
            When(status=status.OFFERED, offer_expires_at__lte=now, then=Value(status.EXPIRED)),
            default=F("status"),
            output_field=CharField(),
        ),
        position=Case(
            When(
                status=status.WAITING,
                then=Subquery(ahead, output_field=IntegerField()) + 1,
            ),
            default=None,
            output_field=IntegerField(),
        ),
    )


def waiting_list_of_event(*, event: Event) -> QuerySet[WaitingListEntry]:
    """The host's view: every entry of the event, open and closed, in queue order."""
    return waiting_list_entries().filter(event=event).order_by("joined_at", "id")


def waiting_list_of_user(*, user: User) -> QuerySet[WaitingListEntry]:
    """The user's open entries: waiting for an event that has not started, or holding
    a live offer (offers never outlive the start). Soonest events first."""
    now = timezone.now()
    status = WaitingListEntry.Status
    return (
        waiting_list_entries(now=now)
        .filter(user=user)
        .filter(
            Q(status=status.WAITING, event__start_time__gt=now)
            | Q(status=status.OFFERED, offer_expires_at__gt=now)
        )
        .order_by("event__start_time", "event_id", "id")
    )

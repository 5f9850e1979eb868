"""Read queries shared by every endpoint that lists or shows the same rows."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from api.models import Event, EventParticipant, Feedback, Invitation


def event_queryset() -> QuerySet[Event]:
    # A correlated subquery counts participants of the page's rows only; an
    # annotate(Count(...)) over a join would aggregate every event before the page is cut.
    participants_count = (
        EventParticipant.objects.filter(event=OuterRef("pk"))
        .order_by()
        .values("event")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Event.objects.select_related("host").annotate(
        participants_count=Coalesce(Subquery(participants_count, output_field=IntegerField()), 0)
    )


def participant_list(*, event: Event) -> QuerySet[EventParticipant]:
    return EventParticipant.objects.filter(event=event).select_related("user")


def feedback_list(*, event: Event) -> QuerySet[Feedback]:
    return Feedback.objects.filter(event=event).select_related("user")


def invitation_list_received(*, user: AbstractBaseUser) -> QuerySet[Invitation]:
    """Invitations are visible to their invitee only: to anyone else they do not exist."""
    return Invitation.objects.filter(invitee=user).select_related("event", "inviter", "invitee")


def is_participant(*, event: Event, user: AbstractBaseUser) -> bool:
    return EventParticipant.objects.filter(event=event, user=user).exists()

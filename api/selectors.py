"""Read queries shared by every endpoint that lists or shows the same rows."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Func, IntegerField, OuterRef, QuerySet, Subquery

from api.models import Event, EventParticipant, Feedback, Invitation, User

# The columns of an event the API shows, besides its host's name and participants_count.
EVENT_ROW_FIELDS = (
    "id",
    "title",
    "description",
    "host_id",
    "start_time",
    "end_time",
    "location",
    "max_participants",
    "created_at",
)


def _participants_count() -> Subquery:
    # A correlated subquery counts participants of the page's rows only; an
    # annotate(Count(...)) over a join would aggregate every event before the page is cut.
    # Without GROUP BY, COUNT is 0 rather than NULL for an event nobody joined.
    return Subquery(
        EventParticipant.objects.filter(event=OuterRef("pk"))
        .order_by()
        .annotate(total=Func("pk", function="COUNT"))
        .values("total"),
        output_field=IntegerField(),
    )


def event_queryset() -> QuerySet[Event]:
    return Event.objects.select_related("host").annotate(participants_count=_participants_count())


def event_rows() -> QuerySet[Event, dict[str, Any]]:
    """Events as the plain rows ``serializers.event_representation`` renders: only the
    columns shown, and no model instances (bench/ measured these as the largest cost of
    the list after the connection).

    The host's name is a subquery rather than a join, so counting the rows for the
    paginator reads the events table alone.
    """
    # Built once: building the subqueries costs more than the query they make. A clone
    # per call, as DRF does with a view's queryset attribute.
    return _event_rows().all()


@cache
def _event_rows() -> QuerySet[Event, dict[str, Any]]:
    host_username = User.objects.filter(pk=OuterRef("host_id")).values("username")
    return Event.objects.values(
        *EVENT_ROW_FIELDS,
        host_username=Subquery(host_username),
        participants_count=_participants_count(),
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

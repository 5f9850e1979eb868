"""Read queries shared by every endpoint that lists or shows the same rows."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.sql.compiler import SQLCompiler

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


def event_row(pk: int) -> dict[str, Any] | None:
    """One event as ``event_rows().get(pk=pk)`` gives it, or None when there is none.

    The detail page is one indexed lookup, and building and compiling its query cost
    more than running it (bench/: about a quarter of the request). So the query is
    compiled once per database connection and then only executed; the compiler that
    made the SQL also converts the columns, exactly as ``values()`` would.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    compiled: _EventRowStatement | None = getattr(_compiled, "event_row", None)
    if compiled is None or compiled.connection is not connection:
        compiled = _compiled.event_row = _EventRowStatement(connection)
    return compiled.fetch(pk)


class _EventRowStatement:
    # Any integer would do: it marks where the id goes among the parameters.
    _PK_MARKER = 7_474_747

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        query = _event_rows().filter(pk=self._PK_MARKER).order_by().query
        self.compiler: SQLCompiler = query.get_compiler(connection=connection)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        if self.params.count(self._PK_MARKER) != 1:
            raise AssertionError(f"the event row query has unexpected parameters: {params}")
        self.pk_index = self.params.index(self._PK_MARKER)
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        self.connection = connection

    def fetch(self, pk: int) -> dict[str, Any] | None:
        params = self.params.copy()
        params[self.pk_index] = pk
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        for row in self.compiler.results_iter(results=[rows]):
            return dict(zip(self.names, row, strict=True))
        return None


# Compilers belong to the connection they compiled for, and connections to threads: a
# statement per thread, gone with its thread.
_compiled = threading.local()


def participant_list(*, event: Event) -> QuerySet[EventParticipant]:
    return EventParticipant.objects.filter(event=event).select_related("user")


def feedback_list(*, event: Event) -> QuerySet[Feedback]:
    return Feedback.objects.filter(event=event).select_related("user")


def invitation_list_received(*, user: User) -> QuerySet[Invitation]:
    """Invitations are visible to their invitee only: to anyone else they do not exist."""
    return Invitation.objects.filter(invitee=user).select_related("event", "inviter", "invitee")


def is_participant(*, event: Event, user: User) -> bool:
    return EventParticipant.objects.filter(event=event, user=user).exists()

"""The events fast path, whole: what an event looks like in the API and how it is read.

Lists and shows of events are the API's hottest reads. bench/ (``nox -s bench``, the
throughput table against a hand-written psycopg floor) measured a ModelSerializer and
model instances as the largest costs of the list after the connection, and building and
compiling the detail query as a quarter of the detail request. So events are read as
plain rows with only the columns shown, rendered by a function rather than a
serializer, and the detail statement is compiled once per thread. ``EVENT_FIELDS`` is
the one list of what an event shows: ``EventSerializer`` (from which the spec is
generated) declares the same fields, and a test holds the two renderings equal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    DateTimeField,
    Expression,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.sql.compiler import SQLCompiler
from django.http import Http404
from django.utils import timezone

from api.models import Event, EventParticipant, User, WaitingListEntry

# What an event shows, in the API's order.
EVENT_FIELDS = (
    "id",
    "title",
    "description",
    "host",
    "start_time",
    "end_time",
    "location",
    "max_participants",
    "participants_count",
    "seats_available",
    "waiting_list_enabled",
    "waiting_list_offer_hours",
    "waiting_list_count",
    "created_at",
)
EVENT_READ_ONLY_FIELDS = (
    "id",
    "host",
    "participants_count",
    "seats_available",
    "waiting_list_count",
    "created_at",
)
# Shown from other tables: the host's name (beside host_id), the participant count and
# the waiting list's counts.
_COMPUTED_FIELDS = {"host", "participants_count", "seats_available", "waiting_list_count"}
_COLUMNS = (*(name for name in EVENT_FIELDS if name not in _COMPUTED_FIELDS), "host_id")


def event_rows() -> QuerySet[Event, dict[str, Any]]:
    """Events as the plain rows ``render_events`` renders: only the columns shown, and no
    model instances.

    The host's name is a subquery rather than a join, so counting the rows for the
    paginator reads the events table alone.
    """
    # Built once: building the subqueries costs more than the query they make. A clone
    # per call, as DRF does with a view's queryset attribute.
    return _event_rows().all()


class CompiledNow(Expression):
    """The current time as a parameter, read when the query is compiled, not built.

    The events queryset is built once (``_event_rows``) but compiled per request, so an
    offer's expiry is compared with the time of the request. The one statement compiled
    for good (``_EventRowStatement``) compiles it as a marker and sets the time per fetch.
    """

    output_field = DateTimeField()

    def as_sql(self, compiler: Any, connection: BaseDatabaseWrapper) -> Any:
        moment = getattr(_compiled, "now_marker", None) or timezone.now()
        return "%s", (connection.ops.adapt_datetimefield_value(moment),)


def _count(queryset: QuerySet[Any]) -> Subquery:
    # A correlated subquery counts for the page's rows only; an annotate(Count(...)) over
    # a join would aggregate every event before the page is cut. Without GROUP BY, COUNT
    # is 0 rather than NULL for an event with no such rows.
    return Subquery(
        queryset.order_by().annotate(total=Func("pk", function="COUNT")).values("total"),
        output_field=IntegerField(),
    )


@cache
def _event_rows() -> QuerySet[Event, dict[str, Any]]:
    host_username = User.objects.filter(pk=OuterRef("host_id")).values("username")
    entries = WaitingListEntry.objects.filter(event=OuterRef("pk"))
    Status = WaitingListEntry.Status
    return Event.objects.values(
        *_COLUMNS,
        host_username=Subquery(host_username),
        participants_count=_count(EventParticipant.objects.filter(event=OuterRef("pk"))),
        waiting=_count(entries.filter(status=Status.WAITING)),
        # Offers hold their seats until the instant they expire (api.waiting_list).
        held=_count(entries.filter(status=Status.OFFERED, offer_expires_at__gt=CompiledNow())),
    )


def event_row(pk: int) -> dict[str, Any] | None:
    """One event as ``event_rows().get(pk=pk)`` gives it, or None when there is none.

    The detail page is one indexed lookup, so its query is compiled once per database
    connection and then only executed; the compiler that made the SQL also converts the
    columns, exactly as ``values()`` would.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    compiled: _EventRowStatement | None = getattr(_compiled, "event_row", None)
    if compiled is None or compiled.connection is not connection:
        compiled = _compiled.event_row = _EventRowStatement(connection)
    return compiled.fetch(pk)


class _EventRowStatement:
    # Any integer would do: it marks where the id goes among the parameters.
    _PK_MARKER = 7_474_747
    # And any moment where the time of the fetch goes (CompiledNow).
    _NOW_MARKER = datetime(2001, 2, 3, 4, 5, 6, 747_474, tzinfo=UTC)

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        query = _event_rows().filter(pk=self._PK_MARKER).order_by().query
        self.compiler: SQLCompiler = query.get_compiler(connection=connection)
        _compiled.now_marker = self._NOW_MARKER
        try:
            self.sql, params = self.compiler.as_sql()
        finally:
            _compiled.now_marker = None
        self.params = list(params)
        now_marker = connection.ops.adapt_datetimefield_value(self._NOW_MARKER)
        self.now_indexes = [i for i, value in enumerate(self.params) if value == now_marker]
        if self.params.count(self._PK_MARKER) != 1 or len(self.now_indexes) != 1:
            raise AssertionError(f"the event row query has unexpected parameters: {params}")
        self.pk_index = self.params.index(self._PK_MARKER)
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        self.connection = connection

    def fetch(self, pk: int) -> dict[str, Any] | None:
        params = self.params.copy()
        params[self.pk_index] = pk
        now = self.connection.ops.adapt_datetimefield_value(timezone.now())
        for index in self.now_indexes:
            params[index] = now
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        for row in self.compiler.results_iter(results=[rows]):
            return dict(zip(self.names, row, strict=True))
        return None


# Compilers belong to the connection they compiled for, and connections to threads: a
# statement per thread, gone with its thread.
_compiled = threading.local()


def render_events(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What ``EventSerializer(events, many=True).data`` is, built from ``event_rows()``."""
    zone = timezone.get_current_timezone()
    return [_render(row, zone) for row in rows]


def render_event(row: dict[str, Any]) -> dict[str, Any]:
    """What ``EventSerializer(event).data`` is, built from one of ``event_rows()``."""
    return _render(row, timezone.get_current_timezone())


def event_or_404(pk: int) -> dict[str, Any]:
    """The event with id ``pk`` as the API shows it; a 404 when there is none."""
    row = event_row(pk)
    if row is None:
        raise Http404
    return render_event(row)


def _render(row: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "host": {"id": row["host_id"], "username": row["host_username"]},
        "start_time": _timestamp(row["start_time"], zone),
        "end_time": _timestamp(row["end_time"], zone),
        "location": row["location"],
        "max_participants": row["max_participants"],
        "participants_count": row["participants_count"],
        "seats_available": seats_available(
            capacity=row["max_participants"],
            participants=row["participants_count"],
            held=row["held"],
            waiting=row["waiting"],
        ),
        "waiting_list_enabled": row["waiting_list_enabled"],
        "waiting_list_offer_hours": row["waiting_list_offer_hours"],
        "waiting_list_count": row["waiting"] + row["held"],
        "created_at": _timestamp(row["created_at"], zone),
    }


def seats_available(*, capacity: int, participants: int, held: int, waiting: int) -> int:
    """What events show as ``seats_available``: none while anyone waits, since a seat
    that frees is offered to the waiting list first (api.waiting_list)."""
    return 0 if waiting else max(capacity - participants - held, 0)


def _timestamp(value: datetime, zone: tzinfo) -> str:
    # DRF's DateTimeField with ISO 8601 output, with the zone looked up once per response
    # rather than once per value.
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text

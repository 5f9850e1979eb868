"""Events and what is done to one: participation, invitations and feedback.

Who may do what is declared on each action; the order of answers (401, 404, 403, 429,
400, 409) follows from DRF's: authentication and ``has_permission`` first, then the
lookup, then object permissions, then throttles, validation and the service's rules.
"""

from __future__ import annotations

import builtins
from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from api import event_reads, selectors, services
from api.apidocs import events as docs
from api.apidocs import waiting_list as waiting_docs
from api.exceptions import EVENT_NOT_FOUND
from api.filters import EventFilter
from api.ids import ID_PATH_PATTERN
from api.models import Event
from api.permissions import (
    IsEventHost,
    IsEventHostOrReadOnly,
    IsEventHostToRead,
    IsEventParticipantOrReadOnly,
    signed_in_user,
)
from api.rest.pagination import CappedPageNumberPagination, PageNumberPagination
from api.rest.query import StrictRequests
from api.serializers import (
    EventSerializer,
    FeedbackSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    ParticipantSerializer,
    WaitingListEntrySerializer,
)
from api.throttles import EventCreationThrottle

SIGNED_IN = [IsAuthenticated]
HOST_ONLY = [IsAuthenticated, IsEventHost]
# Anyone may read an event's feedback; only its participants may leave it.
PARTICIPANTS_WRITE = [IsEventParticipantOrReadOnly]
# Anyone signed in may join or leave a waiting list; only the host may read it.
WAITING_LIST = [IsAuthenticated, IsEventHostToRead]
# An event's participants and feedback are bounded by its capacity: plain pages, and
# none of the events list's filters (in the spec either).
NESTED_LIST: dict[str, Any] = {"pagination_class": PageNumberPagination, "filterset_class": None}


@docs.events
class EventViewSet(StrictRequests, viewsets.ModelViewSet):
    # Writes and nested actions need the model instance only (host for permissions, the
    # row to lock); every response shows the event as api.event_reads renders it.
    queryset = Event.objects.all()
    serializer_class = EventSerializer
    permission_classes = [IsEventHostOrReadOnly]
    # The events list grows with the whole table, so its count and depth are capped.
    pagination_class = CappedPageNumberPagination
    filterset_class = EventFilter
    lookup_value_regex = ID_PATH_PATTERN
    http_method_names = ["get", "head", "post", "put", "patch", "delete"]
    list_actions = frozenset({"list", "participants", "feedback", "waiting_list"})

    def get_throttles(self) -> builtins.list[BaseThrottle]:
        # The creation limit is the only throttle, and only creation has it.
        return [EventCreationThrottle()] if self.action == "create" else []

    def get_object(self) -> Event:
        try:
            return cast("Event", super().get_object())
        except Http404 as error:
            raise NotFound(EVENT_NOT_FOUND) from error

    def filter_queryset(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        # Only the list filters: a query string on /events/{id}/... must not hide the event.
        # With no filter parameter the default order stands, and building the filter form
        # would cost more than the page's query (bench/).
        if self.action != "list" or self.request.query_params.keys().isdisjoint(
            EventFilter.base_filters
        ):
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = self.filter_queryset(event_reads.event_rows())
        # Always a page: the view has a pagination class, and event_rows() gives rows.
        page = cast("list[dict[str, Any]]", self.paginate_queryset(rows))
        return self.get_paginated_response(event_reads.render_events(page))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Anyone may read an event, so there is no object permission to check and the
        # row is fetched without building a queryset.
        event = event_reads.event_or_404(int(kwargs[self.lookup_field]))
        self.check_query_string()
        return Response(event)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.event_create(host=signed_in_user(request), **serializer.validated_data)
        return Response(event_reads.event_or_404(event.pk), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        serializer = self.get_serializer(
            event, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.event_update(event=event, **serializer.validated_data)
        return Response(event_reads.event_or_404(event.pk))

    def perform_destroy(self, instance: Event) -> None:
        services.event_delete(event=instance)

    @docs.participate
    @action(detail=True, methods=["post"], url_path="register", permission_classes=SIGNED_IN)
    def participate(self, request: Request, pk: str | None = None) -> Response:
        participation = services.participation_create(
            event=self.get_object(), user=signed_in_user(request)
        )
        return Response(ParticipantSerializer(participation).data, status=status.HTTP_201_CREATED)

    @docs.leave
    @action(detail=True, methods=["delete"], url_path="unregister", permission_classes=SIGNED_IN)
    def leave(self, request: Request, pk: str | None = None) -> Response:
        services.participation_delete(event=self.get_object(), user=signed_in_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @docs.participants
    @action(detail=True, methods=["get"], permission_classes=SIGNED_IN, **NESTED_LIST)
    def participants(self, request: Request, pk: str | None = None) -> Response:
        page = self.paginate_queryset(selectors.participant_list(event=self.get_object()))
        return self.get_paginated_response(ParticipantSerializer(page, many=True).data)

    @docs.invite
    @action(detail=True, methods=["post"], permission_classes=HOST_ONLY)
    def invite(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        serializer = InvitationCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            event=event,
            inviter=signed_in_user(request),
            invitee=serializer.validated_data["invitee"],
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @docs.feedback_list
    @action(detail=True, methods=["get"], permission_classes=PARTICIPANTS_WRITE, **NESTED_LIST)
    def feedback(self, request: Request, pk: str | None = None) -> Response:
        page = self.paginate_queryset(selectors.feedback_list(event=self.get_object()))
        return self.get_paginated_response(FeedbackSerializer(page, many=True).data)

    @docs.feedback_create
    @feedback.mapping.post
    def leave_feedback(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback = services.feedback_create(
            event=event, user=signed_in_user(request), **serializer.validated_data
        )
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)

    # A waiting list is not bounded by the capacity, but it is one event's: plain pages.
    @waiting_docs.waiting_list
    @action(
        detail=True,
        methods=["get"],
        url_path="waiting-list",
        permission_classes=WAITING_LIST,
        **NESTED_LIST,
    )
    def waiting_list(self, request: Request, pk: str | None = None) -> Response:
        page = self.paginate_queryset(selectors.waiting_list_of_event(event=self.get_object()))
        return self.get_paginated_response(WaitingListEntrySerializer(page, many=True).data)

    @waiting_docs.waiting_list_join
    @waiting_list.mapping.post
    def join_waiting_list(self, request: Request, pk: str | None = None) -> Response:
        entry = services.waiting_list_join(event=self.get_object(), user=signed_in_user(request))
        shown = selectors.waiting_list_entries().get(pk=entry.pk)
        return Response(WaitingListEntrySerializer(shown).data, status=status.HTTP_201_CREATED)

    @waiting_docs.waiting_list_leave
    @waiting_list.mapping.delete
    def leave_waiting_list(self, request: Request, pk: str | None = None) -> Response:
        services.waiting_list_leave(event=self.get_object(), user=signed_in_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

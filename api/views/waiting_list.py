"""The caller's side of waiting lists: their open entries, and answering an offer.

Joining, leaving and the host's view of one event's list are actions on the event
(api.views.events).
"""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from django.http import Http404
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors, services
from api.apidocs import waiting_list as docs
from api.exceptions import ENTRY_NOT_FOUND
from api.ids import ID_PATH_PATTERN
from api.models import WaitingListEntry
from api.permissions import signed_in_user
from api.rest.pagination import PageNumberPagination
from api.rest.query import StrictRequests
from api.serializers import ParticipantSerializer, WaitingListEntrySerializer


@docs.my_waiting_list
class MyWaitingListView(StrictRequests, generics.ListAPIView):
    serializer_class = WaitingListEntrySerializer
    permission_classes = [IsAuthenticated]
    pagination_class = PageNumberPagination
    filterset_class = None
    http_method_names = ["get", "head"]

    def get_queryset(self) -> QuerySet[WaitingListEntry]:
        if getattr(self, "swagger_fake_view", False):
            return WaitingListEntry.objects.none()
        return selectors.waiting_list_of_user(user=signed_in_user(self.request))


class WaitingListEntryViewSet(StrictRequests, viewsets.GenericViewSet):
    # Only the two answers to an offer: entries are listed by /api/me/waiting-list/.
    serializer_class = WaitingListEntrySerializer
    permission_classes = [IsAuthenticated]
    lookup_url_kwarg = "entry_id"
    lookup_value_regex = ID_PATH_PATTERN
    http_method_names = ["post"]

    def get_queryset(self) -> QuerySet[WaitingListEntry]:
        # Another user's entry does not exist for the caller: 404, as for invitations.
        if getattr(self, "swagger_fake_view", False):
            return WaitingListEntry.objects.none()
        return WaitingListEntry.objects.filter(user=signed_in_user(self.request))

    def get_object(self) -> WaitingListEntry:
        try:
            return cast("WaitingListEntry", super().get_object())
        except Http404 as error:
            raise NotFound(ENTRY_NOT_FOUND) from error

    @docs.accept
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, entry_id: str) -> Response:
        participant = services.waiting_list_accept(
            entry=self.get_object(), user=signed_in_user(request)
        )
        return Response(ParticipantSerializer(participant).data, status=status.HTTP_201_CREATED)

    @docs.decline
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, entry_id: str) -> Response:
        entry = services.waiting_list_decline(entry=self.get_object(), user=signed_in_user(request))
        shown = selectors.waiting_list_entries().get(pk=entry.pk)
        return Response(WaitingListEntrySerializer(shown).data)

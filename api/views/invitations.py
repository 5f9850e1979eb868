"""The invitations a user received: list, show, accept or decline."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404
from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors, services
from api.apidocs import invitations as docs
from api.exceptions import INVITATION_NOT_FOUND
from api.filters import InvitationFilter
from api.ids import ID_PATH_PATTERN
from api.models import Invitation
from api.permissions import signed_in_user
from api.rest.query import StrictRequests
from api.serializers import InvitationAnswerSerializer, InvitationSerializer


@docs.invitations
class InvitationViewSet(
    StrictRequests,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    lookup_value_regex = ID_PATH_PATTERN
    http_method_names = ["get", "head", "put"]

    def get_queryset(self) -> QuerySet[Invitation]:
        # Invitations exist for their invitee only. drf-spectacular reads the model from
        # here with no signed-in user.
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return selectors.invitation_list_received(user=signed_in_user(self.request))

    def get_object(self) -> Invitation:
        try:
            return cast("Invitation", super().get_object())
        except Http404 as error:
            raise NotFound(INVITATION_NOT_FOUND) from error

    def filter_queryset(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        # Only the list filters: ?status= on one invitation must not hide it.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        invitation = self.get_object()
        serializer = InvitationAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answered = services.invitation_answer(
            invitation=invitation,
            user=signed_in_user(request),
            status=serializer.validated_data["status"],
        )
        return Response(InvitationSerializer(answered).data)

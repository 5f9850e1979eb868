"""A user's webhook endpoints, their secrets, and the log of what was sent to them."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from api.apidocs import webhooks as docs
from api.exceptions import DELIVERY_NOT_FOUND, WEBHOOK_NOT_FOUND
from api.filters import WebhookDeliveryFilter
from api.ids import ID_PATH_PATTERN
from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.permissions import signed_in_user
from api.rest.pagination import CursorPagination, PageNumberPagination
from api.rest.query import StrictRequests
from api.webhooks import endpoints
from api.webhooks.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
)


@docs.webhooks
class WebhookEndpointViewSet(
    StrictRequests,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsAuthenticated]
    # At most ten per user: plain pages.
    pagination_class = PageNumberPagination
    filterset_class = None
    lookup_value_regex = ID_PATH_PATTERN
    http_method_names = ["get", "head", "post", "patch", "delete"]

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        # Endpoints exist for their owner only: anyone else's id is a 404. drf-spectacular
        # reads the model from here with no signed-in user.
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.filter(owner=signed_in_user(self.request))

    def get_object(self) -> WebhookEndpoint:
        try:
            return cast("WebhookEndpoint", super().get_object())
        except Http404 as error:
            raise NotFound(WEBHOOK_NOT_FOUND) from error

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = WebhookEndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoints.endpoint_create(
            owner=signed_in_user(request), **serializer.validated_data
        )
        return Response(
            WebhookEndpointSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        serializer = WebhookEndpointUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = endpoints.endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return Response(WebhookEndpointSerializer(updated).data)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        endpoints.endpoint_delete(endpoint=instance)

    @docs.rotate_secret
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        endpoint = endpoints.endpoint_rotate_secret(endpoint=self.get_object())
        return Response(WebhookEndpointSecretSerializer(endpoint).data)

    @docs.ping
    @action(detail=True, methods=["post"])
    def ping(self, request: Request, pk: str | None = None) -> Response:
        delivery = endpoints.endpoint_ping(endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@docs.deliveries
class WebhookDeliveryViewSet(
    StrictRequests, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    # The messages sent to one of the caller's endpoints: its delivery log.
    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsAuthenticated]
    pagination_class = CursorPagination
    filterset_class = WebhookDeliveryFilter
    lookup_url_kwarg = "delivery_id"
    lookup_value_regex = ID_PATH_PATTERN
    http_method_names = ["get", "head", "post"]

    def endpoint(self) -> WebhookEndpoint:
        """The endpoint in the URL, if it is the caller's: a 404 otherwise."""
        endpoint = WebhookEndpoint.objects.filter(
            pk=int(self.kwargs["webhook_id"]), owner=signed_in_user(self.request)
        ).first()
        if endpoint is None:
            raise NotFound(WEBHOOK_NOT_FOUND)
        return endpoint

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        return _deliveries().filter(endpoint=self.endpoint())

    def get_object(self) -> WebhookDelivery:
        try:
            return cast("WebhookDelivery", super().get_object())
        except Http404 as error:
            raise NotFound(DELIVERY_NOT_FOUND) from error

    @docs.redeliver
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, webhook_id: str = "", delivery_id: str = "") -> Response:
        endpoint = self.endpoint()
        self.check_query_string()
        delivery = endpoints.delivery_redeliver(endpoint=endpoint, delivery_id=int(delivery_id))
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


def _deliveries() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.prefetch_related(
        Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("attempted_at", "id"))
    )

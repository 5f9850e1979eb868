"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)

HealthSerializer = inline_serializer(
    "Health", fields={"status": serializers.CharField(help_text='Always "ok".')}
)


class PublicProbeView(APIView):
    """Probes answer anyone, without credentials, to GET only."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    http_method_names = ["get"]


class HealthView(PublicProbeView):
    """The process is up and serving requests; says nothing of its dependencies."""

    @extend_schema(
        tags=["operations"],
        operation_id="health",
        summary="Liveness",
        description="200 while the process serves requests. Checks no dependency, so a "
        "database outage does not get every process restarted.",
        responses={200: HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyView(PublicProbeView):
    """Ready for traffic: the database answers, and Redis too when it is configured."""

    @extend_schema(
        tags=["operations"],
        operation_id="ready",
        summary="Readiness",
        description="200 when the database answers and, when REDIS_URL is set, Redis "
        "answers; 503 with Retry-After otherwise.",
        responses={200: HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        default_cache = caches["default"]
        if isinstance(default_cache, RedisCache):
            try:
                default_cache._cache.get_client(write=False).ping()
            except Exception as error:
                logger.error("Redis unavailable: %s", error)
                raise ServiceUnavailable("Redis does not answer.") from error
        return Response({"status": "ok"})

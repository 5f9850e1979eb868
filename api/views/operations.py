"""Operations: liveness, readiness, and the checked-in spec."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.http import HttpResponse
from django.urls import reverse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.apidocs import operations as docs
from api.exceptions import ServiceUnavailable
from api.rest.query import StrictRequests

logger = logging.getLogger(__name__)


class PublicProbeView(StrictRequests, APIView):
    """Probes answer anyone, without credentials, to GET and HEAD (uptime monitors
    probe with HEAD)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    http_method_names = ["get", "head"]


class IndexView(PublicProbeView):
    """GET /api/: where `make run` says the API is, so it answers with directions."""

    @docs.index
    def get(self, request: Request) -> Response:
        return Response(
            {name: request.build_absolute_uri(reverse(route)) for name, route in INDEX_ROUTES}
        )


INDEX_ROUTES = [
    ("schema", "schema"),
    ("docs", "docs"),
    ("redoc", "redoc"),
    ("events", "event-list"),
    ("invitations", "invitation-list"),
    ("me", "me"),
    ("register", "register"),
    ("login", "login"),
]


class HealthView(PublicProbeView):
    """The process is up and serving requests; says nothing of its dependencies."""

    @docs.health
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyView(PublicProbeView):
    """Ready for traffic: the database answers, and Redis too when it is configured."""

    @docs.ready
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


SPEC_PATH = Path(settings.BASE_DIR) / "spec" / "openapi.yaml"


@cache
def _checked_in_spec() -> bytes:
    return SPEC_PATH.read_bytes()


class CheckedInSpecView(PublicProbeView):
    """Serves spec/openapi.yaml as checked in: the contract, not what the code says today."""

    @docs.schema
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(_checked_in_spec(), content_type="application/vnd.oai.openapi")

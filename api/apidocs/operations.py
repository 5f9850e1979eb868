"""Health checks for load balancers and orchestrators."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

HealthSerializer = inline_serializer(
    "Health", fields={"status": serializers.CharField(help_text='Always "ok".')}
)

health = extend_schema(
    tags=["operations"],
    operation_id="health",
    summary="Liveness",
    description="200 while the process serves requests. Checks no dependency, so a "
    "database outage does not get every process restarted.",
    responses={200: HealthSerializer},
)

ready = extend_schema(
    tags=["operations"],
    operation_id="ready",
    summary="Readiness",
    description="200 when the database answers and, when REDIS_URL is set, Redis "
    "answers; 503 with Retry-After otherwise.",
    responses={200: HealthSerializer},
)

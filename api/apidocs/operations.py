"""Health checks for load balancers and orchestrators."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
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

IndexSerializer = inline_serializer(
    "ApiIndex",
    fields={
        name: serializers.URLField(help_text=text)
        for name, text in [
            ("schema", "This OpenAPI document (GET /api/schema/)."),
            ("docs", "Swagger UI."),
            ("redoc", "ReDoc."),
            ("events", "The events list."),
            ("invitations", "The invitations you received."),
            ("me", "Your account."),
            ("register", "Sign-up."),
            ("login", "Log in for a JWT pair."),
        ]
    },
)

index = extend_schema(
    tags=["operations"],
    operation_id="index",
    summary="Where everything is",
    description="Absolute links to this document, both docs pages and the resource roots.",
    responses={200: IndexSerializer},
)

schema = extend_schema(
    tags=["operations"],
    operation_id="schema",
    summary="This OpenAPI document",
    description="spec/openapi.yaml as checked in, in YAML.",
    responses={(200, "application/vnd.oai.openapi"): OpenApiTypes.STR},
)

swagger_ui = extend_schema(
    tags=["operations"],
    operation_id="docs_swagger_ui",
    summary="Swagger UI",
    description="An HTML page that renders this document and can call the API. It loads "
    "nothing from any other server.",
    responses={(200, "text/html"): OpenApiTypes.STR},
)

redoc = extend_schema(
    tags=["operations"],
    operation_id="docs_redoc",
    summary="ReDoc",
    description="An HTML page that renders this document. It loads nothing from any other server.",
    responses={(200, "text/html"): OpenApiTypes.STR},
)

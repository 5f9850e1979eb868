"""The documentation pages: Swagger UI and ReDoc, served from this server alone.

Both read the checked-in spec (/api/schema/). They take no credentials, so a stale
token in a browser's Authorization header never turns a docs page into a 401.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.apidocs import operations as docs
from api.rest.query import StrictRequests


class DocsPage(StrictRequests):
    permission_classes = [AllowAny]
    authentication_classes = []
    http_method_names = ["get", "head"]

    def handle_exception(self, exc: Exception) -> Response:
        # A refused request is a problem in JSON like anywhere else, not an HTML page.
        response = super().handle_exception(exc)
        renderer = JSONRenderer()
        self.request.accepted_renderer = renderer
        self.request.accepted_media_type = renderer.media_type
        return response


class SwaggerUIView(DocsPage, SpectacularSwaggerView):
    @docs.swagger_ui
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class RedocView(DocsPage, SpectacularRedocView):
    # drf-spectacular's page loads Google Fonts and Redoc loads its logo from a CDN;
    # ours loads nothing from elsewhere.
    template_name = "api/redoc.html"

    @docs.redoc
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

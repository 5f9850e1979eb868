from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views import View

SPEC_PATH = Path(settings.BASE_DIR) / "spec" / "openapi.yaml"


@cache
def _checked_in_spec() -> bytes:
    return SPEC_PATH.read_bytes()


class CheckedInSpecView(View):
    """Serves spec/openapi.yaml as checked in: the contract, not what the code says today."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(_checked_in_spec(), content_type="application/vnd.oai.openapi")

"""CORS (django-cors-headers): off unless origins are listed; then the listed origins,
and only they, may call the API from a browser, without cookies."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from pytest_django import Settings
from rest_framework.test import APIClient

from api.models import User
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

APP = "https://app.example.org"
OTHER = "https://evil.example"


@pytest.fixture
def cors_on(settings: Settings) -> None:
    """What CORS_ALLOWED_ORIGINS=https://app.example.org makes of the settings."""
    settings.CORS_ALLOWED_ORIGINS = [APP]
    settings.MIDDLEWARE = [
        settings.MIDDLEWARE[0],
        "corsheaders.middleware.CorsMiddleware",
        *settings.MIDDLEWARE[1:],
    ]


def _preflight(origin: str) -> object:
    return APIClient().options(
        "/api/events/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def test_cors_is_off_by_default() -> None:
    assert "corsheaders.middleware.CorsMiddleware" not in django_settings.MIDDLEWARE

    preflight = _preflight(APP)
    read = APIClient().get("/api/events/", HTTP_ORIGIN=APP)

    assert preflight.status_code == 405
    assert "Access-Control-Allow-Origin" not in read


def test_listing_origins_turns_it_on() -> None:
    env = {**os.environ, "CORS_ALLOWED_ORIGINS": f"{APP},https://b.example"}
    code = (
        "from django.conf import settings; "
        "print('corsheaders.middleware.CorsMiddleware' in settings.MIDDLEWARE, "
        "'corsheaders' in settings.INSTALLED_APPS, settings.CORS_ALLOWED_ORIGINS)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == f"True True ['{APP}', 'https://b.example']"


def test_a_preflight_from_a_listed_origin_is_allowed_without_credentials(cors_on: None) -> None:
    response = _preflight(APP)

    assert response.status_code == 200
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == APP
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed_headers = response["Access-Control-Allow-Headers"]
    assert "authorization" in allowed_headers
    assert "content-type" in allowed_headers
    assert "Access-Control-Allow-Credentials" not in response


def test_a_call_from_a_listed_origin_may_read_retry_after(cors_on: None, alice: User) -> None:
    response = client_for(alice).get("/api/me/", HTTP_ORIGIN=APP)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"retry-after", "www-authenticate"} <= exposed


def test_another_origin_gets_no_cors_headers(cors_on: None, alice: User) -> None:
    preflight = _preflight(OTHER)
    read = client_for(alice).get("/api/me/", HTTP_ORIGIN=OTHER)

    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Origin" not in read

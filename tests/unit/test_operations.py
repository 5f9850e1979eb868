"""Health checks, graceful faults and deployment settings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]
DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # Port 1 on loopback: nothing listens there, so every call is refused at once.
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def test_health_answers_without_credentials(api_client: APIClient) -> None:
    response = api_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_answers_when_the_database_does(api_client: APIClient) -> None:
    response = api_client.get("/api/ready/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
def alice_client(alice: Any, auth_client: Any) -> APIClient:
    return auth_client(alice)


@pytest.fixture
def database_on_a_dead_port() -> Iterator[None]:
    """Points the connection at a port where no PostgreSQL answers, then back again."""
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_outage_is_a_503_with_retry_after(
    alice_client: APIClient, database_on_a_dead_port: None
) -> None:
    outage = alice_client.get("/api/events/")

    assert outage.status_code == 503
    assert outage["Content-Type"] == "application/problem+json"
    assert outage.json()["code"] == "service_unavailable"
    assert int(outage["Retry-After"]) >= 1
    assert APIClient().get("/api/ready/").status_code == 503
    assert APIClient().get("/api/health/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_service_recovers_by_itself_when_the_database_returns(
    alice: Any, auth_client: Any
) -> None:
    client = auth_client(alice)
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        assert client.get("/api/events/").status_code == 503
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)

    assert client.get("/api/events/").status_code == 200
    assert APIClient().get("/api/ready/").status_code == 200


@pytest.mark.django_db
def test_login_fails_closed_with_a_503_when_redis_is_down(
    alice: Any, api_client: APIClient, settings: Any
) -> None:
    settings.CACHES = DEAD_REDIS

    response = api_client.post(
        "/api/login/", {"username": "alice", "password": "whatever"}, format="json"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert int(response["Retry-After"]) >= 1


@pytest.mark.django_db
def test_event_creation_limit_does_not_need_redis(
    alice: Any, auth_client: Any, settings: Any
) -> None:
    settings.CACHES = DEAD_REDIS
    body = {
        "title": "Still works",
        "start_time": "2099-01-01T10:00:00Z",
        "end_time": "2099-01-01T12:00:00Z",
        "max_participants": 3,
    }

    response = auth_client(alice).post("/api/events/", body, format="json")

    assert response.status_code == 201


@pytest.mark.django_db
def test_ready_is_a_503_when_redis_is_configured_but_down(
    api_client: APIClient, settings: Any
) -> None:
    settings.REDIS_URL = DEAD_REDIS["default"]["LOCATION"]
    settings.CACHES = DEAD_REDIS

    response = api_client.get("/api/ready/")

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="a-production-secret-key-that-is-long-and-random-0123456789-abcdefgh",
        DJANGO_ALLOWED_HOSTS="events.example.org",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_server_refuses_to_start_without_a_secret_key_when_debug_is_off() -> None:
    result = _manage("check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr

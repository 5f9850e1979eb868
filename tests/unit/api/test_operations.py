"""Health checks, graceful faults and deployment settings."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from model_bakery import baker
from rest_framework.test import APIClient

from api.models import Event, EventCreation

ROOT = Path(__file__).resolve().parents[3]
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


@contextmanager
def database_on_a_dead_port() -> Iterator[None]:
    """Points the connection (and its pool) at a port where no PostgreSQL answers, then
    back again."""
    original = copy.deepcopy(connection.settings_dict)
    _reconnect(HOST="127.0.0.1", PORT="1")
    # A pooled connection is waited for up to the pool's timeout; keep the test short.
    if connection.settings_dict["OPTIONS"].get("pool"):
        connection.settings_dict["OPTIONS"]["pool"]["timeout"] = 0.5
    try:
        yield
    finally:
        _reconnect(**original)


def _reconnect(**settings: Any) -> None:
    connection.close()
    # The pool was built from the old settings; the next connection builds a new one.
    connection.close_pool()
    connection.settings_dict.update(copy.deepcopy(settings))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_outage_is_a_503_with_retry_after(alice_client: APIClient) -> None:
    with database_on_a_dead_port():
        outage = alice_client.get("/api/events/")
        ready = APIClient().get("/api/ready/")
        health = APIClient().get("/api/health/")

    assert outage.status_code == 503
    assert outage["Content-Type"] == "application/problem+json"
    assert outage.json()["code"] == "service_unavailable"
    assert int(outage["Retry-After"]) >= 1
    assert ready.status_code == 503
    assert health.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_service_recovers_by_itself_when_the_database_returns(
    alice_client: APIClient,
) -> None:
    with database_on_a_dead_port():
        assert alice_client.get("/api/events/").status_code == 503

    assert alice_client.get("/api/events/").status_code == 200
    assert APIClient().get("/api/ready/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pooled_connections_that_postgres_dropped_are_replaced_unseen(
    alice_client: APIClient,
) -> None:
    """A PostgreSQL restart (or an idle timeout) leaves the pool holding dead
    connections: the health check finds them before a request uses one."""
    assert connection.pool is not None, "PostgreSQL runs with a connection pool"
    assert alice_client.get("/api/events/").status_code == 200
    # What the end of a request does in a server (the test client keeps the connection).
    connection.close()
    with psycopg.connect(**_admin_params(), autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        ).fetchone()
    assert dropped is not None
    assert dropped[0] >= 1

    for _ in range(3):
        assert alice_client.get("/api/events/").status_code == 200
        connection.close()


def _admin_params() -> dict[str, Any]:
    settings = connection.settings_dict
    return {
        "host": settings["HOST"],
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "dbname": "postgres",
    }


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
    """The limit is counted in the database: with Redis down it still holds, 5 a day."""
    settings.CACHES = DEAD_REDIS
    body = {
        "title": "Still works",
        "start_time": "2099-01-01T10:00:00Z",
        "end_time": "2099-01-01T12:00:00Z",
        "max_participants": 3,
    }
    client = auth_client(alice)
    for creation in range(5):
        response = client.post("/api/events/", body, format="json")
        assert response.status_code == 201, (creation, response.content)

    sixth = client.post("/api/events/", body, format="json")

    assert sixth.status_code == 429, sixth.content
    assert sixth.json()["code"] == "throttled"
    # The five were made seconds ago: the oldest leaves the 24-hour window in about a day.
    assert 23 * 3600 < int(sixth["Retry-After"]) <= 24 * 3600
    assert Event.objects.filter(host=alice).count() == 5
    assert EventCreation.objects.filter(user=alice).count() == 5


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


PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefgh",
    "DJANGO_ALLOWED_HOSTS": "events.example.org",
}


@pytest.mark.parametrize(
    ("env", "source"),
    [
        pytest.param({"JWT_SIGNING_KEY": "k"}, "JWT_SIGNING_KEY", id="one-byte-jwt-key"),
        pytest.param({"JWT_SIGNING_KEY": "x" * 31}, "JWT_SIGNING_KEY", id="31-bytes"),
        pytest.param(
            {"DJANGO_SECRET_KEY": "short-secret-key-of-30-bytes.."},
            "DJANGO_SECRET_KEY",
            id="secret",
        ),
    ],
)
def test_the_deploy_check_refuses_a_short_jwt_signing_key(env: dict[str, str], source: str) -> None:
    result = _manage("check", "--deploy", **{**PRODUCTION, **env})

    assert result.returncode != 0
    assert "api.E001" in result.stderr
    assert f"({source})" in result.stderr


def test_a_32_byte_jwt_signing_key_passes_the_deploy_check() -> None:
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", JWT_SIGNING_KEY="x" * 32, **PRODUCTION
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("setting", "check_id"),
    [
        pytest.param("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "api.W001", id="private-networks"),
        pytest.param("WEBHOOKS_ALLOW_HTTP", "api.W002", id="plain-http"),
    ],
)
def test_the_deploy_check_refuses_the_webhook_development_allowances(
    setting: str, check_id: str
) -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, setting: "1"})

    assert result.returncode != 0
    assert check_id in result.stderr


def test_the_server_refuses_to_start_without_a_secret_key_when_debug_is_off() -> None:
    result = _manage("check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


@pytest.mark.postgres
@pytest.mark.django_db
def test_statements_a_connection_repeats_are_prepared_by_postgres(
    api_client: APIClient, alice: Any
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    for _ in range(6):
        assert api_client.get(f"/api/events/{event.pk}/").status_code == 200

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "api_event"%'],
        )
        assert cursor.fetchone()[0] >= 1


def test_a_pool_refuses_a_persistent_connection_setting() -> None:
    result = _manage(
        "check",
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/events?conn_max_age=60",
    )

    assert result.returncode != 0
    assert "conn_max_age" in result.stderr
    assert "DATABASE_POOL=0" in result.stderr


def test_persistent_connections_remain_possible_without_the_pool() -> None:
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], 'pool' in d['OPTIONS'])",
        DJANGO_DEBUG="1",
        DATABASE_POOL="0",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/events?conn_max_age=60",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["60", "False"]


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        pytest.param({"DJANGO_DEBUG": "1"}, "console.EmailBackend", id="make-run"),
        pytest.param(PRODUCTION, "smtp.EmailBackend", id="production"),
        pytest.param(
            {**PRODUCTION, "EMAIL_URL": "smtp+tls://u:p@mail.example.org:587"},
            "smtp.EmailBackend mail.example.org 587 True",
            id="email-url",
        ),
    ],
)
def test_reset_mails_go_to_the_console_in_development_and_smtp_otherwise(
    env: dict[str, str], backend: str
) -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND.rsplit('.', 2)[-2] + '.' + s.EMAIL_BACKEND.rsplit('.', 1)[-1], "
        "*([s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS] if 'EMAIL_URL' in "
        "__import__('os').environ else []))"
    )
    result = _manage("shell", "--no-imports", "-c", code, **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == backend

"""Notifications end to end: real uvicorn processes, a real WebSocket client, real HTTP.

Each server runs `uvicorn config.asgi:application` on a free port of 127.0.0.1 against
a SQLite file migrated for the test. Without Redis one process holds the socket and
serves the request (the embedded default); with Redis (marked `redis`) the socket is
held by one process and the invitation is created through another.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect

from api.consumers import CLOSE_UNAUTHORIZED
from tests.live_server import uvicorn_server
from tests.unit.realtime.asyncapi import assert_documented

ROOT = Path(__file__).resolve().parents[3]
STARTUP_SECONDS = 30
DELIVERY_SECONDS = 2


def server_environment(database: Path, redis_url: str = "") -> dict[str, str]:
    run_prefix = f"e2e-{uuid.uuid4().hex[:12]}"
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER_PREFIX": run_prefix,
        "CACHE_KEY_PREFIX": run_prefix,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "PYTHONUNBUFFERED": "1",
    }


def migrate(environment: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def server(environment: dict[str, str], log: Path) -> Iterator[str]:
    """An ASGI server process; yields its host:port once it is ready."""
    with uvicorn_server(environment, log, timeout=STARTUP_SECONDS) as url:
        yield url.removeprefix("http://")


def call(
    address: str, method: str, path: str, body: dict[str, Any] | None = None, token: str = ""
) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://{address}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@dataclass
class Account:
    id: int
    token: str


def sign_up(address: str, username: str) -> Account:
    password = f"correct-horse-{uuid.uuid4().hex}"
    status, user = call(
        address,
        "POST",
        "/api/register/",
        {"username": username, "email": f"{username}@example.org", "password": password},
    )
    assert status == 201, user
    status, tokens = call(
        address, "POST", "/api/login/", {"username": username, "password": password}
    )
    assert status == 200, tokens
    return Account(id=user["id"], token=tokens["access"])


def create_event(address: str, host: Account) -> int:
    start = datetime.now(UTC) + timedelta(days=7)
    status, event = call(
        address,
        "POST",
        "/api/events/",
        {
            "title": "Launch party",
            "start_time": start.isoformat(),
            "end_time": (start + timedelta(hours=2)).isoformat(),
            "max_participants": 10,
        },
        token=host.token,
    )
    assert status == 201, event
    return int(event["id"])


def notifications_url(address: str, token: str) -> str:
    return f"ws://{address}/ws/notifications/?token={token}"


def assert_invitee_is_notified(*, socket_address: str, http_address: str) -> None:
    """bob, connected to one server, hears of alice's invitation sent through the other."""
    alice = sign_up(http_address, f"alice-{uuid.uuid4().hex[:8]}")
    bob = sign_up(http_address, f"bob-{uuid.uuid4().hex[:8]}")
    event_id = create_event(http_address, alice)

    with connect(notifications_url(socket_address, bob.token)) as websocket:
        sent = time.monotonic()
        status, invitation = call(
            http_address,
            "POST",
            f"/api/events/{event_id}/invite/",
            {"invitee": bob.id},
            token=alice.token,
        )
        assert status == 201, invitation
        message = json.loads(websocket.recv(timeout=DELIVERY_SECONDS - (time.monotonic() - sent)))

    assert_documented(message)
    status, listed = call(http_address, "GET", "/api/invitations/", token=bob.token)
    assert status == 200, listed
    [item] = [item for item in listed["results"] if item["id"] == invitation["id"]]
    assert message == {"type": "invitation.received", "invitation": item}


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once; each server set starts from a copy."""
    database = tmp_path_factory.mktemp("e2e-template") / "db.sqlite3"
    migrate(server_environment(database))
    return database


@pytest.fixture(scope="module")
def one_server(tmp_path_factory: pytest.TempPathFactory, migrated_database: Path) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("e2e-memory")
    database = Path(shutil.copy(migrated_database, directory / "db.sqlite3"))
    with server(server_environment(database), directory / "server.log") as address:
        yield address


def test_invitee_connected_to_a_real_server_is_notified_within_two_seconds(
    one_server: str,
) -> None:
    assert_invitee_is_notified(socket_address=one_server, http_address=one_server)


def test_real_client_sees_close_code_4401_for_a_refused_token(one_server: str) -> None:
    with (
        connect(notifications_url(one_server, "not.a.jwt")) as websocket,
        pytest.raises(ConnectionClosedError) as closed,
    ):
        websocket.recv(timeout=DELIVERY_SECONDS)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_UNAUTHORIZED


def test_real_browser_page_of_another_site_is_refused_at_the_handshake(one_server: str) -> None:
    account = sign_up(one_server, f"carol-{uuid.uuid4().hex[:8]}")

    with pytest.raises(InvalidStatus) as refused:
        connect(notifications_url(one_server, account.token), origin="https://evil.example")

    assert refused.value.response.status_code == 403


@pytest.mark.redis
def test_notification_crosses_server_processes_through_redis(
    tmp_path: Path, migrated_database: Path
) -> None:
    database = Path(shutil.copy(migrated_database, tmp_path / "db.sqlite3"))
    environment = server_environment(database, os.environ["REDIS_URL"])

    with (
        server(environment, tmp_path / "holds-the-socket.log") as socket_address,
        server(environment, tmp_path / "serves-the-request.log") as http_address,
    ):
        assert_invitee_is_notified(socket_address=socket_address, http_address=http_address)

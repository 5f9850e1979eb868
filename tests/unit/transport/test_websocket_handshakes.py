"""WebSocket handshakes that used to answer HTTP 500: a malformed Origin, and the
database or Redis down (spec/asyncapi.yaml: 403 at the handshake, close code 1013)."""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from api.routing import CLOSE_TRY_AGAIN_LATER
from tests.helpers import PASSWORD
from tests.live_server import LiveServer, live_server, uvicorn_server

# Nothing listens on port 1 of the loopback: a service pointed there is down.
CLOSED_PORT = 1


def handshake_status(url: str, origin: str) -> int:
    """The HTTP status the server answers a WebSocket handshake with."""
    parts = urlsplit(url)
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    request = (
        "GET /ws/notifications/ HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request.encode("latin-1"))
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.mark.parametrize(
    "origin", ["http://[", "http://[::1", "http://localhost:99999", "http://evil.example"]
)
def test_a_malformed_or_foreign_origin_is_refused_with_403(server: LiveServer, origin: str) -> None:
    assert handshake_status(server.url, origin) == 403
    assert "Traceback" not in server.log()


def test_an_allowed_origin_still_completes_the_handshake(server: LiveServer) -> None:
    assert handshake_status(server.url, "http://127.0.0.1") == 101


def close_code(url: str, token: str) -> int:
    """Connects (the handshake must succeed: an HTTP 5xx raises here) and returns the
    code the server closes the socket with."""
    address = url.replace("http://", "ws://")
    with (
        connect(f"{address}/ws/notifications/?token={token}", open_timeout=10) as socket_,
        pytest.raises(ConnectionClosedError) as closed,
    ):
        socket_.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


@pytest.fixture(scope="module")
def access_token(server: LiveServer) -> str:
    """A token of a real account on the server's database, signed with its key."""
    account = {"username": "socket", "email": "socket@example.org", "password": PASSWORD}
    assert call(server.url, "/api/register/", account)[0] == 201
    status, tokens = call(server.url, "/api/login/", account)
    assert status == 200
    return str(tokens["access"])


def call(url: str, path: str, body: dict[str, str]) -> tuple[int, dict[str, str]]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(
            "POST", path, json.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("down", "without_token"),
    [
        # Without a token nothing needs the database: the usual 4401.
        ({"DATABASE_URL": f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/events"}, 4401),
        # Every socket takes a channel of the Redis layer before its token is read.
        ({"REDIS_URL": f"redis://127.0.0.1:{CLOSED_PORT}/0"}, 1013),
    ],
    ids=["database-down", "redis-down"],
)
def test_an_outage_closes_the_socket_with_1013_never_an_http_500(
    down: dict[str, str],
    without_token: int,
    access_token: str,
    server: LiveServer,
    tmp_path: Path,
) -> None:
    with uvicorn_server(
        {**server.env, **down}, tmp_path / "server.log", ready_path="/api/health/"
    ) as url:
        assert close_code(url, access_token) == CLOSE_TRY_AGAIN_LATER
        assert close_code(url, "") == without_token

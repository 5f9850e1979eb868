"""Request bodies sent in chunks, through the deployed entry point (uvicorn serving
config.asgi:application) and through the WSGI application in-process."""

from __future__ import annotations

import http.client
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from api.rest.wsgi import LINGER_BYTES, ChunkedBodyMiddleware
from tests.helpers import PASSWORD
from tests.live_server import LiveServer, live_server

KIB = 1024


def send(
    server: LiveServer, method: str, path: str, chunks: Iterator[bytes], token: str = ""
) -> tuple[int, str, Any]:
    """A request whose body goes out with Transfer-Encoding: chunked, no Content-Length."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=chunks, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), json.loads(response.read())
    finally:
        connection.close()


def in_chunks(data: bytes, size: int = 100) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture(scope="module")
def server_and_token() -> Iterator[tuple[LiveServer, str]]:
    with live_server() as server:
        account = {"username": "chunky", "email": "chunky@example.org", "password": PASSWORD}
        assert (
            send(server, "POST", "/api/register/", in_chunks(json.dumps(account).encode()))[0]
            == 201
        )
        status, _, tokens = send(
            server,
            "POST",
            "/api/login/",
            in_chunks(json.dumps({"username": "chunky", "password": PASSWORD}).encode()),
        )
        assert status == 200
        yield server, tokens["access"]


def test_a_chunked_body_is_read_like_any_other(server_and_token: tuple[LiveServer, str]) -> None:
    server, token = server_and_token
    start = datetime.now(UTC) + timedelta(days=3)
    event = {
        "title": "Streamed",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=2)).isoformat(),
        "max_participants": 12,
    }

    status, content_type, body = send(
        server, "POST", "/api/events/", in_chunks(json.dumps(event).encode(), 7), token
    )

    assert status == 201, body
    assert content_type == "application/json"
    assert (body["title"], body["max_participants"]) == ("Streamed", 12)


def test_a_chunked_body_over_the_limit_is_413_without_reading_it_all(
    server_and_token: tuple[LiveServer, str],
) -> None:
    server, token = server_and_token
    mebibyte = b'{"title": "' + b"x" * (1024 * KIB) + b'"}'

    status, content_type, body = send(
        server, "POST", "/api/events/", in_chunks(mebibyte, 16 * KIB), token
    )

    assert status == 413
    assert content_type == "application/problem+json"
    assert body["code"] == "request_too_large"
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes" in body["detail"]


class CountingStream(io.BytesIO):
    """A request body that records how much of it was read."""

    consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def test_the_middleware_keeps_at_most_the_limit_and_stops_reading_after_the_linger() -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    stream = CountingStream(b"x" * (limit + LINGER_BYTES) * 4)
    answered: list[str] = []

    def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise AssertionError("the application must not see a body over the limit")

    body = ChunkedBodyMiddleware(application)(
        {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": stream},
        lambda status, headers: answered.append(status),
    )

    assert answered == ["413 Request Entity Too Large"]
    assert json.loads(b"".join(body))["code"] == "request_too_large"
    # Buffered up to the limit, then read and dropped for at most LINGER_BYTES more.
    assert limit + LINGER_BYTES <= stream.consumed <= limit + LINGER_BYTES + 64 * KIB


def test_a_body_with_a_content_length_passes_through_untouched() -> None:
    stream = io.BytesIO(b"{}")
    seen: list[dict[str, Any]] = []

    def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ)
        return []

    ChunkedBodyMiddleware(application)(
        {"CONTENT_LENGTH": "2", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": stream},
        lambda status, headers: None,
    )

    assert seen[0]["wsgi.input"] is stream

"""WSGI middleware: request bodies sent in chunks, without a Content-Length.

Browsers' fetch with a stream body, ``curl -T`` and some mobile SDKs send
``Transfer-Encoding: chunked``. WSGI gives such a body no CONTENT_LENGTH, and Django
then reads none of it, so every field was "required". Under both supported servers
(uvicorn through a2wsgi, and gunicorn for config.wsgi) this reads the body first, up
to DATA_UPLOAD_MAX_MEMORY_SIZE, and hands Django a body of known length. One byte
more and it answers 413, so memory never holds more than the limit.

Before answering it reads and discards up to ``LINGER_BYTES`` more of the body, as
servers do before closing on a request they refuse (nginx's lingering close): a
connection closed with unread bytes is reset, and the reset can destroy the 413 in
flight before the client reads it. A larger body is cut off there.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from api.rest.problems import PROBLEM_CONTENT_TYPE, problem

_READ_SIZE = 64 * 1024
LINGER_BYTES = 4 * 1024 * 1024


class ChunkedBodyMiddleware:
    def __init__(self, application: Any) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if (
            environ.get("CONTENT_LENGTH")
            or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            return self.application(environ, start_response)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = _read_at_most(environ["wsgi.input"], limit)
        if body is None:
            _discard(environ["wsgi.input"], LINGER_BYTES)
            return _too_large(start_response, limit)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        return self.application(environ, start_response)


def _read_at_most(stream: Any, limit: int | None) -> bytes | None:
    """The whole body, or None as soon as it is longer than ``limit`` bytes."""
    buffer = bytearray()
    while True:
        chunk = stream.read(_READ_SIZE)
        if not chunk:
            return bytes(buffer)
        buffer += chunk
        if limit is not None and len(buffer) > limit:
            return None


def _discard(stream: Any, at_most: int) -> None:
    """Read and drop up to ``at_most`` bytes, holding one chunk at a time."""
    while at_most > 0:
        chunk = stream.read(min(_READ_SIZE, at_most))
        if not chunk:
            return
        at_most -= len(chunk)


def _too_large(start_response: Any, limit: int) -> list[bytes]:
    body = json.dumps(
        problem(413, "request_too_large", f"The request body is larger than {limit} bytes.")
    ).encode()
    start_response(
        "413 Request Entity Too Large",
        [
            ("Content-Type", PROBLEM_CONTENT_TYPE),
            ("Content-Length", str(len(body))),
            # The rest of the body is not read: the connection cannot carry another request.
            ("Connection", "close"),
        ],
    )
    return [body]

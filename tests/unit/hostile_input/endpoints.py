"""The write operations the hostile-input tests send their bodies to.

Each Endpoint holds a valid body, so every 4xx a test sees is caused by the one thing it
changes. The table itself is the ``endpoints`` fixture in conftest.py, built from the
test's users and events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rest_framework.response import Response
from rest_framework.test import APIClient

KIB = 1024
MIB = 1024 * KIB
EVENTS_URL = "/api/events/"


@dataclass(frozen=True)
class Endpoint:
    """One write operation, with a body it accepts and the status it answers then."""

    client: APIClient
    method: str
    url: str
    body: dict[str, Any]
    success: int

    def send_json(self, body: Any, **extra: Any) -> Response:
        # ensure_ascii: lone surrogates travel as \ud800 escapes, as a hostile client sends
        # them; allow_nan: NaN and Infinity reach the server as the non-JSON literals.
        return self.send_raw(json.dumps(body, allow_nan=True), "application/json", **extra)

    def send_raw(self, data: bytes | str, content_type: str, **extra: Any) -> Response:
        return self.client.generic(self.method, self.url, data, content_type=content_type, **extra)

    def with_field(self, field: str, value: Any) -> Response:
        return self.send_json({**self.body, field: value})


ALL_ENDPOINTS = [
    "create-event",
    "replace-event",
    "change-event",
    "register",
    "login",
    "refresh",
    "logout",
    "invite",
    "answer",
    "feedback",
]

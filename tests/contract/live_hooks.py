"""Schemathesis hooks for the command-line run against a live server (run_live.py loads
them through SCHEMATHESIS_HOOKS).

An event's start must lie in the future and its end after its start: rules JSON Schema
cannot state, so about 98% of schema-valid generated event bodies are rightly refused
with 400 (schemathesis.toml accepts that answer). The stateful phase then almost never
creates an event, and the links from a created event (retrieve, update, register,
invite, feedback...) go unexercised. This hook moves well-formed generated times to
tomorrow, in order, and leaves everything else, malformed times included, as generated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis

EVENT_BODIES = ["events_create", "events_update", "events_partial_update"]


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@schemathesis.hook("map_body").apply_to(operation_id=EVENT_BODIES)
def event_times_in_the_future(context: schemathesis.HookContext, body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    if _parse(body.get("start_time")) is not None:
        body = {**body, "start_time": start.isoformat()}
    if _parse(body.get("end_time")) is not None:
        body = {**body, "end_time": (start + timedelta(hours=2)).isoformat()}
    return body

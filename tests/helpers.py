"""What many test modules share: the error shape's checks, a valid event body, a password.

Fixtures live in the conftest.py files; these are plain functions and constants, imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from api.models import (
    Event,
    EventCreation,
    EventParticipant,
    Feedback,
    Invitation,
    RedeemedRefreshToken,
    TokenFamily,
    User,
)
from api.serializers import EventSerializer

if TYPE_CHECKING:
    # What the test clients answer: a response with .json(), as the DRF stubs name it.
    from rest_framework.response import _MonkeyPatchedResponse as Response

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
EVENT_KEYS = set(EventSerializer.Meta.fields)
# Passes Django's password validators, so it serves registration as well as login.
PASSWORD = "correct-horse-battery-staple"
TABLES: tuple[type[Model], ...] = (
    User,
    Event,
    EventCreation,
    EventParticipant,
    Invitation,
    Feedback,
    OutstandingToken,
    BlacklistedToken,
    TokenFamily,
    RedeemedRefreshToken,
)


def assert_problem(response: Response, status: int, code: str, context: str = "") -> dict[str, Any]:
    """The documented error shape with this status and code; ``context`` names the case
    when one test sends several requests."""
    assert response.status_code == status, (context, response.content[:500])
    assert response["Content-Type"] == PROBLEM, context
    body = response.json()
    assert body["status"] == status, context
    assert body["code"] == code, (context, body)
    assert body["detail"]
    return body


def error_pairs(response: Response) -> set[tuple[str, str]]:
    return {(error["field"], error["code"]) for error in response.json()["errors"]}


def field_names(response: Response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def assert_field_error(response: Response, field: str, code: str | None = None) -> None:
    """A 400 ``invalid`` naming ``field`` among its errors (with ``code``, when given)."""
    assert_problem(response, 400, "invalid")
    errors = response.json()["errors"]
    if code is None:
        assert field in field_names(response), errors
    else:
        assert (field, code) in error_pairs(response), errors


def assert_invalid_fields(response: Response, *fields: str, context: str = "") -> None:
    """A 400 ``invalid`` whose errors name exactly ``fields``."""
    assert_problem(response, 400, "invalid", context)
    assert field_names(response) == set(fields), (context, response.json()["errors"])


def in_days(days: float) -> datetime:
    return timezone.now() + timedelta(days=days)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def event_body(**overrides: Any) -> dict[str, Any]:
    """A valid body to create an event a week from now; ``overrides`` replace or add fields."""
    start = in_days(7)
    return {
        "title": "Python meetup",
        "description": "Talks and pizza.",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=2)).isoformat(),
        "location": "Berlin",
        "max_participants": 30,
        **overrides,
    }


def client_for(user: User | None) -> APIClient:
    """A client that answers a crash with the 500 response instead of raising, so a
    failing assertion shows the status (the traceback is in the captured log). Its access
    token is made without writing to the database, unlike the ``auth_client`` fixture's."""
    client = APIClient()
    client.raise_request_exception = False
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def database_state() -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: list(model._default_manager.order_by("pk").values()) for model in TABLES
    }


@contextmanager
def nothing_written() -> Iterator[None]:
    """Asserts that no row of any table was inserted, changed or deleted."""
    before = database_state()
    yield
    assert database_state() == before

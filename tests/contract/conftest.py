from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "openapi.yaml"


def contract_config() -> schemathesis.Config:
    """schemathesis.toml, with the budget and seed `nox -s fuzz` may override."""
    config = schemathesis.Config.from_path(ROOT / "schemathesis.toml")
    if max_examples := os.environ.get("CONTRACT_MAX_EXAMPLES"):
        config.projects.default.generation.update(max_examples=int(max_examples))
    if seed := os.environ.get("CONTRACT_SEED"):
        config.update(seed=int(seed), max_failures=None)
    return config


def load_checked_in_spec() -> schemathesis.BaseSchema:
    """The checked-in spec (never the generated one), driving the app in-process."""
    schema = schemathesis.openapi.from_path(SPEC, config=contract_config())
    schema.app = get_wsgi_application()
    return schema


@pytest.fixture
def connections_stay_open_between_requests() -> Iterator[None]:
    """Django closes the database connection after each request it serves through
    WSGIHandler; inside the test's transaction that would close it mid-test (PostgreSQL;
    SQLite's in-memory test database ignores the close). Django's own test client
    detaches the same handler for the same reason, and reattaches it after each of its
    requests: so request this fixture after any fixture that uses the test client."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# The account the authenticated runs act as; the stateful runs reset to it alone.
CONTRACT_USERNAME = "contract"


@pytest.fixture
def relaxed_limits(settings: Any) -> None:
    # Generated requests create many events and log in often; the limits have their own
    # tests (tests/unit/api/test_throttling.py) and would only hide other behaviour here.
    settings.EVENT_CREATION_LIMIT = 1_000_000


@pytest.fixture
def access_token(db: None, relaxed_limits: None) -> str:
    """A real JWT, obtained the way a client gets one: register, then log in."""
    client = APIClient()
    account = {
        "username": CONTRACT_USERNAME,
        "email": "contract@example.org",
        "password": "c0ntract-Pass!",
    }
    assert client.post("/api/register/", account, format="json").status_code == 201
    response = client.post(
        "/api/login/",
        {"username": account["username"], "password": account["password"]},
        format="json",
    )
    assert response.status_code == 200
    return response.json()["access"]


@pytest.fixture
def authenticated_schema(
    access_token: str, connections_stay_open_between_requests: None
) -> schemathesis.BaseSchema:
    schema = load_checked_in_spec()

    @schema.auth()
    class BearerToken:
        """Schemathesis still drops it for the cases that test missing credentials."""

        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
            return access_token

        def set(
            self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext
        ) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


@pytest.fixture
def anonymous_schema(
    db: None, relaxed_limits: None, connections_stay_open_between_requests: None
) -> schemathesis.BaseSchema:
    return load_checked_in_spec()

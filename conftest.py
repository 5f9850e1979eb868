"""Shared fixtures: role users in the healthchecks manner, and clients carrying real JWTs.

alice hosts events, bob takes part in them, charlie is an outsider.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
from django.conf import settings
from django.core.cache import cache
from model_bakery import baker
from pytest_django import Settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests import spec_validation
from tests.browser import CHROMIUM
from tests.helpers import PASSWORD

if TYPE_CHECKING:
    from api.models import User

# Each run keeps its cache keys apart, so runs sharing one Redis never see each other.
# Caches connect lazily, so setting the prefix here comes before any use.
CACHE_KEY_PREFIX = f"test-{uuid.uuid4().hex[:12]}"
settings.CACHES["default"]["KEY_PREFIX"] = CACHE_KEY_PREFIX

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    for item in items:
        if "postgres" in item.keywords and not database_url.startswith("postgres"):
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://..."))
        if "redis" in item.keywords and not redis_url.startswith("redis"):
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL=redis://..."))
        # The marker, not the keyword: test names that merely say "browser" need none.
        if item.get_closest_marker("browser") and not CHROMIUM.exists():
            item.add_marker(pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if REQUIRE_SERVICES and skipped:
        terminalreporter.write_line(
            f"REQUIRE_SERVICES=1 but {len(skipped)} tests skipped: that is a failure here.",
            red=True,
        )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if REQUIRE_SERVICES and skipped and exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _isolated_cache() -> Iterator[None]:
    """Throttle counters live in the cache; every test starts with none."""
    _clear_cache()
    yield
    _clear_cache()


def _clear_cache() -> None:
    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{CACHE_KEY_PREFIX}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _responses_match_the_spec(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every response a test client receives is validated against spec/openapi.yaml
    (tests/spec_validation.py), unless the test is marked unchecked_responses."""
    if not request.node.get_closest_marker("unchecked_responses"):
        spec_validation.check_every_response(monkeypatch)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, **fields: Any) -> User:
        fields.setdefault("email", f"{username}@example.org")
        return cast("User", baker.make("api.User", username=username, **fields))

    return make


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob")


@pytest.fixture
def charlie(make_user: Callable[..., User]) -> User:
    return make_user("charlie")


@pytest.fixture
def fast_password_hashing(settings: Settings) -> None:
    """PBKDF2 at full strength costs a second per hash here; for tests not about it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice_with_password(alice: User, fast_password_hashing: None) -> User:
    """alice, able to log in with PASSWORD. The fast hasher comes first: a hash made
    before it would be one its test cannot check."""
    alice.set_password(PASSWORD)
    alice.save(update_fields=["password"])
    return alice


@pytest.fixture
def auth_client() -> Callable[[User], APIClient]:
    """A client that sends a real JWT access token for ``user``."""

    def make(user: User) -> APIClient:
        client = APIClient()
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make

"""Rate limits: event creation (in the database) and login and registration (in the cache).

Time is a settable clock, never a sleep: ``clock`` drives ``django.utils.timezone.now``,
which the event-creation limit reads, and the timer of DRF's cache throttles.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from model_bakery import baker
from pytest_django import Settings
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.throttling import SimpleRateThrottle

from api.models import Event, EventCreation, User
from api.throttles import EventCreationThrottle
from api.views.events import EventViewSet
from tests.helpers import PASSWORD, event_body

EVENTS_URL = "/api/events/"
LOGIN_URL = "/api/login/"
REGISTER_URL = "/api/register/"


class Clock:
    """A settable stand-in for the current time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", clock)
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: clock.now.timestamp()))
    return clock


def _create_event(client: APIClient, **fields: Any) -> Response:
    """An event a week after the clock's now: event_body reads the time the clock sets."""
    return client.post(EVENTS_URL, event_body(**fields), format="json")


def _creations_ago(user: User, clock: Clock, *ages: timedelta) -> None:
    """Record past creations by ``user``, as if made ``ages`` before now."""
    for age in ages:
        baker.make(EventCreation, user=user, created_at=clock.now - age)


def _assert_throttled(response: Response, retry_after: int) -> None:
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "throttled"
    assert response["Retry-After"] == str(retry_after)


# Event creation: 5 per user per rolling 24 hours, counted in the database.


def test_sixth_creation_within_24_hours_is_refused_until_the_oldest_leaves_the_window(
    clock: Clock, alice: User, auth_client: Callable[[User], APIClient]
) -> None:
    client = auth_client(alice)
    for _ in range(5):
        assert _create_event(client).status_code == 201
        clock.advance(hours=1)

    response = _create_event(client)

    # The oldest creation was 5 hours ago; it leaves the window in 19 hours.
    _assert_throttled(response, retry_after=19 * 3600)
    assert Event.objects.filter(host=alice).count() == 5
    assert EventCreation.objects.filter(user=alice).count() == 5


def test_retry_after_counts_down_to_the_second_the_oldest_creation_expires(
    clock: Clock, alice: User, auth_client: Callable[[User], APIClient]
) -> None:
    client = auth_client(alice)
    oldest = timedelta(hours=23, minutes=59, seconds=30)
    _creations_ago(alice, clock, oldest, *(timedelta(hours=hours) for hours in (20, 10, 5, 1)))

    _assert_throttled(_create_event(client), retry_after=30)
    clock.advance(seconds=29)
    _assert_throttled(_create_event(client), retry_after=1)
    clock.advance(seconds=1)
    assert _create_event(client).status_code == 201

    # Now the oldest in the window is the creation made 20 hours and 30 seconds ago.
    _assert_throttled(_create_event(client), retry_after=4 * 3600 - 30)


def test_retry_after_is_rounded_up_to_whole_seconds(
    clock: Clock, alice: User, auth_client: Callable[[User], APIClient]
) -> None:
    _creations_ago(
        alice, clock, *[timedelta(hours=23, minutes=59, seconds=59, milliseconds=500)] * 5
    )

    response = _create_event(auth_client(alice))

    _assert_throttled(response, retry_after=1)


def test_a_creation_older_than_24_hours_does_not_count(
    clock: Clock, alice: User, auth_client: Callable[[User], APIClient]
) -> None:
    _creations_ago(alice, clock, timedelta(hours=24), *[timedelta(hours=1)] * 4)

    response = _create_event(auth_client(alice))

    assert response.status_code == 201, response.content
    assert Event.objects.filter(host=alice).count() == 1


def test_deleting_an_event_does_not_give_a_creation_back(
    clock: Clock, alice: User, auth_client: Callable[[User], APIClient]
) -> None:
    client = auth_client(alice)
    created = [_create_event(client).json()["id"] for _ in range(5)]
    assert client.delete(f"{EVENTS_URL}{created[0]}/").status_code == 204

    response = _create_event(client)

    _assert_throttled(response, retry_after=24 * 3600)
    assert Event.objects.filter(host=alice).count() == 4


def test_another_user_is_not_affected_by_ones_limit(
    clock: Clock, alice: User, bob: User, auth_client: Callable[[User], APIClient]
) -> None:
    _creations_ago(alice, clock, *[timedelta(minutes=5)] * 5)
    _assert_throttled(_create_event(auth_client(alice)), retry_after=86100)

    response = _create_event(auth_client(bob))

    assert response.status_code == 201, response.content
    assert response.json()["host"]["id"] == bob.pk


@pytest.mark.parametrize(
    "body",
    [{}, {"title": "", "max_participants": 0}],
    ids=["empty body", "invalid fields"],
)
def test_invalid_body_from_a_throttled_user_gets_429_not_400(
    clock: Clock, alice: User, auth_client: Callable[[User], APIClient], body: dict[str, Any]
) -> None:
    _creations_ago(alice, clock, *[timedelta(hours=1)] * 5)

    response = auth_client(alice).post(EVENTS_URL, body, format="json")

    _assert_throttled(response, retry_after=23 * 3600)
    assert EventCreation.objects.filter(user=alice).count() == 5


def test_invalid_body_under_the_limit_gets_400_and_does_not_use_a_creation(
    clock: Clock, alice: User, auth_client: Callable[[User], APIClient]
) -> None:
    client = auth_client(alice)
    _creations_ago(alice, clock, *[timedelta(hours=1)] * 4)
    ends_before_it_starts = {"end_time": clock.now.isoformat()}

    response = _create_event(client, **ends_before_it_starts)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert EventCreation.objects.filter(user=alice).count() == 4
    assert not Event.objects.exists()
    # The fifth creation is still available.
    assert _create_event(client).status_code == 201
    assert _create_event(client).status_code == 429


def test_the_limit_survives_an_emptied_cache(
    clock: Clock,
    settings: Settings,
    alice: User,
    auth_client: Callable[[User], APIClient],
) -> None:
    """A restart, another server process or a flushed Redis all start with an empty cache."""
    client = auth_client(alice)
    for _ in range(5):
        assert _create_event(client).status_code == 201
    # A new, empty cache; clearing the shared one would also wipe other test runs' keys.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "after-a-restart",
        }
    }

    response = _create_event(client)

    _assert_throttled(response, retry_after=24 * 3600)
    assert Event.objects.filter(host=alice).count() == 5


def test_retry_after_is_accurate_when_more_creations_than_the_limit_are_recorded(
    clock: Clock,
    settings: Settings,
    alice: User,
    auth_client: Callable[[User], APIClient],
) -> None:
    """After the limit is lowered, a slot frees only when enough creations have expired."""
    settings.EVENT_CREATION_LIMIT = 3
    _creations_ago(alice, clock, *(timedelta(hours=hours) for hours in (20, 16, 12, 8, 4)))

    response = _create_event(auth_client(alice))

    # Fewer than 3 remain in the window only when the one made 12 hours ago leaves it.
    _assert_throttled(response, retry_after=12 * 3600)


def test_the_creation_limit_lets_the_anonymous_through_to_the_permission() -> None:
    request = Request(APIRequestFactory().post("/api/events/"))
    request.user = AnonymousUser()

    assert EventCreationThrottle().allow_request(request, EventViewSet()) is True


# Login and registration: DRF's cache throttles, per username and per client address.
# The limits are the documented defaults (README, "Configuration"), written out as
# numbers: read from the throttle, a test would follow any change to them.


def _login(username: object, password: str, address: str, **headers: str) -> Response:
    return APIClient().post(
        LOGIN_URL,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **headers,
    )


@pytest.mark.usefixtures("alice_with_password")
def test_failed_logins_for_one_username_from_one_address_are_limited(clock: Clock) -> None:
    spellings = ["alice", "ALICE", " Alice "]
    for attempt in range(10):
        username = spellings[attempt % len(spellings)]
        assert _login(username, "wrong", "10.0.0.1").status_code == 401, attempt

    eleventh = _login("alice", "wrong", "10.0.0.1")
    right_password_there = _login("alice", PASSWORD, "10.0.0.1")

    _assert_throttled(eleventh, retry_after=60)
    _assert_throttled(right_password_there, retry_after=60)
    assert _login("bob", "wrong", "10.0.0.1").status_code == 401
    clock.advance(seconds=59)
    _assert_throttled(_login("alice", PASSWORD, "10.0.0.1"), retry_after=1)
    clock.advance(seconds=1)
    assert _login("alice", PASSWORD, "10.0.0.1").status_code == 200


@pytest.mark.usefixtures("alice_with_password")
def test_guessing_from_one_address_does_not_lock_the_owner_out(clock: Clock) -> None:
    """The lockout attack: before, ten wrong passwords a minute from anywhere refused the
    owner's right one (429)."""
    for attempt in range(10):
        assert _login("alice", "wrong", "203.0.113.66").status_code == 401, attempt
    _assert_throttled(_login("alice", "wrong", "203.0.113.66"), retry_after=60)

    assert _login("alice", PASSWORD, "198.51.100.20").status_code == 200


@pytest.mark.usefixtures("alice_with_password")
def test_successful_logins_do_not_count(clock: Clock) -> None:
    """An office behind one address logs in all day; only failures use the limits."""
    for attempt in range(35):
        assert _login("alice", PASSWORD, "192.0.2.50").status_code == 200, attempt

    assert _login("alice", "wrong", "192.0.2.50").status_code == 401


@pytest.mark.usefixtures("alice_with_password")
def test_guessing_spread_over_addresses_meets_the_account_ceiling(clock: Clock) -> None:
    """100 failures an hour for one account, from any number of addresses: then the
    addresses that failed are refused, and the owner's, which did not, still logs in."""
    for attempt in range(100):
        address = f"10.1.{attempt // 250}.{attempt % 250}"
        assert _login("alice", "wrong", address).status_code == 401, attempt

    _assert_throttled(_login("alice", "wrong", "10.1.0.7"), retry_after=3600)
    _assert_throttled(_login("alice", PASSWORD, "10.1.0.7"), retry_after=3600)
    assert _login("alice", PASSWORD, "198.51.100.20").status_code == 200
    # A fresh address's failure counts, and then that address is refused too.
    assert _login("alice", "wrong", "198.51.100.21").status_code == 401
    _assert_throttled(_login("alice", PASSWORD, "198.51.100.21"), retry_after=3600)
    clock.advance(seconds=3600)
    assert _login("alice", PASSWORD, "10.1.0.7").status_code == 200


@pytest.mark.usefixtures("fast_password_hashing")
def test_a_numeric_username_is_no_username_and_uses_no_limit(
    clock: Clock, make_user: Callable[..., User]
) -> None:
    make_user("12345")
    # A JSON number is no username (400): refused before any password is checked.
    for _ in range(3):
        assert _login(12345, "wrong", "10.0.0.1").status_code == 400
    for attempt in range(10):
        assert _login("12345", "wrong", "10.0.0.1").status_code == 401, attempt

    _assert_throttled(_login("12345", "wrong", "10.0.0.1"), retry_after=60)


@pytest.mark.usefixtures("fast_password_hashing")
def test_failed_logins_from_one_address_are_limited_whatever_x_forwarded_for_says(
    clock: Clock, db: None
) -> None:
    for attempt in range(30):
        response = _login(
            f"user{attempt}", "wrong", "198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}"
        )
        assert response.status_code == 401, attempt

    response = _login(
        "someone", "wrong", "198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.250, 192.0.2.1"
    )

    _assert_throttled(response, retry_after=60)
    assert _login("someone", "wrong", "198.51.100.8").status_code == 401
    clock.advance(seconds=60)
    assert _login("someone", "wrong", "198.51.100.7").status_code == 401


@pytest.mark.usefixtures("fast_password_hashing")
def test_registrations_from_one_address_are_limited(clock: Clock, db: None) -> None:
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    for attempt in range(20):
        body = {"username": f"user{attempt}", "email": f"u{attempt}@example.org"}
        response = client.post(REGISTER_URL, {**body, "password": PASSWORD}, format="json")
        assert response.status_code == 201, response.content

    refused = client.post(
        REGISTER_URL,
        {"username": "late", "email": "late@example.org", "password": PASSWORD},
        format="json",
    )
    invalid = client.post(REGISTER_URL, {}, format="json")

    _assert_throttled(refused, retry_after=3600)
    _assert_throttled(invalid, retry_after=3600)
    assert not User.objects.filter(username="late").exists()
    other_address = APIClient(REMOTE_ADDR="198.51.100.8").post(
        REGISTER_URL,
        {"username": "late", "email": "late@example.org", "password": PASSWORD},
        format="json",
    )
    assert other_address.status_code == 201


@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.parametrize(
    ("spelled", "value"), [("True", True), ("None", None)], ids=["true", "null"]
)
def test_a_username_that_is_not_a_string_or_number_is_not_limited_as_its_spelling(
    clock: Clock, db: None, spelled: str, value: object
) -> None:
    """JSON true or null is no username at all (400), not the account spelled "True" or
    "None", so guesses against that account do not refuse it."""
    for attempt in range(10):
        assert _login(spelled, "wrong", "10.0.0.1").status_code == 401, attempt
    _assert_throttled(_login(spelled, "wrong", "10.0.0.1"), retry_after=60)

    response = _login(value, "wrong", "10.0.0.1")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"][0]["field"] == "username"


@pytest.mark.usefixtures("fast_password_hashing")
def test_usernames_that_are_one_identity_are_limited_together(clock: Clock, db: None) -> None:
    """The limit keys a username as the account is found (api.identities): "straße",
    "STRASSE" and "strasse" are one account, so guesses at any spelling count as one."""
    for attempt, spelling in enumerate(["straße", "STRASSE", "strasse"] * 3 + ["Straße"]):
        assert _login(spelling, "wrong", "10.0.0.1").status_code == 401, attempt

    _assert_throttled(_login("STRAßE", "wrong", "10.0.0.1"), retry_after=60)


def test_the_creation_limit_holds_without_the_early_throttle(
    clock: Clock,
    alice: User,
    auth_client: Callable[[User], APIClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The throttle only answers early: the service counts again under the host's lock
    (two requests can both pass the throttle), and refuses with the same 429."""
    monkeypatch.setattr(EventViewSet, "get_throttles", lambda self: [])
    _creations_ago(alice, clock, timedelta(hours=5), *[timedelta(hours=1)] * 4)

    response = _create_event(auth_client(alice))

    _assert_throttled(response, retry_after=19 * 3600)
    assert not Event.objects.exists()
    assert EventCreation.objects.filter(user=alice).count() == 5


def test_a_creation_forgets_the_hosts_creations_that_left_the_window(
    clock: Clock, alice: User, bob: User, auth_client: Callable[[User], APIClient]
) -> None:
    """So the table holds a window's worth per user. Only the host's: the lock the
    creation holds is the host's, and another user's rows wait for their own creation."""
    _creations_ago(alice, clock, timedelta(hours=30), timedelta(hours=24), timedelta(hours=1))
    _creations_ago(bob, clock, timedelta(hours=30))

    assert _create_event(auth_client(alice)).status_code == 201

    kept = EventCreation.objects.filter(user=alice).values_list("created_at", flat=True)
    assert sorted(clock.now - created_at for created_at in kept) == [
        timedelta(0),
        timedelta(hours=1),
    ]
    assert EventCreation.objects.filter(user=bob).count() == 1

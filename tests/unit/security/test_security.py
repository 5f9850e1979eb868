"""The OWASP API Security Top 10 (2023), walked through for this API.

Each item names the tests that hold the line (in this file unless a file is given, by its
path under tests/unit/), or says why it does not apply.

API1 Broken Object Level Authorization
    Events are public to read; invitations are visible to their invitee only, and to
    anyone else they do not exist (404, indistinguishable from an unknown id); only the
    host changes or deletes an event, or invites to it.
    Here: test_who_may_do_what (every object-level row), and
    test_an_invitation_you_may_not_see_looks_like_one_that_does_not_exist.
    Also: api/test_invitations.py::test_nobody_but_the_invitee_can_see_an_invitation,
    ::test_nobody_but_the_invitee_can_answer_an_invitation,
    ::test_invitations_list_shows_only_invitations_received_by_the_caller;
    api/test_events_write.py::test_event_permissions;
    api/test_participation.py::test_leaving_removes_only_the_callers_registration.

API2 Broken Authentication
    Short-lived JWT access tokens (10 minutes), refresh tokens rotated and redeemed once
    (reuse revokes the whole session: api/test_accounts.py and db/test_held_races.py),
    malformed claims refused (security/test_token_claims.py), a signing key separate
    from DJANGO_SECRET_KEY, login limited per username and address.
    Here: test_access_tokens_are_short_lived, test_a_forged_token_is_refused (tampered
    signature, changed payload, alg none, other algorithms, no expiry, refresh type),
    test_an_expired_access_token_is_refused,
    test_a_refresh_token_is_never_accepted_as_an_access_token,
    test_tokens_of_a_deleted_or_deactivated_user_cannot_write,
    test_a_token_signed_with_the_django_secret_key_is_refused_when_a_jwt_key_is_set,
    test_the_jwt_signing_key_is_read_from_its_own_variable,
    test_login_answers_the_same_for_an_unknown_user_and_a_wrong_password.
    Also: api/test_accounts.py::test_a_refresh_token_is_not_accepted_as_an_access_token,
    ::test_the_token_of_a_deleted_user_is_unauthorized,
    ::test_the_token_of_a_deactivated_user_is_unauthorized,
    ::test_a_rotated_refresh_token_cannot_be_used_again,
    ::test_logout_blacklists_the_refresh_token,
    ::test_logout_cannot_blacklist_another_users_refresh_token,
    ::test_refresh_for_a_deleted_user_is_unauthorized,
    ::test_refresh_for_a_deactivated_user_is_unauthorized;
    api/test_throttling.py::test_failed_logins_for_one_username_are_limited_from_any_address,
    ::test_failed_logins_from_one_address_are_limited_whatever_x_forwarded_for_says.
    Accepted: logout cannot revoke access tokens already issued (documented; they expire
    within minutes), and the API has no password change, so simplejwt's
    CHECK_REVOKE_TOKEN stays off.

API3 Broken Object Property Level Authorization
    Another user is only ever {id, username}; an email leaves the service only in
    /api/me/ and in the response to one's own registration; no password hash anywhere.
    Read-only properties are ignored on every write.
    Here: test_no_response_of_a_whole_journey_exposes_an_email_or_a_password_hash.
    Also: security/test_mass_assignment.py (every write); api/test_accounts.py::
    test_another_users_representation_never_contains_their_email;
    api/test_participation.py::test_participants_list_exposes_no_email;
    api/test_feedback.py::test_feedback_list_exposes_no_email.
    Accepted: registration answers 400 ``unique`` for a taken email (issue 2 requires it),
    which tells that the address has an account; the registration limit per address
    slows enumeration.

API4 Unrestricted Resource Consumption
    Bodies above DATA_UPLOAD_MAX_MEMORY_SIZE -> 413; pages of at most 100 rows; list
    queries do not grow with the page; oversized parameters refused before any query;
    statements time out on PostgreSQL; event creation limited per user.
    Here: test_every_list_caps_its_page_at_100,
    test_every_endpoint_that_takes_a_body_refuses_one_over_the_limit,
    test_the_body_limit_follows_the_setting.
    Also: hostile_input/test_sizes.py::test_a_one_megabyte_string_is_refused_as_too_large;
    hostile_input/test_query_strings.py::test_a_huge_query_parameter_is_refused_before_any_query,
    ::test_more_query_parameters_than_django_accepts_is_a_bad_request;
    hostile_input/test_bodies.py::test_a_body_that_is_not_valid_json_is_a_parse_error (deeply
    nested JSON); api/test_events_list.py::test_a_page_size_above_100_means_100,
    ::test_listing_events_takes_the_same_queries_whatever_the_page_size (and the query
    count tests of every list); api/test_throttling.py::
    test_sixth_creation_within_24_hours_is_refused_until_the_oldest_leaves_the_window;
    api/test_operations.py::test_database_outage_is_a_503_with_retry_after.

API5 Broken Function Level Authorization
    Write functions check the caller's role on the object: host for update, delete and
    invite; participant for feedback; invitee for answers; authentication for every write.
    There is no admin site and no user directory.
    Here: test_who_may_do_what (the function-level rows: non-host invite, update,
    delete; non-participant feedback; anonymous writes),
    test_there_is_no_admin_site_or_user_directory.
    Also: api/test_events_write.py::test_event_permissions; api/test_invitations.py::
    test_only_the_host_may_invite, ::test_participant_who_is_not_the_host_cannot_invite;
    api/test_feedback.py::test_only_participants_may_leave_feedback.

API6 Unrestricted Access to Sensitive Business Flows
    The flows worth automating against us: guessing passwords, mass account creation and
    mass event creation. Login is limited per username and per client address,
    registration per address, event creation per user in the database. The client
    address is REMOTE_ADDR unless NUM_PROXIES says how many proxies to trust.
    Here: test_x_forwarded_for_does_not_change_the_client_identity,
    test_rotating_x_forwarded_for_does_not_escape_the_registration_limit.
    Also: api/test_throttling.py (every test), db/test_concurrency.py::
    test_twelve_creations_at_once_create_five_events.
    Accepted: a host may invite any user once per event (one pending invitation per
    invitee; the event creation limit bounds the number of events).

API7 Server Side Request Forgery
    Not applicable: no endpoint fetches a URL or contacts a host named by a client (no
    webhooks, no avatars by URL, simplejwt's JWK_URL is unset). Pagination links are built
    from the Host header only when it is in ALLOWED_HOSTS:
    test_pagination_links_never_point_at_another_host.

API8 Security Misconfiguration
    DEBUG off unless asked for, no traceback in any answer, one error shape, security
    headers, no CORS, only the methods each endpoint documents.
    Here: test_responses_carry_security_headers_and_no_cors_grant,
    test_pagination_links_never_point_at_another_host,
    test_undocumented_methods_are_refused.
    Also: api/test_problem_details.py::test_an_unexpected_error_is_a_problem_without_details;
    api/test_operations.py::test_production_settings_pass_the_deploy_check,
    ::test_the_server_refuses_to_start_without_a_secret_key_when_debug_is_off.

API9 Improper Inventory Management
    One API version, whose checked-in OpenAPI document is the contract and must match the
    code; every other address is a JSON 404.
    Also: spec/test_spec.py::test_checked_in_spec_matches_the_generated_one,
    ::test_schema_endpoint_serves_the_checked_in_file;
    api/test_problem_details.py::test_unknown_addresses_answer_the_json_404_for_any_method;
    spec/test_spec_breaking.py (breaking changes need a new major version);
    tests/contract/test_schemathesis.py (the API answers as the document says).
    Here: test_there_is_no_admin_site_or_user_directory.

API10 Unsafe Consumption of APIs
    Not applicable: the service consumes no third-party API. PostgreSQL and Redis are its
    own infrastructure; their failures are answered 503 (api/test_operations.py).
"""

from __future__ import annotations

import base64
import importlib.util
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from model_bakery import baker
from pytest_django import Settings
from rest_framework.response import Response
from rest_framework.settings import api_settings as drf_settings
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt import state as simplejwt_state
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from api.models import Event, EventParticipant, Feedback, Invitation, User
from api.throttles import LoginAddressThrottle, SignUpThrottle
from tests.helpers import PASSWORD, assert_problem, event_body, nothing_written

AuthClient = Callable[[User], APIClient]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

SETTINGS_FILE = Path(__file__).resolve().parents[3] / "config" / "settings.py"


# API1 and API5: object-level and function-level authorisation, as one table


@pytest.fixture
def dave(make_user: Callable[..., User]) -> User:
    return make_user("dave")


@pytest.fixture
def world(alice: User, bob: User, charlie: User, dave: User) -> dict[str, Any]:
    """alice hosts; bob takes part in both events; dave is invited; charlie is nobody."""
    event = baker.make_recipe("api.future_event", host=alice, title="Meetup")
    started = baker.make_recipe("api.started_event", host=alice, title="Running")
    baker.make(EventParticipant, event=event, user=bob)
    baker.make(EventParticipant, event=started, user=bob)
    invitation = baker.make(Invitation, event=event, inviter=alice, invitee=dave)
    return {
        "users": {"alice": alice, "bob": bob, "charlie": charlie, "dave": dave},
        "event": f"/api/events/{event.pk}/",
        "started": f"/api/events/{started.pk}/",
        "invitation": f"/api/invitations/{invitation.pk}/",
        "rows": {"event": event, "started": started, "invitation": invitation},
    }


BODIES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "none": lambda world: None,
    "event": lambda world: event_body(),
    "title": lambda world: {"title": "Taken over"},
    "invite-charlie": lambda world: {"invitee": world["users"]["charlie"].pk},
    "accept": lambda world: {"status": "ACCEPTED"},
    "rating": lambda world: {"rating": 1, "comment": "Sabotage"},
}


CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
# (id, role, method, target, body, status); "event:invite/" is the event's URL + "invite/".
AUTHORISATION_TABLE = [
    # API1: another user's invitation does not exist for them.
    ("outsider-sees-invitation", "charlie", "get", "invitation", "none", 404),
    ("outsider-answers-invitation", "charlie", "put", "invitation", "accept", 404),
    ("inviter-sees-invitation", "alice", "get", "invitation", "none", 404),
    ("inviter-answers-invitation", "alice", "put", "invitation", "accept", 404),
    ("participant-answers-invitation", "bob", "put", "invitation", "accept", 404),
    ("invitee-sees-invitation", "dave", "get", "invitation", "none", 200),
    # API1: another host's event may be read, never changed.
    ("outsider-reads-event", "charlie", "get", "event", "none", 200),
    ("outsider-replaces-event", "charlie", "put", "event", "event", 403),
    ("outsider-changes-event", "charlie", "patch", "event", "title", 403),
    ("outsider-deletes-event", "charlie", "delete", "event", "none", 403),
    ("outsider-invites", "charlie", "post", "event:invite/", "invite-charlie", 403),
    ("outsider-leaves-feedback", "charlie", "post", "started:feedback/", "rating", 403),
    ("outsider-unregisters-others", "charlie", "delete", "event:unregister/", "none", 404),
    # API5: participants and invitees are not hosts; hosts are not participants.
    ("participant-replaces-event", "bob", "put", "event", "event", 403),
    ("participant-changes-event", "bob", "patch", "event", "title", 403),
    ("participant-deletes-event", "bob", "delete", "event", "none", 403),
    ("participant-invites", "bob", "post", "event:invite/", "invite-charlie", 403),
    ("invitee-changes-event", "dave", "patch", "event", "title", 403),
    ("invitee-invites", "dave", "post", "event:invite/", "invite-charlie", 403),
    ("host-leaves-feedback", "alice", "post", "started:feedback/", "rating", 403),
    ("host-invites", "alice", "post", "event:invite/", "invite-charlie", 201),
    ("participant-leaves-feedback", "bob", "post", "started:feedback/", "rating", 201),
    # API5: every write, and every private read, needs credentials.
    ("anonymous-creates-event", "anonymous", "post", "/api/events/", "event", 401),
    ("anonymous-changes-event", "anonymous", "patch", "event", "title", 401),
    ("anonymous-deletes-event", "anonymous", "delete", "event", "none", 401),
    ("anonymous-registers", "anonymous", "post", "event:register/", "none", 401),
    ("anonymous-lists-participants", "anonymous", "get", "event:participants/", "none", 401),
    ("anonymous-invites", "anonymous", "post", "event:invite/", "invite-charlie", 401),
    ("anonymous-lists-invitations", "anonymous", "get", "/api/invitations/", "none", 401),
    ("anonymous-sees-invitation", "anonymous", "get", "invitation", "none", 401),
    ("anonymous-answers-invitation", "anonymous", "put", "invitation", "accept", 401),
    ("anonymous-leaves-feedback", "anonymous", "post", "started:feedback/", "rating", 401),
    ("anonymous-reads-me", "anonymous", "get", "/api/me/", "none", 401),
]


def _shows_the_invitation(world: dict[str, Any], body: dict[str, Any]) -> None:
    invitation = world["rows"]["invitation"]
    assert (body["id"], body["invitee"]["username"], body["status"]) == (
        invitation.pk,
        "dave",
        "PENDING",
    )


def _shows_the_event(world: dict[str, Any], body: dict[str, Any]) -> None:
    assert (body["id"], body["title"]) == (world["rows"]["event"].pk, "Meetup")


def _invited_charlie(world: dict[str, Any], body: dict[str, Any]) -> None:
    invitation = Invitation.objects.get(pk=body["id"])
    users = world["users"]
    assert (invitation.event, invitation.inviter, invitation.invitee, invitation.status) == (
        world["rows"]["event"],
        users["alice"],
        users["charlie"],
        Invitation.Status.PENDING,
    )


def _left_feedback(world: dict[str, Any], body: dict[str, Any]) -> None:
    feedback = Feedback.objects.get(pk=body["id"])
    assert (feedback.event, feedback.user, feedback.rating, feedback.comment) == (
        world["rows"]["started"],
        world["users"]["bob"],
        1,
        "Sabotage",
    )


# What each allowed row of the table shows or writes; reads write nothing.
ALLOWED = {
    "invitee-sees-invitation": _shows_the_invitation,
    "outsider-reads-event": _shows_the_event,
    "host-invites": _invited_charlie,
    "participant-leaves-feedback": _left_feedback,
}


def send(client: APIClient, method: str, url: str, data: Any = None) -> Response:
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, data, format="json")


def resolve(world: dict[str, Any], target: str) -> str:
    base, _, action = target.partition(":")
    return world[base] + action if base in world else target


@pytest.mark.parametrize(
    ("case", "role", "method", "target", "body", "status"),
    [pytest.param(row_id, *row, id=row_id) for row_id, *row in AUTHORISATION_TABLE],
)
def test_who_may_do_what(
    auth_client: AuthClient,
    world: dict[str, Any],
    case: str,
    role: str,
    method: str,
    target: str,
    body: str,
    status: int,
) -> None:
    client = APIClient() if role == "anonymous" else auth_client(world["users"][role])
    url, data = resolve(world, target), BODIES[body](world)

    if status < 400 and method != "get":
        response = send(client, method, url, data)
    else:
        with nothing_written():
            response = send(client, method, url, data)

    if status < 400:
        assert response.status_code == status, response.content
        ALLOWED[case](world, response.json())
        return
    assert_problem(response, status, CODES[status])
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_invitation_you_may_not_see_looks_like_one_that_does_not_exist(
    auth_client: AuthClient, world: dict[str, Any]
) -> None:
    """No difference in status or body, so ids cannot be probed for existence."""
    client = auth_client(world["users"]["charlie"])

    someone_elses = client.get(world["invitation"])
    unknown = client.get("/api/invitations/999999999/")

    assert someone_elses.status_code == unknown.status_code == 404
    assert someone_elses.json() == unknown.json()


@pytest.mark.parametrize(
    "path", ["/admin/", "/api/admin/", "/api/users/", "/api/users/1/", "/api/accounts/"]
)
def test_there_is_no_admin_site_or_user_directory(
    auth_client: AuthClient, alice: User, path: str
) -> None:
    alice.is_staff = alice.is_superuser = True
    alice.save(update_fields=["is_staff", "is_superuser"])

    response = auth_client(alice).get(path)

    assert_problem(response, 404, "not_found")


# API3: what a user may see of another user


def walk(value: Any) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) pair of a JSON document, nested ones included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield None, item
            yield from walk(item)


def test_no_response_of_a_whole_journey_exposes_an_email_or_a_password_hash() -> None:
    """Two users go through everything the API offers; every JSON answer is then read.

    An email may appear only as the caller's own, in /api/me/ and in the answer to their
    own registration; no key is called password; no password, hash or hash prefix occurs.
    """
    anonymous = APIClient()
    seen: list[tuple[str, str, Response, str | None]] = []

    def call(client: APIClient, method: str, url: str, body: Any = None, caller: str = "") -> Any:
        response = send(client, method, url, body)
        assert response.status_code < 500, response.content
        seen.append((method, url, response, caller or None))
        return response.json() if response.content else None

    for name in ("dora", "erin"):
        account = {"username": name, "email": f"{name}@example.org", "password": PASSWORD}
        call(anonymous, "post", "/api/register/", account, caller=name)
    call(anonymous, "post", "/api/register/", {"username": "x", "email": "erin@example.org"})
    call(anonymous, "post", "/api/login/", {"username": "erin", "password": "wrong-password"})
    clients = {}
    for name in ("dora", "erin"):
        tokens = call(anonymous, "post", "/api/login/", {"username": name, "password": PASSWORD})
        clients[name] = APIClient()
        clients[name].credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        call(clients[name], "get", "/api/me/", caller=name)
        tokens = call(anonymous, "post", "/api/token/refresh/", {"refresh": tokens["refresh"]})
        call(clients[name], "post", "/api/logout/", {"refresh": tokens["refresh"]})
    dora, erin = clients["dora"], clients["erin"]
    first = call(dora, "post", "/api/events/", event_body())["id"]
    second = call(dora, "post", "/api/events/", event_body())["id"]
    call(erin, "post", f"/api/events/{first}/register/")
    call(erin, "post", f"/api/events/{first}/register/")
    erin_id = User.objects.get(username="erin").pk
    invitation = call(dora, "post", f"/api/events/{second}/invite/", {"invitee": erin_id})["id"]
    call(dora, "post", f"/api/events/{first}/invite/", {"invitee": erin_id})
    call(erin, "get", "/api/invitations/")
    call(erin, "get", f"/api/invitations/{invitation}/")
    call(erin, "put", f"/api/invitations/{invitation}/", {"status": "ACCEPTED"})
    started = baker.make_recipe("api.started_event", host=User.objects.get(username="dora"))
    baker.make(EventParticipant, event=started, user_id=erin_id)
    call(erin, "post", f"/api/events/{started.pk}/feedback/", {"rating": 5, "comment": "Nice"})
    for client in (anonymous, dora, erin):
        call(client, "get", "/api/events/")
        call(client, "get", f"/api/events/{first}/")
        call(client, "get", f"/api/events/{started.pk}/feedback/")
        call(client, "get", f"/api/events/{first}/participants/")
    call(dora, "patch", f"/api/events/{first}/", {"title": "Renamed"})

    users = list(User.objects.all())
    emails = {user.email for user in users}
    secrets = {PASSWORD, *(user.password for user in users)}
    assert len(seen) > 30
    for method, url, response, caller in seen:
        where = f"{method.upper()} {url} -> {response.status_code}"
        text = response.content.decode()
        for secret in (*secrets, "pbkdf2", "argon2", "bcrypt", "md5$", "sha1$"):
            assert secret not in text, where
        document = response.json() if response.content else None
        keys = {key for key, _ in walk(document)}
        assert not keys & {"password", "password_hash", "hash"}, where
        own_account = caller is not None and url in ("/api/me/", "/api/register/")
        own = {f"{caller}@example.org"} if own_account else set()
        assert {email for email in emails if email in text} <= own, where
        assert "email" not in keys or own_account, where


# API2: JWT


@pytest.fixture
def signing_key() -> str:
    return str(django_settings.SIMPLE_JWT["SIGNING_KEY"])


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def me(token: str) -> Response:
    return APIClient().get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.usefixtures("alice_with_password")
def test_access_tokens_are_short_lived(api_client: APIClient) -> None:
    tokens = api_client.post("/api/login/", {"username": "alice", "password": PASSWORD}).json()

    access = AccessToken(tokens["access"])
    assert timedelta(seconds=access["exp"] - access["iat"]) <= timedelta(minutes=15)
    refresh = RefreshToken(tokens["refresh"])
    assert timedelta(seconds=refresh["exp"] - refresh["iat"]) <= timedelta(days=7)


FORGERIES: dict[str, Callable[[AccessToken, str, User], str]] = {
    "tampered-signature": lambda token, key, other: (
        str(token)[:-4] + ("AAAA" if not str(token).endswith("AAAA") else "BBBB")
    ),
    "payload-changed-to-another-user": lambda token, key, other: ".".join(
        [
            str(token).split(".")[0],
            b64({**token.payload, "user_id": str(other.pk)}),
            str(token).split(".")[2],
        ]
    ),
    "alg-none": lambda token, key, other: jwt.encode(token.payload, None, algorithm="none"),
    "alg-none-with-the-old-signature": lambda token, key, other: ".".join(
        [b64({"alg": "none", "typ": "JWT"}), *str(token).split(".")[1:]]
    ),
    "hs512-with-the-right-key": lambda token, key, other: jwt.encode(
        token.payload, key, algorithm="HS512"
    ),
    "hs256-with-another-key": lambda token, key, other: jwt.encode(
        token.payload, "not-the-signing-key-" * 3, algorithm="HS256"
    ),
    "no-expiry": lambda token, key, other: jwt.encode(
        {k: v for k, v in token.payload.items() if k != "exp"}, key, algorithm="HS256"
    ),
    "no-token-type": lambda token, key, other: jwt.encode(
        {k: v for k, v in token.payload.items() if k != "token_type"}, key, algorithm="HS256"
    ),
    "refresh-type": lambda token, key, other: jwt.encode(
        {**token.payload, "token_type": "refresh"}, key, algorithm="HS256"
    ),
    "empty-string": lambda token, key, other: "",
}


# The forgery with HS512 uses the test signing key, which is short for SHA-512.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_token_is_refused(alice: User, bob: User, signing_key: str, forgery: str) -> None:
    token = AccessToken.for_user(alice)
    assert me(str(token)).status_code == 200

    response = me(FORGERIES[forgery](token, signing_key, bob))

    assert response.status_code == 401, response.content
    assert response.json()["code"] in {"token_not_valid", "bad_authorization_header"}
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "alice" not in response.content.decode()


@pytest.mark.parametrize(
    "expired_for",
    [timedelta(seconds=1), timedelta(hours=1), timedelta(days=365)],
    ids=["one-second", "one-hour", "one-year"],
)
def test_an_expired_access_token_is_refused(alice: User, expired_for: timedelta) -> None:
    token = AccessToken.for_user(alice)
    token.set_exp(from_time=timezone.now() - expired_for, lifetime=timedelta(0))

    response = me(str(token))

    assert_problem(response, 401, "token_not_valid")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/me/"),
        ("post", "/api/events/"),
        ("get", "/api/invitations/"),
        ("post", "/api/logout/"),
    ],
)
def test_a_refresh_token_is_never_accepted_as_an_access_token(
    alice: User, method: str, url: str
) -> None:
    refresh = RefreshToken.for_user(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh}")

    with nothing_written():
        response = send(client, method, url, {"refresh": str(refresh)})

    assert_problem(response, 401, "token_not_valid")


@pytest.mark.parametrize(
    ("removal", "code"),
    [
        pytest.param(lambda user: user.delete(), "user_not_found", id="deleted"),
        pytest.param(
            lambda user: User.objects.filter(pk=user.pk).update(is_active=False),
            "user_inactive",
            id="deactivated",
        ),
    ],
)
def test_tokens_of_a_deleted_or_deactivated_user_cannot_write(
    auth_client: AuthClient, alice: User, removal: Callable[[User], Any], code: str
) -> None:
    client = auth_client(alice)
    event = baker.make_recipe("api.future_event", host=alice)
    removal(alice)

    with nothing_written():
        created = client.post("/api/events/", event_body(), format="json")
        changed = client.patch(f"/api/events/{event.pk}/", {"title": "Still mine?"}, format="json")

    assert_problem(created, 401, code)
    assert_problem(changed, 401, code)


@pytest.fixture
def separate_jwt_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The token backend as a process started with JWT_SIGNING_KEY set builds it.

    simplejwt builds its TokenBackend once, at import, from SIMPLE_JWT, and caches the
    prepared key on it. Overriding SIMPLE_JWT (override_settings or the settings fixture)
    fires setting_changed, which rebuilds only ``rest_framework_simplejwt.settings.
    api_settings``: the backend keeps the old key. Tokens look the backend up on every
    use, so a new one is put in its place.
    """
    key = "a-jwt-signing-key-that-is-not-the-django-secret-key-0123456789"
    assert key != django_settings.SECRET_KEY
    current = simplejwt_state.token_backend
    backend = TokenBackend(
        current.algorithm,
        key,
        current.verifying_key,
        current.audience,
        current.issuer,
        None,
        current.leeway,
        current.json_encoder,
    )
    monkeypatch.setattr(simplejwt_state, "token_backend", backend)
    return key


def test_a_token_signed_with_the_django_secret_key_is_refused_when_a_jwt_key_is_set(
    alice: User, separate_jwt_key: str
) -> None:
    payload = AccessToken.for_user(alice).payload
    with_secret_key = jwt.encode(payload, django_settings.SECRET_KEY, algorithm="HS256")
    with_jwt_key = jwt.encode(payload, separate_jwt_key, algorithm="HS256")

    assert_problem(me(with_secret_key), 401, "token_not_valid")
    assert me(with_jwt_key).status_code == 200
    assert me(str(AccessToken.for_user(alice))).status_code == 200


def load_settings_module(monkeypatch: pytest.MonkeyPatch, **environment: str) -> Any:
    """config/settings.py evaluated afresh under ``environment``, apart from the running one."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_jwt_signing_key_is_read_from_its_own_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    separate = load_settings_module(
        monkeypatch, DJANGO_SECRET_KEY="the-django-secret-key", JWT_SIGNING_KEY="the-jwt-key"
    )
    monkeypatch.delenv("JWT_SIGNING_KEY")
    defaulted = load_settings_module(monkeypatch, DJANGO_SECRET_KEY="the-django-secret-key")

    assert separate.SIMPLE_JWT["SIGNING_KEY"] == "the-jwt-key"
    assert separate.SECRET_KEY == "the-django-secret-key"
    assert defaulted.SIMPLE_JWT["SIGNING_KEY"] == "the-django-secret-key"


@pytest.mark.usefixtures("alice_with_password")
def test_login_answers_the_same_for_an_unknown_user_and_a_wrong_password(
    api_client: APIClient,
) -> None:
    wrong_password = api_client.post("/api/login/", {"username": "alice", "password": "nope"})
    unknown_user = api_client.post("/api/login/", {"username": "nobody", "password": "nope"})

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()


# API4: resource consumption


def test_every_list_caps_its_page_at_100(alice: User, bob: User, auth_client: AuthClient) -> None:
    people = baker.make(
        User,
        email=iter(f"person{number}@example.org" for number in range(101)),
        _quantity=101,
        _bulk_create=True,
    )
    events = baker.make_recipe("api.future_event", host=alice, _quantity=101, _bulk_create=True)
    started = baker.make_recipe("api.started_event", host=alice)
    baker.make(
        EventParticipant,
        event=started,
        user=iter(people),
        _quantity=101,
        _bulk_create=True,
    )
    baker.make(
        Feedback, event=started, user=iter(people), rating=3, _quantity=101, _bulk_create=True
    )
    baker.make(
        Invitation, event=iter(events), inviter=alice, invitee=bob, _quantity=101, _bulk_create=True
    )
    client = auth_client(bob)

    for url in (
        "/api/events/",
        f"/api/events/{started.pk}/participants/",
        f"/api/events/{started.pk}/feedback/",
        "/api/invitations/",
    ):
        response = client.get(url, {"page_size": 10**9})

        assert response.status_code == 200, (url, response.content)
        page = response.json()
        assert page["count"] >= 101, url
        assert len(page["results"]) == 100, url
        assert page["next"] is not None, url


ENDPOINTS_WITH_BODIES = [
    pytest.param("anonymous", "post", "/api/register/", id="register"),
    pytest.param("anonymous", "post", "/api/login/", id="login"),
    pytest.param("anonymous", "post", "/api/token/refresh/", id="refresh"),
    pytest.param("alice", "post", "/api/logout/", id="logout"),
    pytest.param("alice", "post", "/api/events/", id="create-event"),
    pytest.param("alice", "put", "event", id="replace-event"),
    pytest.param("alice", "patch", "event", id="change-event"),
    pytest.param("alice", "post", "event:invite/", id="invite"),
    pytest.param("dave", "put", "invitation", id="answer"),
    pytest.param("bob", "post", "started:feedback/", id="feedback"),
]


@pytest.mark.parametrize(("role", "method", "target"), ENDPOINTS_WITH_BODIES)
def test_every_endpoint_that_takes_a_body_refuses_one_over_the_limit(
    auth_client: AuthClient, world: dict[str, Any], role: str, method: str, target: str
) -> None:
    client = APIClient() if role == "anonymous" else auth_client(world["users"][role])
    oversized = {"padding": "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}

    with nothing_written():
        response = send(client, method, resolve(world, target), oversized)

    assert_problem(response, 413, "request_too_large")


@pytest.mark.parametrize(("padding", "status"), [(400, 201), (2000, 413)])
def test_the_body_limit_follows_the_setting(
    settings: Settings, auth_client: AuthClient, alice: User, padding: int, status: int
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = auth_client(alice).post(
        "/api/events/", {**event_body(), "description": "x" * padding}, format="json"
    )

    assert response.status_code == status, response.content
    assert Event.objects.count() == (1 if status == 201 else 0)


# API6: the client identity behind the login and registration limits


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_X_FORWARDED_FOR": "203.0.113.9"}, id="spoofed-address"),
        pytest.param({"HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7"}, id="spoofed-chain"),
        pytest.param({"HTTP_X_FORWARDED_FOR": "not an address"}, id="garbage"),
        pytest.param({"HTTP_X_FORWARDED_FOR": "2001:db8::1"}, id="ipv6"),
        pytest.param({"HTTP_X_REAL_IP": "203.0.113.9"}, id="x-real-ip"),
        pytest.param({"HTTP_FORWARDED": "for=203.0.113.9"}, id="forwarded"),
    ],
)
@pytest.mark.parametrize("throttle_class", [LoginAddressThrottle, SignUpThrottle])
def test_x_forwarded_for_does_not_change_the_client_identity(
    headers: dict[str, str], throttle_class: type[LoginAddressThrottle]
) -> None:
    assert drf_settings.NUM_PROXIES == 0
    request = APIView().initialize_request(
        APIRequestFactory().post("/api/login/", REMOTE_ADDR="192.0.2.10", **headers)
    )

    assert throttle_class().get_ident(request) == "192.0.2.10"


def test_rotating_x_forwarded_for_does_not_escape_the_registration_limit(
    api_client: APIClient,
) -> None:
    # The documented limit (README): 20 sign-ups an hour from one address.
    for attempt in range(20):
        response = api_client.post(
            "/api/register/",
            {
                "username": f"user{attempt}",
                "email": f"u{attempt}@example.org",
                "password": PASSWORD,
            },
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        )
        assert response.status_code == 201, response.content

    refused = api_client.post(
        "/api/register/",
        {"username": "late", "email": "late@example.org", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.250",
    )

    assert_problem(refused, 429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert not User.objects.filter(username="late").exists()


# API7 and API8: misconfiguration


def test_responses_carry_security_headers_and_no_cors_grant(api_client: APIClient) -> None:
    response = api_client.get("/api/events/", HTTP_ORIGIN="https://evil.example")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_HOST": "evil.example"}, id="host"),
        pytest.param({"HTTP_X_FORWARDED_HOST": "evil.example"}, id="x-forwarded-host"),
    ],
)
def test_pagination_links_never_point_at_another_host(
    api_client: APIClient, alice: User, headers: dict[str, str]
) -> None:
    baker.make_recipe("api.future_event", host=alice, _quantity=3)

    response = api_client.get("/api/events/", {"page_size": 1}, **headers)

    assert "evil.example" not in response.content.decode()
    if response.status_code != 200:
        assert_problem(response, 400, "parse_error")
    else:
        assert response.json()["next"].startswith("http://testserver/")


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE"])
@pytest.mark.parametrize("url", ["/api/events/", "/api/me/", "/api/invitations/"])
def test_undocumented_methods_are_refused(
    auth_client: AuthClient, alice: User, method: str, url: str
) -> None:
    response = auth_client(alice).generic(method, url)

    assert_problem(response, 405, "method_not_allowed")

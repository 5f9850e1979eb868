"""Accounts and JWTs: register, login, refresh, logout, me."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from model_bakery import baker
from pytest_django import Settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from api.models import RedeemedRefreshToken, TokenFamily, User
from api.serializers import SignUpSerializer
from tests.helpers import PASSWORD, field_names

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def register_body(**overrides: str) -> dict[str, str]:
    return {"username": "dora", "email": "dora@example.org", "password": PASSWORD, **overrides}


def login(client: APIClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/login/", {"username": username, "password": password})


# Registration


def test_registration_creates_an_account_and_returns_it_without_the_password(
    api_client: APIClient,
) -> None:
    response = api_client.post("/api/register/", register_body())

    assert response.status_code == 201
    user = User.objects.get(username="dora")
    assert response.json() == {"id": user.pk, "username": "dora", "email": "dora@example.org"}
    assert user.check_password(PASSWORD)


def test_registered_user_can_log_in(api_client: APIClient) -> None:
    api_client.post("/api/register/", register_body())

    response = login(api_client, "dora")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh"}
    dora = User.objects.get(username="dora")
    access, refresh = AccessToken(body["access"]), RefreshToken(body["refresh"])
    assert (access["token_type"], refresh["token_type"]) == ("access", "refresh")
    assert access["user_id"] == refresh["user_id"] == str(dora.pk)
    # The login started a session of dora's: the refresh token names its family.
    assert TokenFamily.objects.filter(pk=refresh["fam"], user=dora, revoked_at=None).exists()
    me = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.json()["username"] == "dora"


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("Xy7!q", id="too-short"),
        pytest.param("48261937504", id="entirely-numeric"),
        pytest.param("password123", id="too-common"),
        pytest.param("dora.example", id="too-similar-to-the-username"),
        pytest.param(" " * 128, id="only-spaces"),
        pytest.param("\t \n \u3000" * 4, id="only-whitespace"),
    ],
)
def test_registration_applies_djangos_password_validators(
    api_client: APIClient, password: str
) -> None:
    response = api_client.post("/api/register/", register_body(password=password))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {"password"}
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("taken", "body", "field"),
    [
        pytest.param({"username": "dora"}, {"username": "dora"}, "username", id="same-username"),
        pytest.param(
            {"username": "dora"}, {"username": "DoRa"}, "username", id="username-in-other-case"
        ),
        pytest.param(
            {"email": "dora@example.org"}, {"email": "dora@example.org"}, "email", id="same-email"
        ),
        pytest.param(
            {"email": "dora@example.org"},
            {"email": "DORA@Example.ORG"},
            "email",
            id="email-in-other-case",
        ),
    ],
)
def test_registration_refuses_a_username_or_email_already_taken(
    api_client: APIClient,
    make_user: Callable[..., User],
    taken: dict[str, str],
    body: dict[str, str],
    field: str,
) -> None:
    existing = {"username": "someone", "email": "someone@example.org", **taken}
    make_user(existing.pop("username"), **existing)
    fresh = {"username": "newcomer", "email": "newcomer@example.org", "password": PASSWORD}

    response = api_client.post("/api/register/", {**fresh, **body})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {field}
    assert [error["code"] for error in response.json()["errors"]] == ["unique"]
    assert User.objects.count() == 1


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_registration_requires_every_field(api_client: APIClient, missing: str) -> None:
    body = register_body()
    del body[missing]

    response = api_client.post("/api/register/", body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"] == [
        {"field": missing, "code": "required", "message": "This field is required."}
    ]
    assert not User.objects.exists()


def test_registration_refuses_an_invalid_email(api_client: APIClient) -> None:
    response = api_client.post("/api/register/", register_body(email="not-an-email"))

    assert response.status_code == 400
    assert field_names(response) == {"email"}
    assert not User.objects.exists()


# Login


def test_login_returns_an_access_and_a_refresh_token(
    api_client: APIClient, alice_with_password: User
) -> None:
    response = login(api_client, "alice")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    me = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.status_code == 200
    assert me.json()["id"] == alice_with_password.pk


@pytest.mark.parametrize(
    ("username", "password"),
    [
        pytest.param("alice", "wrong-password-entirely", id="wrong-password"),
        pytest.param("nobody", PASSWORD, id="unknown-user"),
    ],
)
def test_login_with_wrong_credentials_is_unauthorized(
    api_client: APIClient, alice_with_password: User, username: str, password: str
) -> None:
    response = login(api_client, username, password)

    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "no_active_account"
    assert "access" not in body
    assert "refresh" not in body


def test_login_of_a_deactivated_user_is_unauthorized(
    api_client: APIClient, alice_with_password: User
) -> None:
    alice_with_password.is_active = False
    alice_with_password.save(update_fields=["is_active"])

    response = login(api_client, "alice")

    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"


def test_login_without_a_password_is_invalid(api_client: APIClient) -> None:
    response = api_client.post("/api/login/", {"username": "alice"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {"password"}


# Refresh


def test_refresh_returns_a_new_access_and_refresh_token(api_client: APIClient, alice: User) -> None:
    old = RefreshToken.for_user(alice)

    response = api_client.post("/api/token/refresh/", {"refresh": str(old)})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != str(old)
    assert RefreshToken(body["refresh"])["user_id"] == str(alice.pk)
    me = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.status_code == 200


def test_a_rotated_refresh_token_cannot_be_used_again(api_client: APIClient, alice: User) -> None:
    old = str(RefreshToken.for_user(alice))
    api_client.post("/api/token/refresh/", {"refresh": old})

    response = api_client.post("/api/token/refresh/", {"refresh": old})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert RedeemedRefreshToken.objects.filter(jti=RefreshToken(old)["jti"]).exists()


def test_the_refresh_token_from_a_rotation_works(api_client: APIClient, alice: User) -> None:
    sent = RefreshToken.for_user(alice)
    first = api_client.post("/api/token/refresh/", {"refresh": str(sent)})
    assert first.status_code == 200, first.content
    rotated = RefreshToken(first.json()["refresh"])

    response = api_client.post("/api/token/refresh/", {"refresh": str(rotated)})

    assert response.status_code == 200, response.content
    for pair, previous in ((first.json(), sent), (response.json(), rotated)):
        access, refresh = AccessToken(pair["access"]), RefreshToken(pair["refresh"])
        assert (access["token_type"], refresh["token_type"]) == ("access", "refresh")
        assert access["user_id"] == refresh["user_id"] == str(alice.pk)
        assert refresh["jti"] != previous["jti"]
    assert RefreshToken(response.json()["refresh"])["fam"] == rotated["fam"]


def test_refresh_with_a_garbage_token_is_unauthorized(api_client: APIClient) -> None:
    response = api_client.post("/api/token/refresh/", {"refresh": "garbage"})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize(
    ("body", "error_code"),
    [
        pytest.param({}, "required", id="missing"),
        pytest.param({"refresh": ""}, "blank", id="blank"),
    ],
)
def test_refresh_without_a_token_is_invalid(
    api_client: APIClient, body: dict[str, str], error_code: str
) -> None:
    response = api_client.post("/api/token/refresh/", body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("refresh", error_code)]


def test_refresh_with_an_access_token_is_unauthorized(api_client: APIClient, alice: User) -> None:
    access = str(RefreshToken.for_user(alice).access_token)

    response = api_client.post("/api/token/refresh/", {"refresh": access})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_refresh_for_a_deactivated_user_is_unauthorized(api_client: APIClient, alice: User) -> None:
    refresh = str(RefreshToken.for_user(alice))
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = api_client.post("/api/token/refresh/", {"refresh": refresh})

    assert response.status_code == 401
    assert "access" not in response.json()


def test_refresh_for_a_deleted_user_is_unauthorized(api_client: APIClient, alice: User) -> None:
    refresh = str(RefreshToken.for_user(alice))
    alice.delete()

    response = api_client.post("/api/token/refresh/", {"refresh": refresh})

    assert response.status_code == 401
    assert "access" not in response.json()


# Logout


def test_logout_blacklists_the_refresh_token(
    auth_client: Callable[[User], APIClient], alice: User
) -> None:
    refresh = str(RefreshToken.for_user(alice))
    client = auth_client(alice)

    response = client.post("/api/logout/", {"refresh": refresh})

    assert response.status_code == 204
    assert BlacklistedToken.objects.filter(token__token=refresh).exists()
    again = APIClient().post("/api/token/refresh/", {"refresh": refresh})
    assert again.status_code == 401
    assert again.json()["code"] == "token_not_valid"


def test_logout_requires_authentication(api_client: APIClient, alice: User) -> None:
    refresh = str(RefreshToken.for_user(alice))

    response = api_client.post("/api/logout/", {"refresh": refresh})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not BlacklistedToken.objects.exists()


def test_logout_with_a_garbage_token_is_unauthorized(
    auth_client: Callable[[User], APIClient], alice: User
) -> None:
    response = auth_client(alice).post("/api/logout/", {"refresh": "garbage"})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_logout_without_a_refresh_token_is_invalid(
    auth_client: Callable[[User], APIClient], alice: User
) -> None:
    response = auth_client(alice).post("/api/logout/", {})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field_names(response) == {"refresh"}


def test_logout_cannot_blacklist_another_users_refresh_token(
    auth_client: Callable[[User], APIClient], alice: User, bob: User
) -> None:
    bobs_refresh = str(RefreshToken.for_user(bob))

    response = auth_client(alice).post("/api/logout/", {"refresh": bobs_refresh})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert not BlacklistedToken.objects.exists()


def test_logout_twice_with_the_same_refresh_token_is_unauthorized(
    auth_client: Callable[[User], APIClient], alice: User
) -> None:
    refresh = str(RefreshToken.for_user(alice))
    client = auth_client(alice)
    client.post("/api/logout/", {"refresh": refresh})

    response = client.post("/api/logout/", {"refresh": refresh})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


# Me


def test_me_returns_the_callers_account_with_email(
    auth_client: Callable[[User], APIClient], alice: User
) -> None:
    response = auth_client(alice).get("/api/me/")

    assert response.status_code == 200
    assert response.json() == {"id": alice.pk, "username": "alice", "email": "alice@example.org"}


def test_me_requires_authentication(api_client: APIClient) -> None:
    response = api_client.get("/api/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_refresh_token_is_not_accepted_as_an_access_token(
    api_client: APIClient, alice: User
) -> None:
    refresh = str(RefreshToken.for_user(alice))

    response = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {refresh}")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_garbage_access_token_is_unauthorized(api_client: APIClient) -> None:
    response = api_client.get("/api/me/", HTTP_AUTHORIZATION="Bearer garbage")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_the_token_of_a_deactivated_user_is_unauthorized(
    auth_client: Callable[[User], APIClient], alice: User
) -> None:
    client = auth_client(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = client.get("/api/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_the_token_of_a_deleted_user_is_unauthorized(
    auth_client: Callable[[User], APIClient], alice: User
) -> None:
    client = auth_client(alice)
    alice.delete()

    response = client.get("/api/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "user_not_found"


# Privacy


def test_another_users_representation_never_contains_their_email(
    auth_client: Callable[[User], APIClient], alice: User, bob: User
) -> None:
    event = baker.make_recipe("api.future_event", host=alice)
    client = auth_client(bob)

    detail = client.get(f"/api/events/{event.pk}/")
    listed = client.get("/api/events/")

    assert detail.status_code == 200
    assert detail.json()["host"] == {"id": alice.pk, "username": "alice"}
    assert listed.json()["results"][0]["host"] == {"id": alice.pk, "username": "alice"}
    assert "alice@example.org" not in detail.content.decode()
    assert "alice@example.org" not in listed.content.decode()


# Sessions: a login's family of refresh tokens, each redeemed once


def login_pair(client: APIClient, user: User) -> dict[str, str]:
    response = client.post("/api/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def refresh(refresh_token: str) -> Any:
    return APIClient().post("/api/token/refresh/", {"refresh": refresh_token})


def test_reusing_a_rotated_refresh_token_revokes_its_whole_session(
    api_client: APIClient, alice_with_password: User
) -> None:
    first = login_pair(api_client, alice_with_password)["refresh"]
    child = refresh(first).json()["refresh"]

    reused = refresh(first)

    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"
    # The thief or the owner: the server cannot tell, so the child is dead too.
    after = refresh(child)
    assert after.status_code == 401
    assert after.json()["code"] == "token_not_valid"
    assert TokenFamily.objects.get().revoked_at is not None


def test_a_refresh_continues_the_session_of_its_login(
    api_client: APIClient, alice_with_password: User
) -> None:
    first = login_pair(api_client, alice_with_password)["refresh"]

    child = refresh(first).json()["refresh"]
    grandchild = refresh(child)

    assert grandchild.status_code == 200
    family = TokenFamily.objects.get()
    assert family.user == alice_with_password
    assert family.revoked_at is None
    for token in (first, child, grandchild.json()["refresh"]):
        assert RefreshToken(token)["fam"] == str(family.pk)
    assert RedeemedRefreshToken.objects.filter(family=family).count() == 2


def test_logout_ends_every_token_of_the_session(
    api_client: APIClient, alice_with_password: User
) -> None:
    pair = login_pair(api_client, alice_with_password)
    child = refresh(pair["refresh"]).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {child['access']}")

    # Logging out with the first token of the login ends the rotated one as well.
    response = client.post("/api/logout/", {"refresh": pair["refresh"]})

    assert response.status_code == 204
    assert refresh(child["refresh"]).status_code == 401


def test_logging_out_one_session_leaves_the_others(
    api_client: APIClient, alice_with_password: User
) -> None:
    phone = login_pair(api_client, alice_with_password)
    laptop = login_pair(api_client, alice_with_password)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {phone['access']}")

    assert client.post("/api/logout/", {"refresh": phone["refresh"]}).status_code == 204

    assert refresh(phone["refresh"]).status_code == 401
    assert refresh(laptop["refresh"]).status_code == 200


@pytest.mark.parametrize(
    "family",
    ["not-a-uuid", "00000000-0000-0000-0000-000000000000", 7],
    ids=["malformed", "unknown", "integer"],
)
def test_a_refresh_token_naming_no_session_of_its_user_is_unauthorized(
    alice: User, bob: User, family: object
) -> None:
    token = RefreshToken.for_user(alice)
    token["fam"] = family

    response = refresh(str(token))

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_refresh_token_cannot_continue_another_users_session(alice: User, bob: User) -> None:
    bobs = TokenFamily.objects.create(user=bob)
    token = RefreshToken.for_user(alice)
    token["fam"] = str(bobs.pk)

    assert refresh(str(token)).status_code == 401


# What a refused session says


def _refresh_reused(alice: User, bob: User) -> Any:
    first = login_pair(APIClient(), alice)["refresh"]
    assert refresh(first).status_code == 200
    return refresh(first)


def _refresh_after_logout(alice: User, bob: User) -> Any:
    pair = login_pair(APIClient(), alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert client.post("/api/logout/", {"refresh": pair["refresh"]}).status_code == 204
    return refresh(pair["refresh"])


def _refresh_naming_session(family: object) -> Callable[[User, User], Any]:
    def send(alice: User, bob: User) -> Any:
        token = RefreshToken.for_user(alice)
        token["fam"] = family
        return refresh(str(token))

    return send


def _logout_with_another_users_token(alice: User, bob: User) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(alice)}")
    return client.post("/api/logout/", {"refresh": str(RefreshToken.for_user(bob))})


def _refresh_malformed(alice: User, bob: User) -> Any:
    return refresh("garbage")


@pytest.mark.parametrize(
    ("send", "detail"),
    [
        pytest.param(
            _refresh_reused,
            "This refresh token was already used; the session is revoked.",
            id="reused",
        ),
        pytest.param(
            _refresh_after_logout,
            "This session has ended: it was logged out, or its refresh token was used twice.",
            id="logged-out",
        ),
        pytest.param(
            _refresh_naming_session("00000000-0000-0000-0000-000000000000"),
            "This session has ended: it was logged out, or its refresh token was used twice.",
            id="unknown-session",
        ),
        pytest.param(
            _refresh_naming_session("not-a-uuid"),
            "This session has ended: it was logged out, or its refresh token was used twice.",
            id="malformed-session-id",
        ),
        pytest.param(
            _logout_with_another_users_token,
            "This refresh token belongs to another user.",
            id="another-users-token-on-logout",
        ),
        pytest.param(_refresh_malformed, "Token is invalid", id="malformed-token"),
    ],
)
def test_a_refused_refresh_token_says_why(
    alice_with_password: User, bob: User, send: Callable[[User, User], Any], detail: str
) -> None:
    response = send(alice_with_password, bob)

    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "token_not_valid"
    assert body["detail"] == detail


# A sign-up race: both pass the serializer's checks before either inserts


@pytest.mark.parametrize(
    "winner",
    [
        pytest.param({"username": "Dora", "email": "first@example.org"}, id="same-username"),
        pytest.param({"username": "first", "email": "DORA@example.org"}, id="same-email"),
    ],
)
def test_a_sign_up_that_loses_the_race_for_a_name_is_refused_like_a_taken_one(
    api_client: APIClient,
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
    winner: dict[str, str],
) -> None:
    """The case-insensitive unique constraints let one sign-up in; the other gets a 400
    with a ``unique`` field error, as a name already taken does, not a 409 or a 500."""
    make_user(winner["username"], email=winner["email"])
    # The loser's uniqueness checks ran before the winner's row was committed.
    monkeypatch.setattr(SignUpSerializer, "validate_username", lambda self, value: value)
    monkeypatch.setattr(SignUpSerializer, "validate_email", lambda self, value: value)

    response = api_client.post("/api/register/", register_body())

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == [
        {"field": "username", "code": "unique", "message": "This username or email is taken."}
    ]
    assert list(User.objects.values_list("username", flat=True)) == [winner["username"]]


def _login_seconds(username: str) -> float:
    started = time.perf_counter()
    response = APIClient().post(
        "/api/login/", {"username": username, "password": "not-the-password"}, format="json"
    )
    assert response.status_code == 401
    return time.perf_counter() - started


def test_an_unknown_username_takes_as_long_as_a_wrong_password(
    alice: User, settings: Settings
) -> None:
    """Django's backend hashes the password for an unknown username too; with the real
    hasher (hundreds of milliseconds), a difference would tell who has an account."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    alice.set_password("the-real-password-of-alice")
    alice.save(update_fields=["password"])
    wrong, unknown = [], []
    for _ in range(5):
        wrong.append(_login_seconds("alice"))
        unknown.append(_login_seconds("nobody-has-this-name"))

    known_median, unknown_median = statistics.median(wrong), statistics.median(unknown)

    assert known_median > 0.05  # the real hasher ran
    assert abs(known_median - unknown_median) < 0.25 * known_median, (wrong, unknown)

"""Usernames and emails are one identity when people read them as one: keys the
database holds unique on every backend, look-alikes refused at sign-up, login by key."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from api.models import User
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def _sign_up(username: str, email: str | None = None) -> Any:
    body = {"username": username, "email": email or f"{abs(hash(username))}@example.org"}
    return APIClient().post("/api/register/", {**body, "password": PASSWORD}, format="json")


def _errors(response: Any) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ärger", "ärger"),  # folded by lower() on PostgreSQL, not by SQLite's
        ("straße", "STRASSE"),  # one name in German; lower() keeps the ß
        ("ﬁsh", "fish"),  # a ligature, NFKC
        ("\uff22\uff4f\uff42", "bob"),  # full-width letters
    ],
)
def test_spellings_of_one_name_are_one_username(first: str, second: str) -> None:
    assert _sign_up(first).status_code == 201

    response = _sign_up(second)

    assert response.status_code == 400
    assert _errors(response) == {("username", "unique")}


@pytest.mark.parametrize(
    ("first", "second"),
    [("kai@example.org", "KAI@EXAMPLE.ORG"), ("kai@strasse.example", "KAI@STRAßE.example")],
)
def test_spellings_of_one_email_are_one_email(first: str, second: str) -> None:
    assert _sign_up("one", first).status_code == 201

    response = _sign_up("two", second)

    assert response.status_code == 400
    assert _errors(response) == {("email", "unique")}


def test_the_database_holds_the_keys_unique_whatever_the_caller() -> None:
    User.objects.create_user(username="Ärger", email="a@example.org")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="ärger", email="b@example.org")


def test_a_username_mixing_scripts_deceptively_is_refused() -> None:
    # "admin" with a Cyrillic a (U+0430): nobody reading it can tell.
    response = _sign_up("\u0430dmin")

    assert response.status_code == 400
    assert _errors(response) == {("username", "confusable")}


def test_a_username_that_looks_like_a_taken_one_is_refused() -> None:
    assert _sign_up("paypal").status_code == 201

    # Cyrillic er, a, u, er, a and a digit one: one script, but it reads "paypal".
    response = _sign_up("\u0440\u0430\u0443\u0440\u04301")

    assert response.status_code == 400
    assert _errors(response) == {("username", "confusable")}


@pytest.mark.parametrize("name", ["日本語", "Zoë", "Ærger", "bob_smith"])
def test_names_in_one_script_that_imitate_nobody_are_accepted(name: str) -> None:
    assert _sign_up(name).status_code == 201, _sign_up(name).content


@pytest.mark.parametrize(("stored", "typed"), [("alice", "ALICE"), ("STRASSE", "Straße")])
def test_login_finds_the_account_by_its_identity(stored: str, typed: str) -> None:
    assert _sign_up(stored).status_code == 201

    response = APIClient().post(
        "/api/login/", {"username": typed, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.content


def _migration() -> Any:
    return importlib.import_module("api.migrations.0004_identity_keys")


def _unkeyed(username: str, email: str, placeholder: str) -> User:
    """A row as 0003 left it: no keys yet (a placeholder stands in for the unique one)."""
    (user,) = User.objects.bulk_create(
        [User(username=username, email=email, username_key=placeholder, username_skeleton="")]
    )
    return user


def test_the_migration_keys_existing_accounts() -> None:
    _unkeyed("Ärger", "Ä@example.org", "placeholder-1")

    _migration().key_existing_accounts(SimpleNamespace(get_model=lambda *_: User), None)

    user = User.objects.get()
    assert (user.username_key, user.email_key) == ("ärger", "ä@example.org")


def test_the_migration_lists_accounts_that_become_one_and_changes_nothing() -> None:
    first = _unkeyed("straße", "a@example.org", "placeholder-1")
    second = _unkeyed("STRASSE", "b@example.org", "placeholder-2")

    with pytest.raises(RuntimeError) as refused:
        _migration().key_existing_accounts(SimpleNamespace(get_model=lambda *_: User), None)

    assert f"id {first.pk} ('straße')" in str(refused.value)
    assert f"id {second.pk} ('STRASSE')" in str(refused.value)
    assert set(User.objects.values_list("username_key", flat=True)) == {
        "placeholder-1",
        "placeholder-2",
    }

"""Changing a password, resetting a forgotten one by mail, deleting the account: each
ends every session, and what goes with a deleted account is what the spec says."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from model_bakery import baker
from pytest_django import Settings
from rest_framework.test import APIClient

from api import accounts, sessions
from api.models import Event, EventParticipant, Feedback, Invitation, TokenFamily, User
from tests.helpers import PASSWORD, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

NEW_PASSWORD = "a-new-and-long-passphrase-42"


def _refresh(token: str) -> int:
    return APIClient().post("/api/token/refresh/", {"refresh": token}, format="json").status_code


def _login(username: str, password: str) -> int:
    body = {"username": username, "password": password}
    return APIClient().post("/api/login/", body, format="json").status_code


def test_changing_the_password_ends_every_session(alice_with_password: User) -> None:
    first, second = sessions.start(alice_with_password), sessions.start(alice_with_password)

    response = client_for(alice_with_password).post(
        "/api/me/password/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 204, response.content
    assert _refresh(str(first)) == 401
    assert _refresh(str(second)) == 401
    assert _login("alice", PASSWORD) == 401
    assert _login("alice", NEW_PASSWORD) == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "wrong", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": " " * 40}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "alice-example"}, "new_password"),
    ],
)
def test_a_wrong_current_or_weak_new_password_changes_nothing(
    alice_with_password: User, body: dict[str, str], field: str
) -> None:
    family = sessions.start(alice_with_password)

    response = client_for(alice_with_password).post("/api/me/password/", body, format="json")

    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {field}
    assert _login("alice", PASSWORD) == 200
    assert _refresh(str(family)) == 200


def _reset_token_from_the_mail() -> str:
    assert len(mail.outbox) == 1
    match = re.search(r"Reset token \(valid for \d+ minutes, once\): (\S+)", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match.group(1)


def test_a_reset_mail_sets_a_new_password_once(alice_with_password: User) -> None:
    family = sessions.start(alice_with_password)

    asked = APIClient().post("/api/password-reset/", {"email": "ALICE@example.org"}, format="json")
    assert asked.status_code == 202
    assert mail.outbox[0].to == ["alice@example.org"]
    token = _reset_token_from_the_mail()
    confirm = {"token": token, "new_password": NEW_PASSWORD}
    done = APIClient().post("/api/password-reset/confirm/", confirm, format="json")
    again = APIClient().post(
        "/api/password-reset/confirm/", {**confirm, "new_password": "x" + NEW_PASSWORD}
    )

    assert done.status_code == 204, done.content
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "token"
    assert _login("alice", NEW_PASSWORD) == 200
    assert _refresh(str(family)) == 401


def test_asking_for_an_unknown_email_answers_the_same_and_mails_nobody(db: None) -> None:
    response = APIClient().post(
        "/api/password-reset/", {"email": "nobody@example.org"}, format="json"
    )

    assert response.status_code == 202
    assert response.content == b""
    assert mail.outbox == []


def test_a_reset_token_expires(
    alice_with_password: User, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PASSWORD_RESET_TIMEOUT = 3600
    token = accounts.reset_token(alice_with_password)
    later = datetime.now() + timedelta(seconds=3601)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)

    response = APIClient().post(
        "/api/password-reset/confirm/",
        {"token": token, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert _login("alice", PASSWORD) == 200


@pytest.mark.parametrize("token", ["", "abc", "MQ.nonsense", "Zm9v.1-2", "." * 50])
def test_a_malformed_reset_token_is_invalid(alice_with_password: User, token: str) -> None:
    response = APIClient().post(
        "/api/password-reset/confirm/", {"token": token, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert _login("alice", PASSWORD) == 200


def test_deleting_the_account_takes_its_own_rows_with_it(
    alice_with_password: User, bob: User
) -> None:
    bobs_event = baker.make_recipe("api.started_event", host=bob)
    EventParticipant.objects.create(event=bobs_event, user=alice_with_password)
    baker.make(Feedback, event=bobs_event, user=alice_with_password, rating=4)
    later = baker.make_recipe("api.future_event", host=bob)
    baker.make(Invitation, event=later, inviter=bob, invitee=alice_with_password)
    refresh = sessions.start(alice_with_password)

    response = client_for(alice_with_password).delete(
        "/api/me/", {"password": PASSWORD}, format="json"
    )

    assert response.status_code == 204, response.content
    assert not User.objects.filter(username="alice").exists()
    assert not EventParticipant.objects.filter(event=bobs_event).exists()
    assert not Feedback.objects.exists()
    assert not Invitation.objects.exists()
    assert not TokenFamily.objects.exists()
    assert _refresh(str(refresh)) == 401
    assert Event.objects.count() == 2  # bob's events stay


def test_a_host_deletes_their_events_before_their_account(
    alice_with_password: User, bob: User
) -> None:
    event = baker.make_recipe("api.started_event", host=alice_with_password)
    EventParticipant.objects.create(event=event, user=bob)
    baker.make(Feedback, event=event, user=bob, rating=5)
    client = client_for(alice_with_password)

    refused = client.delete("/api/me/", {"password": PASSWORD}, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == "hosts_events"
    assert Feedback.objects.filter(user=bob).exists()
    assert client.delete(f"/api/events/{event.pk}/").status_code == 204
    assert client.delete("/api/me/", {"password": PASSWORD}, format="json").status_code == 204


def test_deleting_needs_the_password(alice_with_password: User) -> None:
    response = client_for(alice_with_password).delete(
        "/api/me/", {"password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "password"
    assert User.objects.filter(username="alice").exists()


def test_the_deleted_users_access_token_stops_working(alice_with_password: User) -> None:
    client = client_for(alice_with_password)
    assert client.delete("/api/me/", {"password": PASSWORD}, format="json").status_code == 204

    response = client.get("/api/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "user_not_found"

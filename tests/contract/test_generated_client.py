"""A client generated from spec/openapi.yaml runs the main user journey against a live
server: if the generator complains about the spec, or its code cannot talk to the
service, the spec is wrong."""

from __future__ import annotations

import importlib
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.live_server import LiveServer, live_server

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "openapi.yaml"
PACKAGE = "generated_events_client"


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    directory = tmp_path_factory.mktemp("client")
    config = directory / "config.yaml"
    # The generator's post hooks run ruff from PATH, which is not the spec's business. It
    # knows no OpenAPI media type: the spec route (GET /api/schema/) is text to it.
    config.write_text(
        "post_hooks: []\ncontent_type_overrides:\n  application/vnd.oai.openapi: text/plain\n"
    )
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(SPEC),
            "--output-path",
            str(directory / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output

    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(directory))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


class Operations:
    """The generated operations by `tag.operation_id`, each call checked for its status.

    The generated code parses every documented status, so a wrong one shows the problem
    details it carried.
    """

    def __init__(self, package: ModuleType) -> None:
        self.package = package.__name__

    def __call__(self, operation: str, expected_status: int, **kwargs: Any) -> Any:
        module = importlib.import_module(f"{self.package}.api.{operation}")
        response = module.sync_detailed(**kwargs)
        assert response.status_code == expected_status, (
            operation,
            response.status_code,
            response.parsed,
        )
        return response.parsed


def move_start_into_the_past(server: LiveServer, event_id: int) -> None:
    """Feedback needs an event that has started, and an event can only be created (and
    accepted) before it starts; a live server's clock cannot be frozen, so the test moves
    the start time in the database, as time would."""
    assert server.sqlite_path is not None
    started = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(server.sqlite_path) as connection:
        updated = connection.execute(
            "UPDATE api_event SET start_time = ? WHERE id = ?", (started, event_id)
        )
        assert updated.rowcount == 1


def test_generated_client_runs_the_main_user_journey(
    generated_client: ModuleType, server: LiveServer
) -> None:
    call = Operations(generated_client)
    models = importlib.import_module(f"{generated_client.__name__}.models")
    anonymous = generated_client.Client(base_url=server.url, raise_on_unexpected_status=True)

    def sign_up(username: str) -> Any:
        password = f"{username}-Journey-2026!"
        account = call(
            "auth.auth_register",
            201,
            client=anonymous,
            body=models.RegistrationRequest(
                username=username, email=f"{username}@example.org", password=password
            ),
        )
        tokens = call(
            "auth.auth_login",
            200,
            client=anonymous,
            body=models.LoginRequest(username=username, password=password),
        )
        client = generated_client.AuthenticatedClient(
            base_url=server.url, token=tokens.access, raise_on_unexpected_status=True
        )
        return account, client

    alice, as_alice = sign_up("alice")
    bob, as_bob = sign_up("bob")

    start = datetime.now(UTC) + timedelta(days=1)
    event = call(
        "events.events_create",
        201,
        client=as_alice,
        body=models.EventRequest(
            title="Launch party",
            start_time=start,
            end_time=start + timedelta(hours=3),
            max_participants=10,
            location="Lisbon",
        ),
    )
    assert event.host.id == alice.id

    invitation = call(
        "invitations.events_invite",
        201,
        client=as_alice,
        id=event.id,
        body=models.InvitationCreateRequest(invitee=bob.id),
    )
    received = call(
        "invitations.invitations_list",
        200,
        client=as_bob,
    )
    assert [item.id for item in received.results] == [invitation.id]

    answered = call(
        "invitations.invitations_answer",
        200,
        client=as_bob,
        id=invitation.id,
        body=models.InvitationAnswerRequest(status=models.InvitationAnswerStatusEnum.ACCEPTED),
    )
    assert answered.status == models.InvitationStatus.ACCEPTED

    participants = call(
        "participation.events_participants_list",
        200,
        client=as_alice,
        id=event.id,
    )
    assert [participant.user.id for participant in participants.results] == [bob.id]

    move_start_into_the_past(server, event.id)
    feedback = call(
        "feedback.events_feedback_create",
        201,
        client=as_bob,
        id=event.id,
        body=models.FeedbackRequest(rating=5, comment="Great evening."),
    )
    assert feedback.rating == 5

    listed = call(
        "feedback.events_feedback_list",
        200,
        client=anonymous,
        id=event.id,
    )
    assert [item.comment for item in listed.results] == ["Great evening."]

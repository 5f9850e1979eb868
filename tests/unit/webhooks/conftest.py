from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks_db.management.commands import db_worker
from pytest_django import Settings

from api.management.commands import worker
from api.models import User, WebhookEndpoint
from api.webhooks import endpoints
from tests.spec_validation import validate_webhook
from tests.webhook_receiver import Receiver, webhook_receiver


@pytest.fixture
def local_receivers(settings: Settings) -> None:
    """What `make run` sets: receivers on the loopback, over plain http."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_ALLOW_HTTP = True


@pytest.fixture
def receiver(local_receivers: None) -> Iterator[Receiver]:
    """A receiver on the loopback; every message it got must match its type's schema in
    the spec's ``webhooks`` section, whatever the test checked."""
    with webhook_receiver() as receiver:
        yield receiver
    for request in receiver.received:
        validate_webhook(json.loads(request.body)["type"], request.body)


@pytest.fixture
def endpoint_for(receiver: Receiver) -> Callable[..., WebhookEndpoint]:
    def make(user: User, **fields: Any) -> WebhookEndpoint:
        fields.setdefault("url", receiver.url)
        return endpoints.endpoint_create(owner=user, **fields)

    return make


@pytest.fixture
def run_worker(monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """The real worker command, in this process, until nothing is due; its output.

    The worker loops close connections that are not in autocommit mode, as a request
    does; here the connection holds the test's transaction (which PostgreSQL would lose
    with it), so they are left open. Nothing else is changed.
    """
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)

    def run() -> str:
        out = io.StringIO()
        call_command("worker", "--until-idle", "--interval=0", "--sweep-every=0", stdout=out)
        return out.getvalue()

    return run

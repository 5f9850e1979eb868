"""Several worker processes on one database: each message attempted once while they
live, and a message whose worker was killed mid-attempt delivered by another.

Real processes on a real database file or server (the in-memory test database cannot be
shared): a fresh database per test, migrated, filled and read back through
``manage.py shell``, with the receiver in this process counting by webhook-id.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.live_server import ROOT, fresh_database, migrate, server_environment
from tests.webhook_receiver import Answer, webhook_receiver

BACKENDS = [
    pytest.param("", id="sqlite-file"),
    pytest.param(os.environ.get("DATABASE_URL", ""), id="pg", marks=pytest.mark.postgres),
]

FILL = """
from api.models import User
from api.webhooks import endpoints
from api.webhooks.tasks import deliver
from django.db import transaction
owner = User.objects.create_user("owner", "owner@example.org")
endpoint = endpoints.endpoint_create(owner=owner, url={url!r})
with transaction.atomic():
    for _ in range({count}):
        message = endpoints.endpoint_ping(endpoint=endpoint)
        for _ in range({extra_tasks}):
            deliver.enqueue(message.pk)
print("filled")
"""

STATE = """
import json
from django_tasks_db.models import DBTaskResult
from api.models import WebhookAttempt, WebhookDelivery
workers = {w for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) for w in ids}
print(json.dumps({
    "workers": len(workers),
    "statuses": sorted(set(WebhookDelivery.objects.values_list("status", flat=True))),
    "attempts": WebhookAttempt.objects.count(),
    "messages": WebhookDelivery.objects.count(),
}))
"""


def _shell(code: str, env: Mapping[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@contextmanager
def _database(database_url: str, tmp_path: Path, **settings: str) -> Iterator[dict[str, str]]:
    with fresh_database(database_url, tmp_path) as (url, _):
        env = server_environment(
            url,
            env={
                "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1",
                "WEBHOOKS_ALLOW_HTTP": "1",
                "WEBHOOK_SWEEP_SECONDS": "0.2",
                **settings,
            },
        )
        migrate(env)
        yield env


@contextmanager
def _worker(env: Mapping[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval=0.05", *args],
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def _state(env: Mapping[str, str]) -> dict[str, object]:
    return json.loads(_shell(STATE, env))


@pytest.mark.parametrize("database_url", BACKENDS)
def test_two_workers_deliver_each_message_exactly_once(database_url: str, tmp_path: Path) -> None:
    count = 500 if database_url else 200
    with webhook_receiver() as receiver, _database(database_url, tmp_path) as env:
        # Two tasks per message, as when the sweep queues a message again whose task is
        # late: the tasks are taken by different workers, and the lease keeps the second
        # from sending again what the first sends.
        _shell(FILL.format(url=receiver.url, count=count, extra_tasks=1), env)
        with ExitStack() as workers:
            # Both run until nothing is queued or due: every task has been taken.
            processes = [
                workers.enter_context(_worker(env, tmp_path / f"worker{n}.log", "--until-idle"))
                for n in (1, 2)
            ]
            exits = [process.wait(timeout=240) for process in processes]
        received = receiver.received

        assert exits == [0, 0], [(tmp_path / f"worker{n}.log").read_text() for n in (1, 2)]
        per_message = Counter(request.headers["webhook-id"] for request in received)
        assert len(per_message) == count
        assert set(per_message.values()) == {1}
        # Both took part: the queue is shared, not held by the first to start.
        assert _state(env) == {
            "workers": 2,
            "statuses": ["succeeded"],
            "attempts": count,
            "messages": count,
        }


@pytest.mark.parametrize("database_url", BACKENDS)
def test_a_message_whose_worker_was_killed_mid_attempt_is_delivered_by_another(
    database_url: str, tmp_path: Path
) -> None:
    with (
        webhook_receiver() as receiver,
        _database(database_url, tmp_path, WEBHOOK_LEASE_SECONDS="2") as env,
    ):
        receiver.respond(Answer(hold=True))
        _shell(FILL.format(url=receiver.url, count=1, extra_tasks=0), env)
        with _worker(env, tmp_path / "killed.log") as doomed:
            [first] = receiver.wait_for(1)  # the attempt is in flight ...
            doomed.send_signal(signal.SIGKILL)  # ... when its worker dies
            doomed.wait(timeout=30)
        with _worker(env, tmp_path / "survivor.log") as survivor:
            _, second = receiver.wait_for(2, timeout=60)
            assert _stop(survivor) == 0

        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert first.body == second.body
        # The killed worker recorded nothing; the survivor's attempt is the message's.
        state = _state(env)
        assert (state["statuses"], state["attempts"]) == (["succeeded"], 1)


def test_sigterm_finishes_the_attempt_in_hand_then_exits(tmp_path: Path) -> None:
    with webhook_receiver() as receiver, _database("", tmp_path) as env:
        receiver.respond(Answer(hold=True))
        _shell(FILL.format(url=receiver.url, count=2, extra_tasks=0), env)
        with _worker(env, tmp_path / "worker.log") as worker:
            receiver.wait_for(1)
            worker.send_signal(signal.SIGTERM)
            receiver.released.set()  # the receiver answers only after the signal
            assert worker.wait(timeout=60) == 0

        log = (tmp_path / "worker.log").read_text()
        assert "stopped" in log, log
        # The attempt in hand was recorded; the next message was left for later.
        state = _state(env)
        assert state["attempts"] == 1, log
        assert state["statuses"] == ["pending", "succeeded"]
        assert len(receiver.received) == 1


DIE_AFTER_COMMIT = """
import os, signal
from api.models import User
from api.webhooks import endpoints
owner = User.objects.create_user("owner", "owner@example.org")
endpoint = endpoints.endpoint_create(owner=owner, url={url!r})
endpoints.endpoint_ping(endpoint=endpoint)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_message_committed_by_a_process_that_died_at_once_is_still_delivered(
    tmp_path: Path,
) -> None:
    with webhook_receiver() as receiver, _database("", tmp_path) as env:
        died = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c",
             DIE_AFTER_COMMIT.format(url=receiver.url)],
            cwd=ROOT, env=dict(env), capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert died.returncode == -signal.SIGKILL, died.stderr
        with _worker(env, tmp_path / "worker.log", "--until-idle") as worker:
            assert worker.wait(timeout=60) == 0

        [request] = receiver.received
        assert json.loads(request.body)["type"] == "webhook.ping"

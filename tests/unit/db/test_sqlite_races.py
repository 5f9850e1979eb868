"""The embedded default with real processes: races that used to answer 500 or let
twice as much through as a limit allows (issue 17), on a SQLite file shared by two
server processes.

SQLite cannot run in-process race tests (the in-memory test database is one
connection's), hence servers: two uvicorn workers, or two separate servers on one file
so that a test decides which process each request reaches.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.live_server import ROOT, LiveServer, live_server, uvicorn_server

SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from api import sessions
from api.models import Event, User
from rest_framework_simplejwt.tokens import AccessToken

host = User.objects.create_user("host", "host@example.org")
guests = [User.objects.create_user(f"guest{n}", f"guest{n}@example.org") for n in range(14)]
start = timezone.now() + timedelta(days=1)
events = [
    Event.objects.create(
        title=f"Round {n}", host=host, start_time=start, end_time=start + timedelta(hours=1),
        max_participants=100,
    ).pk
    for n in range(6)
]
print(json.dumps({
    "host": str(AccessToken.for_user(host)),
    "guests": [str(AccessToken.for_user(guest)) for guest in guests],
    "events": events,
    "sessions": [str(sessions.start(host)) for _ in range(20)],
}))
"""


def request(
    base_url: str, method: str, path: str, body: object = None, token: str = ""
) -> tuple[int, dict[str, Any]]:
    """One request on its own connection; the status and the JSON body ({} if none)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(
            method, path, body=None if body is None else json.dumps(body), headers=headers
        )
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    return response.status, json.loads(content) if content else {}


def at_once(calls: list[Callable[[], tuple[int, dict[str, Any]]]]) -> list[int]:
    """Every call from its own thread, released together; the statuses in call order."""
    start = threading.Barrier(len(calls), timeout=30)
    results: list[int] = [0] * len(calls)

    def run(index: int, call: Callable[[], tuple[int, dict[str, Any]]]) -> None:
        start.wait()
        results[index] = call()[0]

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def setup_data(server: LiveServer) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT,
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    with live_server(workers=2) as running:
        yield running, setup_data(running)


def test_eight_refreshes_with_one_token_have_one_winner_on_sqlite(
    server: tuple[LiveServer, dict[str, Any]],
) -> None:
    running, data = server
    for round_, token in enumerate(data["sessions"]):
        refresh = partial(request, running.url, "POST", "/api/token/refresh/", {"refresh": token})
        statuses = at_once([refresh] * 8)
        assert Counter(statuses) == {200: 1, 401: 7}, (round_, statuses, running.log()[-2000:])


def test_a_delete_among_registrations_on_sqlite_answers_only_documented_statuses(
    server: tuple[LiveServer, dict[str, Any]],
) -> None:
    running, data = server
    for event in data["events"]:
        path = f"/api/events/{event}/"
        register = partial(request, running.url, "POST", f"{path}register/")
        calls = [partial(register, token=guest) for guest in data["guests"]]
        calls.insert(7, partial(request, running.url, "DELETE", path, token=data["host"]))

        statuses = at_once(calls)

        deleted = statuses.pop(7)
        assert deleted == 204, (event, deleted, running.log()[-2000:])
        assert set(statuses) <= {201, 404}, (event, Counter(statuses), running.log()[-2000:])
        assert request(running.url, "GET", path)[0] == 404


def test_the_login_limit_holds_across_two_server_processes_without_redis(
    tmp_path: Path,
) -> None:
    # Two servers on one SQLite file; requests alternate between them, so a limit kept
    # in each process's memory would let twice its number through.
    with (
        live_server(env={"LOGIN_THROTTLE_ADDRESS_RATE": "6/min"}) as first,
        uvicorn_server(first.env, tmp_path / "second.log") as second_url,
    ):
        statuses = [
            request(
                (first.url, second_url)[attempt % 2],
                "POST",
                "/api/login/",
                # A different username each time: only the per-address limit counts.
                {"username": f"nobody{attempt}", "password": "wrong-password"},
            )[0]
            for attempt in range(12)
        ]

    assert statuses == [401] * 6 + [429] * 6, statuses

"""The embedded default under real concurrency: two server processes on one SQLite file.

SQLite in its default DEFERRED mode answers "database is locked" at once when two
read-then-write transactions meet; the settings open transactions IMMEDIATE with a busy
timeout, so they queue instead. Proven here with real processes and simultaneous
requests, since the in-memory test database cannot show it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter

from tests.live_server import ROOT, live_server

SEATS = 3
CLIENTS = 16

SETUP = f"""
import json
from datetime import timedelta
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from api.models import Event, User

host = User.objects.create_user("host", "host@example.org")
start = timezone.now() + timedelta(days=1)
event = Event.objects.create(
    title="Race", host=host, start_time=start, end_time=start + timedelta(hours=1),
    max_participants={SEATS},
)
users = [User.objects.create_user(f"user{{n}}", f"user{{n}}@example.org") for n in range({CLIENTS})]
print(json.dumps({{"event": event.pk, "tokens": [str(AccessToken.for_user(u)) for u in users]}}))
"""

COUNT = "from api.models import EventParticipant; print(EventParticipant.objects.count())"


def _manage_shell(code: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def _post(url: str, token: str) -> int:
    request = urllib.request.Request(
        url, method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_two_processes_on_one_sqlite_file_register_without_errors_or_overbooking() -> None:
    signing_key = secrets.token_hex(32)
    with live_server(workers=2, env={"JWT_SIGNING_KEY": signing_key}) as server:
        shell_env = {
            "DATABASE_URL": server.database_url,
            "DJANGO_SECRET_KEY": secrets.token_hex(32),
            "JWT_SIGNING_KEY": signing_key,
            "DJANGO_DEBUG": "0",
            "REDIS_URL": "",
        }
        setup = json.loads(_manage_shell(SETUP, shell_env))
        url = f"{server.url}/api/events/{setup['event']}/register/"
        start = threading.Barrier(CLIENTS)
        statuses: list[int] = []

        def register(token: str) -> None:
            start.wait(timeout=30)
            statuses.append(_post(url, token))

        threads = [threading.Thread(target=register, args=(t,)) for t in setup["tokens"]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        participants = int(_manage_shell(COUNT, shell_env))
        log = server.log()

    assert Counter(statuses) == {201: SEATS, 409: CLIENTS - SEATS}, log[-3000:]
    assert participants == SEATS
    assert "database is locked" not in log

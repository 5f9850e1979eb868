"""Benchmark the API against a hand-written floor, at scale, under write load and cleanup.

Run it as ``nox -s bench`` (or ``python bench/run.py`` from the checkout); PostgreSQL is
required (POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/events: only the
server and credentials are used, each database here is its own, named *_bench*).
Redis (TEST_REDIS_URL) is used when reachable, as in production.

Modes (default: the throughput table):

- throughput: seed 5,000 events with 5 participants each, serve the API and the floor
  (bench/floor.py) with the same server and workers, check they answer the same bytes,
  then load both in turns (floor, API, floor, API...) and print requests/s, p50/p99
  latency, the API's ratio to the floor, and the API's queries per request.
- ``--scale``: first page, a filtered page and deep pages, median latency of one client
  at 10,000 vs 1,000,000 events (two databases, two servers, measured in turns).
- ``--registration``: 60 clients register concurrently, each for a different event at
  any moment; p50/p99, throughput, errors, then a check that no event is overbooked.
- ``--cleanup``: ``delete_old_events`` on 100,000 and 1,000,000 old events with their
  participants, invitations and feedback: time, peak memory, and how long API requests
  served meanwhile waited.

Load comes from wrk when it is installed (Debian: ``apt-get install wrk``), otherwise
from a small Python load generator (threads + http.client), which is itself CPU-bound
and reads lower for fast servers. Every loop stops at a request count or a deadline;
every target is 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/events"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
HOST = "127.0.0.1"
LIST_PATH = "/api/events/?page_size=20"
CITIES = [
    "Berlin", "Paris", "London", "Madrid", "Rome", "Vienna", "Prague", "Warsaw", "Lisbon",
    "Dublin", "Amsterdam", "Brussels", "Copenhagen", "Stockholm", "Oslo", "Helsinki",
    "Athens", "Budapest", "Bucharest", "Sofia", "Zagreb", "Ljubljana", "Bratislava",
    "Tallinn", "Riga", "Vilnius", "Luxembourg", "Valletta", "Nicosia", "Zurich", "Geneva",
    "Munich", "Hamburg", "Cologne", "Lyon", "Marseille", "Milan", "Naples", "Porto",
    "Barcelona",
]  # fmt: skip
REQUEST_TIMEOUT = 30.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Databases -----------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Databases:
    """Creates and drops the bench's own databases, and only those."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return with_database(self.server_url, name)

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def exists(self, name: str) -> bool:
        with self._admin() as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return row.fetchone() is not None

    def recreate(self, name: str) -> None:
        self._check_name(name)
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        if name not in self.created:
            self.created.append(name)

    def drop(self, name: str) -> None:
        self._check_name(name)
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_created(self) -> None:
        for name in self.created:
            with suppress(psycopg.Error):
                self.drop(name)
        self.created.clear()

    @staticmethod
    def _check_name(name: str) -> None:
        # A guard against dropping someone's real database through a typo in --database.
        if not re.fullmatch(r"[a-z0-9_]*bench[a-z0-9_]*", name):
            raise SystemExit(f"refusing to create or drop {name!r}: its name lacks 'bench'")


def server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]


def migrate(url: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        check=True,
    )


@dataclass
class Seeded:
    users: tuple[int, int]
    future_events: tuple[int, int]
    old_events: tuple[int, int] | None = None


EVENTS_SQL = """
INSERT INTO api_event
    (title, description, host_id, start_time, end_time, location, max_participants, created_at)
SELECT
    'Event ' || g,
    'Bring a friend. ' || repeat('Details follow. ', (g %% 8)::int),
    %(user_min)s + (g * 31) %% %(users)s,
    s.start,
    s.start + interval '2 hours',
    (%(cities)s::text[])[1 + g %% %(cities_count)s] || ', Hall ' || (g %% 97),
    %(capacity)s,
    %(created)s + g * interval '1 millisecond'
FROM generate_series(1, %(count)s::bigint) AS g,
LATERAL (
    SELECT %(first_start)s::timestamptz + ((g * 7919) %% %(spread)s) * interval '1 minute'
    AS start
) AS s
"""
PARTICIPANTS_SQL = """
INSERT INTO api_eventparticipant (user_id, event_id, joined_at)
SELECT %(user_min)s + (e.id * 7 + k) %% %(users)s, e.id, e.created_at + k * interval '1 minute'
FROM api_event AS e CROSS JOIN generate_series(0, %(participants)s - 1) AS k
WHERE e.id > %(after)s
"""
INVITATIONS_SQL = """
INSERT INTO api_invitation (event_id, inviter_id, invitee_id, status, sent_at, responded_at)
SELECT e.id, e.host_id, %(user_min)s + (e.id * 7 + %(participants)s) %% %(users)s, 'PENDING',
    e.created_at, NULL
FROM api_event AS e WHERE e.id > %(after)s
"""
FEEDBACK_SQL = """
INSERT INTO api_feedback (event_id, user_id, rating, comment, created_at)
SELECT e.id, %(user_min)s + (e.id * 7) %% %(users)s, 1 + e.id %% 5, 'Well run.', e.end_time
FROM api_event AS e WHERE e.id > %(after)s AND e.start_time < now()
"""


def seed_users(conn: psycopg.Connection[Any], count: int, prefix: str) -> tuple[int, int]:
    conn.execute(
        """
        INSERT INTO api_user (password, is_superuser, username, first_name, last_name, email,
            is_staff, is_active, date_joined)
        SELECT '!', false, %(prefix)s || g, '', '', %(prefix)s || g || '@example.org',
            false, true, now()
        FROM generate_series(1, %(count)s) AS g
        """,
        {"prefix": prefix, "count": count},
    )
    row = conn.execute(
        "SELECT min(id), max(id) FROM api_user WHERE username LIKE %s", (f"{prefix}%",)
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def seed_events(
    conn: psycopg.Connection[Any],
    *,
    count: int,
    participants: int,
    users: tuple[int, int],
    first_start: datetime,
    spread: timedelta,
    capacity: int = 50,
) -> tuple[int, int]:
    """Events with their participants, one invitation each and feedback once started."""
    after = conn.execute("SELECT coalesce(max(id), 0) FROM api_event").fetchone()[0]  # type: ignore[index]
    params = {
        "user_min": users[0],
        "users": users[1] - users[0] + 1,
        "cities": CITIES,
        "cities_count": len(CITIES),
        "capacity": capacity,
        "created": datetime.now(UTC) - timedelta(days=400),
        "count": count,
        "first_start": first_start,
        "spread": max(1, int(spread.total_seconds() // 60)),
        "participants": participants,
        "after": after,
    }
    timings = []
    for table, sql in (
        ("events", EVENTS_SQL),
        ("participants", PARTICIPANTS_SQL if participants else ""),
        ("invitations", INVITATIONS_SQL),
        ("feedback", FEEDBACK_SQL),
    ):
        started = time.perf_counter()
        if sql:
            conn.execute(sql, params)
        timings.append(f"{table} {time.perf_counter() - started:.1f} s")
    log(f"inserted {count:,} events: {', '.join(timings)}")
    row = conn.execute("SELECT min(id), max(id) FROM api_event WHERE id > %s", (after,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


SEEDED_TABLES = ["api_event", "api_eventparticipant", "api_invitation", "api_feedback"]


@contextmanager
def bulk_load(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Indexes are built once after the load instead of row by row, and, where the role
    may, foreign keys are not checked row by row (the rows are consistent by construction):
    together they halve the time to seed a million events."""
    conn.execute("SET maintenance_work_mem = '256MB'")
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    superuser = bool(row and row[0])
    if superuser:
        conn.execute("SET session_replication_role = replica")
    # Indexes that back no constraint (primary keys and unique constraints stay).
    indexes = conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index AS i JOIN pg_class AS t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s)
            AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
        """,
        (SEEDED_TABLES,),
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    yield
    started = time.perf_counter()
    for _, definition in indexes:
        conn.execute(definition)
    if superuser:
        conn.execute("RESET session_replication_role")
    log(f"rebuilt {len(indexes)} indexes in {time.perf_counter() - started:.1f} s")


def vacuum_analyze(url: str, *, vacuum: bool = True) -> None:
    # Production tables are vacuumed and analysed by autovacuum; a fresh bulk load is not
    # yet, and would otherwise be measured with no statistics and no visibility map.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")


def seed_database(
    url: str, *, events: int, participants: int, users: int, old_events: int = 0
) -> Seeded:
    started = time.perf_counter()
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn, bulk_load(conn):
        user_ids = seed_users(conn, max(users, participants + 2), "bench")
        old = None
        if old_events:
            # Ended between 2 and 14 months ago: all older than delete_old_events' month.
            old = seed_events(
                conn,
                count=old_events,
                participants=participants,
                users=user_ids,
                first_start=now - timedelta(days=425),
                spread=timedelta(days=365),
            )
        # A month of recent events (with feedback), then eleven months ahead.
        future = seed_events(
            conn,
            count=events,
            participants=participants,
            users=user_ids,
            first_start=now - timedelta(days=30),
            spread=timedelta(days=365),
        )
    # Reads need the visibility map (index-only scans); the cleanup only statistics.
    vacuum_analyze(url, vacuum=not old_events)
    log(
        f"seeded {events:,} events"
        + (f" and {old_events:,} old ones" if old_events else "")
        + f" with {participants} participants each in {time.perf_counter() - started:.1f} s"
    )
    return Seeded(users=user_ids, future_events=future, old_events=old)


def load_seeded(url: str) -> Seeded:
    with psycopg.connect(url) as conn:
        users = conn.execute(
            "SELECT min(id), max(id) FROM api_user WHERE username LIKE 'bench%'"
        ).fetchone()
        events = conn.execute("SELECT min(id), max(id) FROM api_event").fetchone()
    if not users or users[0] is None or not events or events[0] is None:
        raise SystemExit(f"--reuse: {url} holds no seeded data; run once without --reuse")
    return Seeded(users=(users[0], users[1]), future_events=(events[0], events[1]))


def prepare_database(
    databases: Databases,
    name: str,
    env: dict[str, str],
    *,
    reuse: bool,
    events: int,
    participants: int,
    users: int,
    old_events: int = 0,
) -> tuple[str, Seeded]:
    url = databases.url(name)
    if reuse and not old_events and databases.exists(name):
        migrate(url, env)
        log(f"reusing {name}")
        return url, load_seeded(url)
    databases.recreate(name)
    migrate(url, env)
    return url, seed_database(
        url, events=events, participants=participants, users=users, old_events=old_events
    )


# --- Servers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    app: str
    database_url: str
    env: dict[str, str]
    workers: int
    interface: str = "asgi3"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def start(self, log_dir: Path) -> None:
        self.log_path = log_dir / f"{self.name}.log"
        argv = [
            sys.executable, "-m", "uvicorn", self.app,
            "--host", HOST, "--port", str(self.port),
            "--workers", str(self.workers),
            "--interface", self.interface,
            "--lifespan", "off",
            "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
        url = self.database_url
        env = {**self.env, "DATABASE_URL": url, "FLOOR_DATABASE_URL": url}
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited at start:\n{self.tail()}")
            with suppress(OSError, http.client.HTTPException):
                if request(self.port, "GET", "/api/events/?page_size=1")[0] == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The server and its workers share the session started for them, and nothing else.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


class Servers:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Server] = []

    def start(self, server: Server) -> Server:
        self.running.append(server)
        server.start(self.log_dir)
        log(f"{server.name} on http://{HOST}:{server.port} ({server.workers} workers)")
        return server

    def stop_all(self) -> None:
        while self.running:
            self.running.pop().stop()


# --- HTTP clients --------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    conn = connection or http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if connection is None:
            conn.close()


@dataclass
class Sample:
    started: float
    seconds: float
    status: int
    body: bytes = b""
    request: str = ""


RequestMaker = Callable[[int, int], tuple[str, str, dict[str, str]] | None]


def run_clients(
    port: int,
    clients: int,
    make_request: RequestMaker,
    *,
    seconds: float,
    max_requests_per_client: int,
    keep_body: Callable[[int], bool] = lambda status: False,
    stop: threading.Event | None = None,
) -> tuple[list[Sample], int, float]:
    """``clients`` threads, each on its own keep-alive connection, until the deadline,
    their request budget, ``stop``, or ``make_request`` returning None.

    Returns the samples, the number of transport errors and the elapsed seconds.
    """
    samples: list[list[Sample]] = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)
    deadline = 0.0

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        barrier.wait()
        for step in range(max_requests_per_client):
            if time.perf_counter() >= deadline or (stop is not None and stop.is_set()):
                break
            spec = make_request(index, step)
            if spec is None:
                break
            method, path, headers = spec
            started = time.perf_counter()
            try:
                conn.request(method, path, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
                continue
            elapsed = time.perf_counter() - started
            kept = body if keep_body(response.status) else b""
            samples[index].append(
                Sample(started, elapsed, response.status, kept, f"{method} {path}")
            )
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    begin = time.perf_counter()
    deadline = begin + seconds
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - begin
    return [s for per_client in samples for s in per_client], sum(errors), elapsed


def print_table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> None:
    """A Markdown table, ready to paste into the README."""
    right = set(range(1, len(header))) if right is None else right
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


# --- Load generators -----------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


WRK_SCRIPT = """
local lo, hi = %(lo)d, %(hi)d
local detail = %(detail)s
math.randomseed(%(seed)d)
request = function()
  if detail then
    return wrk.format("GET", "/api/events/" .. math.random(lo, hi) .. "/")
  end
  return wrk.format("GET", "%(list_path)s")
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


class LoadGenerator:
    name = "python"

    def __init__(self, connections: int, threads: int, work_dir: Path) -> None:
        self.connections = connections
        self.threads = threads
        self.work_dir = work_dir

    def run(self, port: int, endpoint: str, ids: tuple[int, int], seconds: float) -> Load:
        def make(index: int, step: int) -> tuple[str, str, dict[str, str]]:
            if endpoint == "detail":
                return "GET", f"/api/events/{rng[index].randint(*ids)}/", {}
            return "GET", LIST_PATH, {}

        rng = [random.Random(i) for i in range(self.connections)]
        samples, errors, elapsed = run_clients(
            port, self.connections, make, seconds=seconds, max_requests_per_client=1_000_000
        )
        latencies = [s.seconds * 1000 for s in samples]
        bad = sum(1 for s in samples if s.status >= 400)
        return Load(len(samples), elapsed, percentile(latencies, 50), percentile(latencies, 99),
                    errors + bad)  # fmt: skip


class Wrk(LoadGenerator):
    name = "wrk"

    def run(self, port: int, endpoint: str, ids: tuple[int, int], seconds: float) -> Load:
        script = self.work_dir / f"wrk-{endpoint}.lua"
        script.write_text(
            WRK_SCRIPT
            % {
                "lo": ids[0],
                "hi": ids[1],
                "detail": "true" if endpoint == "detail" else "false",
                "seed": random.randrange(1 << 30),
                "list_path": LIST_PATH,
            }
        )
        argv = [
            "wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds:.0f}s",
            "--timeout", f"{REQUEST_TIMEOUT:.0f}s", "-s", str(script), f"http://{HOST}:{port}",
        ]  # fmt: skip
        output = subprocess.run(
            argv, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
        match = re.search(r"^BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)$", output, re.MULTILINE)
        if not match:
            raise SystemExit(f"unexpected wrk output:\n{output}")
        requests, duration_us, p50, p99, errors = match.groups()
        return Load(int(requests), int(duration_us) / 1e6, float(p50) / 1000,
                    float(p99) / 1000, int(errors))  # fmt: skip


def load_generator(choice: str, connections: int, threads: int, work_dir: Path) -> LoadGenerator:
    has_wrk = shutil.which("wrk") is not None
    if choice == "wrk" and not has_wrk:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian) or brew install wrk")
    if choice == "python" or not has_wrk:
        if choice == "auto":
            log(
                "wrk not found: using the Python load generator, which is CPU-bound itself and "
                "understates fast servers. For real numbers: apt-get install wrk "
                "(Debian/Ubuntu) or brew install wrk (macOS)."
            )
        return LoadGenerator(connections, threads, work_dir)
    return Wrk(connections, threads, work_dir)


# --- Django in this process (queries per request, tokens) ----------------------------


def setup_django(env: dict[str, str], database_url: str) -> None:
    os.environ.update({**env, "DATABASE_URL": database_url})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def queries_per_request(paths: list[str]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    counts = {}
    for path in paths:
        client.get(path)  # the first request of a process also loads content types etc.
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code} in-process")
        counts[path] = len(captured.captured_queries)
    connection.close()
    return counts


def access_tokens(user_ids: list[int]) -> list[str]:
    from rest_framework_simplejwt.tokens import AccessToken

    from api.models import User

    return [str(AccessToken.for_user(User(id=pk, is_active=True))) for pk in user_ids]


# --- Modes ---------------------------------------------------------------------------


def machine_description(postgres_url: str, loadgen: str) -> str:
    memory = "?"
    with suppress(OSError):
        meminfo = Path("/proc/meminfo").read_text()
        kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))  # type: ignore[union-attr]
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    return (
        f"{os.cpu_count()} CPUs, {memory} memory, {platform.system()} {platform.machine()}, "
        f"PostgreSQL {server_version(postgres_url)}, Python {platform.python_version()}, "
        f"load from {loadgen}"
    )


def compare_bodies(floor: Server, api: Server, event_id: int, pages: int) -> None:
    """The floor is only a floor if it serves the same bytes."""
    paths = [LIST_PATH, f"/api/events/{event_id}/"]
    if pages > 1:
        paths.append(LIST_PATH + "&page=2")
    for path in paths:
        floor_status, floor_body = request(floor.port, "GET", path)
        api_status, api_body = request(api.port, "GET", path)
        floor_text = floor_body.decode().replace(f":{floor.port}/", ":PORT/")
        api_text = api_body.decode().replace(f":{api.port}/", ":PORT/")
        if (floor_status, floor_text) != (api_status, api_text):
            raise SystemExit(
                f"floor and API differ on {path}:\nfloor {floor_status}: {floor_text[:600]}\n"
                f"api   {api_status}: {api_text[:600]}"
            )
    log("floor and API serve identical bodies")


def api_server(url: str, ctx: Context, args: argparse.Namespace, name: str = "api") -> Server:
    """The API as deployed: the ASGI application (HTTP and WebSockets) under uvicorn."""
    return Server(name, "config.asgi:application", url, ctx.env, args.workers)


def wsgi_api_server(url: str, ctx: Context, args: argparse.Namespace) -> Server:
    """The same code through Django's WSGI handler, in uvicorn's thread pool."""
    return Server(
        "api-wsgi", "config.wsgi:application", url, ctx.env, args.workers, interface="wsgi"
    )  # fmt: skip


def throughput(args: argparse.Namespace, ctx: Context) -> None:
    url, seeded = ctx.main_database()
    floor = ctx.servers.start(
        Server("floor", "bench.floor:application", url, ctx.env, args.workers, interface="wsgi")
    )
    servers = [floor, ctx.servers.start(api_server(url, ctx, args))]
    if args.with_wsgi:
        servers.append(ctx.servers.start(wsgi_api_server(url, ctx, args)))
    for server in servers[1:]:
        compare_bodies(floor, server, seeded.future_events[0], pages=args.events // 20)
    detail_path = f"/api/events/{seeded.future_events[0]}/"
    queries = queries_per_request([LIST_PATH, detail_path])

    endpoints = {"list": LIST_PATH, "detail": "/api/events/{id}/"}
    results: dict[tuple[str, str], list[Load]] = {}
    for endpoint in endpoints:
        for server in servers:
            ctx.loadgen.run(server.port, endpoint, seeded.future_events, args.warmup)
    for round_ in range(args.rounds):
        for endpoint in endpoints:
            for server in servers:
                load = ctx.loadgen.run(server.port, endpoint, seeded.future_events, args.duration)
                results.setdefault((endpoint, server.name), []).append(load)
                log(
                    f"round {round_ + 1}/{args.rounds} {endpoint:6} {server.name:8} "
                    f"{load.rps:8.0f} req/s  p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:6.2f} ms"
                )

    print()
    print(
        f"Throughput: GET {LIST_PATH} and GET /api/events/{{id}}/ (random ids), anonymous; "
        f"{args.events:,} events x {args.participants} participants; {args.workers} uvicorn "
        f"workers each; {ctx.loadgen.name}, {args.connections} connections, "
        f"{args.rounds} x {args.duration:.0f} s per row, interleaved; medians of the rounds."
    )
    print(f"Machine: {ctx.machine}")
    print()
    table = []
    for endpoint, path in endpoints.items():
        floor_runs = results[(endpoint, "floor")]
        query_count = queries[LIST_PATH if endpoint == "list" else detail_path]
        for server in servers:
            runs = results[(endpoint, server.name)]
            # Each run is compared with the floor's run of the same round, under the same
            # noise; the median of those ratios is reported.
            ratios = [r.rps / f.rps for f, r in zip(floor_runs, runs, strict=True) if f.rps]
            table.append(
                [
                    f"{endpoint} `{path}`",
                    server.name,
                    f"{statistics.median(ratios):.2f}",
                    f"{statistics.median(r.rps for r in runs):,.0f}",
                    f"{statistics.median(r.p50_ms for r in runs):.2f}",
                    f"{statistics.median(r.p99_ms for r in runs):.2f}",
                    "-" if server is floor else str(query_count),
                    str(sum(r.errors for r in runs)),
                ]
            )
    header = ["endpoint", "server", "ratio to floor", "requests/s", "p50 ms", "p99 ms"]
    print_table([*header, "queries/request", "errors"], table, right={2, 3, 4, 5, 6, 7})
    print()


def scale_requests(now: datetime) -> list[tuple[str, str]]:
    window_start = (now + timedelta(days=60)).date().isoformat()
    window_end = (now + timedelta(days=90)).date().isoformat()
    return [
        ("first page", LIST_PATH),
        (
            "filtered: location + 30 days",
            f"{LIST_PATH}&location=berlin&start_time_after={window_start}"
            f"&start_time_before={window_end}",
        ),
        ("filtered: location", f"{LIST_PATH}&location=hall%2042"),
        ("filtered: host", f"{LIST_PATH}&host=17"),
        ("page 50 (offset 980)", f"{LIST_PATH}&page=50"),
        ("page 500 (offset 9,980)", f"{LIST_PATH}&page=500"),
        ("page 5,000 (offset 99,980)", f"{LIST_PATH}&page=5000"),
        ("page 49,999 (offset 999,960)", f"{LIST_PATH}&page=49999"),
    ]


def scale(args: argparse.Namespace, ctx: Context) -> None:
    sizes = [int(size) for size in args.scale_sizes.split(",")]
    servers: dict[int, Server] = {}
    for size in sizes:
        url, _ = prepare_database(
            ctx.databases, f"{args.database}_scale_{size}", ctx.env, reuse=args.reuse,
            events=size, participants=args.participants, users=args.users,
        )  # fmt: skip
        servers[size] = ctx.servers.start(api_server(url, ctx, args, name=f"api-{size}"))
    requests = scale_requests(datetime.now(UTC))
    latencies: dict[tuple[int, str], list[float]] = {}
    statuses: dict[tuple[int, str], Counter[int]] = {}
    connections = {
        size: http.client.HTTPConnection(HOST, server.port, timeout=REQUEST_TIMEOUT)
        for size, server in servers.items()
    }
    for size, conn in connections.items():  # warm both workers' caches and connections
        for _, path in requests:
            for _ in range(4):
                request(servers[size].port, "GET", path, connection=conn)
    deadline = time.monotonic() + args.scale_seconds
    for _ in range(args.scale_rounds):
        for label, path in requests:
            for size, conn in connections.items():
                for _ in range(10):
                    started = time.perf_counter()
                    status, _ = request(servers[size].port, "GET", path, connection=conn)
                    latencies.setdefault((size, label), []).append(
                        (time.perf_counter() - started) * 1000
                    )
                    statuses.setdefault((size, label), Counter())[status] += 1
        if time.monotonic() > deadline:
            log("scale: time budget reached, fewer rounds than asked")
            break
    for conn in connections.values():
        conn.close()

    small, large = sizes[0], sizes[-1]
    print()
    print(
        f"Scale: median latency of one client, {args.scale_rounds} rounds of 10 requests "
        f"per row and size, sizes in turns; {args.workers} uvicorn workers per size."
    )
    print(f"Machine: {ctx.machine}")
    print()
    table = []
    for label, path in requests:
        cells = []
        for size in (small, large):
            codes = ",".join(str(code) for code in sorted(statuses[(size, label)]))
            cells.append(f"{statistics.median(latencies[(size, label)]):.2f} ({codes})")
        ratio = statistics.median(latencies[(large, label)]) / statistics.median(
            latencies[(small, label)]
        )
        table.append([f"{label} `{path.removeprefix('/api/events/')}`", *cells, f"{ratio:.2f}"])
    header = [f"{size:,} events: median ms (status)" for size in (small, large)]
    print_table(["request", *header, "ratio"], table)
    print()


def registration_run(
    server: Server, batch: int, url: str, args: argparse.Namespace
) -> tuple[list[str], int]:
    """One server's row of the table, and how many events it overbooked."""
    clients = args.clients
    with psycopg.connect(url) as conn:
        users = seed_users(conn, clients, f"registrant{secrets.token_hex(3)}-")
        # Events that have not started, with a few seats left: every client passes over
        # each of them, so they fill up and later clients are refused, as on a popular day.
        rows = conn.execute(
            """
            SELECT id FROM api_event WHERE start_time > now() + interval '1 day'
            ORDER BY id LIMIT %s OFFSET %s
            """,
            (args.registration_events, batch * args.registration_events),
        ).fetchall()
        event_ids = [row[0] for row in rows]
        conn.execute(
            """
            UPDATE api_event AS e SET max_participants =
                (SELECT count(*) FROM api_eventparticipant p WHERE p.event_id = e.id) + %s
            WHERE e.id = ANY(%s)
            """,
            (args.registration_seats, event_ids),
        )
    tokens = access_tokens(list(range(users[0], users[1] + 1)))
    spacing = max(1, len(event_ids) // clients)

    def make(index: int, step: int) -> tuple[str, str, dict[str, str]] | None:
        if step >= len(event_ids):
            return None
        # At any step the clients are on different events, spaced evenly.
        event_id = event_ids[(index * spacing + step) % len(event_ids)]
        return (
            "POST",
            f"/api/events/{event_id}/register/",
            {"Authorization": f"Bearer {tokens[index]}", "Content-Length": "0"},
        )

    samples, transport_errors, elapsed = run_clients(
        server.port, clients, make, seconds=args.registration_seconds,
        max_requests_per_client=len(event_ids), keep_body=lambda status: status >= 400,
    )  # fmt: skip
    codes: Counter[str] = Counter()
    for sample in samples:
        if sample.status == 409:
            codes[json.loads(sample.body).get("code", "?")] += 1
        elif sample.status >= 400 and len(codes) < 50:
            log(f"registration answered {sample.status}: {sample.body[:300]!r}")
    statuses = Counter(sample.status for sample in samples)
    unexpected = {status: n for status, n in statuses.items() if status not in (201, 409)}
    errors = f"{transport_errors + sum(unexpected.values())}"
    if transport_errors or unexpected:
        kinds = [f"{status}: {n}" for status, n in sorted(unexpected.items())]
        errors += f" ({', '.join([*kinds, f'transport: {transport_errors}'])})"
    with psycopg.connect(url) as conn:
        overbooked = conn.execute(
            """
            SELECT count(*) FROM api_event AS e WHERE e.id = ANY(%s) AND e.max_participants <
                (SELECT count(*) FROM api_eventparticipant p WHERE p.event_id = e.id)
            """,
            (event_ids,),
        ).fetchone()[0]  # type: ignore[index]
        registered = conn.execute(
            "SELECT count(*) FROM api_eventparticipant WHERE user_id BETWEEN %s AND %s",
            users,
        ).fetchone()[0]  # type: ignore[index]
    latencies = [s.seconds * 1000 for s in samples]
    row = [
        server.name,
        f"{len(samples):,}",
        f"{len(samples) / elapsed:,.0f}",
        f"{percentile(latencies, 50):.1f}",
        f"{percentile(latencies, 99):.1f}",
        f"{max(latencies, default=0):.1f}",
        f"{statuses[201]:,}",
        ", ".join(f"{code}: {n:,}" for code, n in sorted(codes.items())) or "-",
        errors,
        "yes" if registered == statuses[201] else f"NO: {registered} rows",
        str(overbooked),
    ]
    return row, int(overbooked)


def registration(args: argparse.Namespace, ctx: Context) -> None:
    url, _ = ctx.main_database()
    servers = [ctx.servers.start(api_server(url, ctx, args))]
    if args.with_wsgi:
        servers.append(ctx.servers.start(wsgi_api_server(url, ctx, args)))
    # Each server gets events and accounts of its own.
    rows = [registration_run(server, batch, url, args)[0] for batch, server in enumerate(servers)]
    print()
    print(
        f"Registration under load: {args.clients} clients, each with its own account and "
        f"connection, POST /api/events/{{id}}/register/ over {args.registration_events} events "
        f"with {args.registration_seats} seats left each, clients on different events at any "
        f"moment; {args.workers} uvicorn workers; at most {args.registration_seconds:.0f} s."
    )
    print(f"Machine: {ctx.machine}")
    print()
    header = ["server", "requests", "requests/s", "p50 ms", "p99 ms", "max ms", "201"]
    header += ["409 by code", "errors", "rows written = 201s", "overbooked events"]
    print_table(header, rows, right={1, 2, 3, 4, 5, 6, 8, 10})
    print()


@dataclass
class CleanupRun:
    old_events: int
    seconds: float
    peak_mib: float
    report: str
    old_left: int
    before: list[Sample]
    during: list[Sample]
    errors: int


def cleanup_run(size: int, args: argparse.Namespace, ctx: Context) -> CleanupRun:
    url, seeded = prepare_database(
        ctx.databases, f"{args.database}_cleanup", ctx.env, reuse=False, events=args.events,
        participants=args.participants, users=args.users, old_events=size,
    )  # fmt: skip
    api = ctx.servers.start(api_server(url, ctx, args, name=f"api-cleanup-{size}"))
    ids = seeded.future_events
    writer_token = access_tokens([seeded.users[1]])[0]

    def make(index: int, step: int) -> tuple[str, str, dict[str, str]]:
        # One client registers (row locks, inserts into the table being purged), the
        # others read the list and random events.
        if index == 0:
            event_id = ids[0] + step % (ids[1] - ids[0] + 1)
            headers = {"Authorization": f"Bearer {writer_token}", "Content-Length": "0"}
            return "POST", f"/api/events/{event_id}/register/", headers
        if index % 2:
            return "GET", f"/api/events/{random.randint(*ids)}/", {}
        return "GET", LIST_PATH, {}

    before, _, _ = run_clients(
        api.port, args.cleanup_clients, make, seconds=5, max_requests_per_client=100_000
    )
    stop = threading.Event()
    during: list[Sample] = []
    transport_errors = [0]

    def loop() -> None:
        samples, errors, _ = run_clients(
            api.port, args.cleanup_clients, make, seconds=args.cleanup_timeout,
            max_requests_per_client=10_000_000, stop=stop,
        )  # fmt: skip
        during.extend(samples)
        transport_errors[0] = errors

    requester = threading.Thread(target=loop, daemon=True)
    requester.start()
    time.sleep(1)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "delete_old_events"],
        cwd=ROOT, env={**ctx.env, "DATABASE_URL": url},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    timer = threading.Timer(args.cleanup_timeout, process.kill)
    timer.start()
    assert process.stdout is not None
    output = process.stdout.read().decode()
    # wait4 reports the peak memory of this child alone (the servers are children too).
    _, status, usage = os.wait4(process.pid, 0)
    timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    stop.set()
    requester.join(timeout=REQUEST_TIMEOUT + 10)
    ctx.servers.stop_all()
    if process.returncode != 0:
        raise SystemExit(f"delete_old_events failed ({process.returncode}):\n{output}")
    with psycopg.connect(url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM api_event WHERE end_time < now() - interval '1 month'"
        ).fetchone()[0]  # type: ignore[index]
    in_window = [sample for sample in during if sample.started < started + seconds]
    bad = sum(1 for sample in in_window if sample.status not in (200, 201, 409))
    log(f"cleanup of {size:,}: {seconds:.1f} s, peak {usage.ru_maxrss / 1024:.0f} MiB")
    for sample in sorted(in_window, key=lambda sample: -sample.seconds)[:5]:
        log(
            f"  slow during it: {sample.seconds * 1000:7.1f} ms, "
            f"{sample.started - started:6.1f} s in: {sample.request} ({sample.status})"
        )
    return CleanupRun(
        old_events=size,
        seconds=seconds,
        peak_mib=usage.ru_maxrss / 1024,
        report=output.strip().splitlines()[-1] if output.strip() else "",
        old_left=int(left),
        before=before,
        during=in_window,
        errors=transport_errors[0] + bad,
    )


def cleanup(args: argparse.Namespace, ctx: Context) -> None:
    runs = [cleanup_run(int(size), args, ctx) for size in args.cleanup_sizes.split(",")]
    print()
    print(
        "Cleanup: manage.py delete_old_events (default batch size) on old events with "
        f"{args.participants} participants, 1 invitation and 1 feedback each (feedback on "
        f"started events), next to {args.events:,} current events; meanwhile "
        f"{args.cleanup_clients} clients use the API: one registers, the others read the "
        "list and random events. Peak memory is the command's own (ru_maxrss via wait4)."
    )
    print(f"Machine: {ctx.machine}")
    print()

    def ms(samples: list[Sample], q: float | None = None) -> str:
        values = [sample.seconds * 1000 for sample in samples]
        return f"{percentile(values, q) if q else max(values, default=0.0):.1f}"

    def kind(sample: Sample) -> str:
        if sample.request.startswith("POST"):
            return "register"
        return "list" if "?" in sample.request else "detail"

    def longest(samples: list[Sample]) -> str:
        by_kind = {
            name: ms([sample for sample in samples if kind(sample) == name])
            for name in ("list", "detail", "register")
        }
        return ", ".join(f"{name} {value}" for name, value in by_kind.items())

    rows = [
        [
            f"{run.old_events:,}",
            f"{run.seconds:.1f}",
            f"{run.peak_mib:.0f}",
            run.report,
            str(run.old_left),
            f"{ms(run.before, 99)} / {ms(run.before)}",
            f"{len(run.during):,}",
            ms(run.during, 99),
            longest(run.during),
            str(run.errors),
        ]
        for run in runs
    ]
    header = ["old events", "seconds", "peak memory MiB", "command's report", "old left"]
    header += ["API before: p99 / max ms", "API requests during", "during: p99 ms"]
    header += ["during: longest ms by request", "errors"]
    print_table(header, rows, right={0, 1, 2, 4, 6, 7, 9})
    if len(runs) > 1:
        print()
        ratio = runs[-1].peak_mib / runs[0].peak_mib
        print(
            f"Peak memory at {runs[-1].old_events:,} vs {runs[0].old_events:,} old events: "
            f"{ratio:.2f}x"
        )
    print()


# --- Entry point ---------------------------------------------------------------------


@dataclass
class Context:
    args: argparse.Namespace
    databases: Databases
    servers: Servers
    env: dict[str, str]
    loadgen: LoadGenerator
    machine: str
    _main: tuple[str, Seeded] | None = None

    def main_database(self) -> tuple[str, Seeded]:
        if self._main is None:
            self._main = prepare_database(
                self.databases, self.args.database, self.env, reuse=self.args.reuse,
                events=self.args.events, participants=self.args.participants,
                users=self.args.users,
            )  # fmt: skip
        return self._main


def redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 6379), timeout=1):
            return url
    except OSError:
        log(f"Redis not reachable at {url}: the servers use in-process caches instead")
        return None


def production_env(redis: str | None) -> dict[str, str]:
    """The settings a deployment runs with, plus what plain-HTTP load on localhost needs."""
    run_id = secrets.token_hex(4)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP here; a proxy terminates TLS in production
        "EVENT_CREATION_LIMIT": "1000000",
        "JWT_ACCESS_MINUTES": "120",
        "LOG_LEVEL": "WARNING",
        "CACHE_KEY_PREFIX": f"bench-{run_id}",
        "CHANNEL_LAYER_PREFIX": f"bench-{run_id}",
        "REDIS_URL": redis or "",
        "PYTHONUNBUFFERED": "1",
    }
    return env


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    modes = parser.add_argument_group("modes (default: throughput only)")
    modes.add_argument("--throughput", action="store_true", help="the floor vs API table")
    modes.add_argument("--scale", action="store_true", help="latency at 10,000 vs 1,000,000 events")
    modes.add_argument("--registration", action="store_true", help="60 clients registering")
    modes.add_argument("--cleanup", action="store_true", help="delete_old_events at scale")
    modes.add_argument("--all", action="store_true", help="every mode")
    modes.add_argument(
        "--with-wsgi",
        action="store_true",
        help="throughput and registration: also serve the API through Django's WSGI handler "
        "(uvicorn's thread pool, persistent connections), to compare with the ASGI entry point",
    )
    data = parser.add_argument_group("data")
    data.add_argument("--events", type=int, default=5000, help="events to seed (default 5000)")
    data.add_argument("--participants", type=int, default=5, help="per event (default 5)")
    data.add_argument("--users", type=int, default=1000, help="users to seed (default 1000)")
    data.add_argument("--database", default="events_bench", help="name of the main bench database")
    data.add_argument("--reuse", action="store_true", help="reuse the seeded main database")
    data.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    load = parser.add_argument_group("load")
    load.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    load.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    load.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    load.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    load.add_argument("--duration", type=float, default=10, help="seconds per run (default 10)")
    load.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per target")
    load.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    load.add_argument("--scale-sizes", default="10000,1000000", help="events, comma-separated")
    load.add_argument("--scale-rounds", type=int, default=10, help="rounds of 10 requests")
    load.add_argument("--scale-seconds", type=float, default=600, help="time budget for --scale")
    load.add_argument("--clients", type=int, default=60, help="registering clients (default 60)")
    load.add_argument("--registration-events", type=int, default=120)
    load.add_argument("--registration-seats", type=int, default=10, help="seats left per event")
    load.add_argument("--registration-seconds", type=float, default=30)
    load.add_argument(
        "--cleanup-sizes", default="100000,1000000", help="old events, e.g. 1000,5000"
    )
    load.add_argument("--cleanup-clients", type=int, default=4, help="API clients during cleanup")
    load.add_argument("--cleanup-timeout", type=float, default=1800, help="seconds per cleanup run")
    args = parser.parse_args(argv)
    if args.all:
        args.throughput = args.scale = args.registration = args.cleanup = True
    if not (args.throughput or args.scale or args.registration or args.cleanup):
        args.throughput = True
    return args


@contextmanager
def bench_context(args: argparse.Namespace) -> Iterator[Context]:
    postgres_url = os.environ.get("POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        server_version(with_database(postgres_url, "postgres"))
    except psycopg.OperationalError as error:
        raise SystemExit(f"PostgreSQL is required (POSTGRES_URL={postgres_url}): {error}") from None
    databases = Databases(postgres_url)
    env = production_env(redis_url())
    with tempfile.TemporaryDirectory(prefix="bench-") as work_dir:
        servers = Servers(Path(work_dir))
        loadgen = load_generator(args.loadgen, args.connections, args.threads, Path(work_dir))
        machine = machine_description(with_database(postgres_url, "postgres"), loadgen.name)
        setup_django(env, databases.url(args.database))
        ctx = Context(args, databases, servers, env, loadgen, machine)
        try:
            yield ctx
        finally:
            servers.stop_all()
            from django.db import connections

            connections.close_all()
            if args.keep:
                log(f"kept databases: {', '.join(databases.created) or '(none created)'}")
            else:
                databases.drop_created()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (e.g. from nox or CI) unwinds like Ctrl-C, so servers and databases go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    modes = [
        (args.throughput, throughput),
        (args.registration, registration),
        (args.scale, scale),
        (args.cleanup, cleanup),
    ]
    with bench_context(args) as ctx:
        for wanted, mode in modes:
            if wanted:
                mode(args, ctx)
                # Each server holds a pool of PostgreSQL connections: servers left
                # running by one mode would crowd out the next (max_connections).
                ctx.servers.stop_all()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    log(f"done; children used {children.ru_utime + children.ru_stime:.0f} s of CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Seed data, written with set-based SQL (generate_series) rather than through the ORM.

The scale and cleanup modes need a million events with their participants, invitations
and feedback; row by row that would take longer than the measurements themselves.
CITIES is shared with tests/unit/test_query_plans.py, so the query plans are checked on
the locations the bench measures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.common import log
from bench.databases import Databases, migrate

CITIES = [
    "Berlin", "Paris", "London", "Madrid", "Rome", "Vienna", "Prague", "Warsaw", "Lisbon",
    "Dublin", "Amsterdam", "Brussels", "Copenhagen", "Stockholm", "Oslo", "Helsinki",
    "Athens", "Budapest", "Bucharest", "Sofia", "Zagreb", "Ljubljana", "Bratislava",
    "Tallinn", "Riga", "Vilnius", "Luxembourg", "Valletta", "Nicosia", "Zurich", "Geneva",
    "Munich", "Hamburg", "Cologne", "Lyon", "Marseille", "Milan", "Naples", "Porto",
    "Barcelona",
]  # fmt: skip


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
            is_staff, is_active, date_joined, username_key, email_key, username_skeleton)
        SELECT '!', false, %(prefix)s || g, '', '', %(prefix)s || g || '@example.org',
            false, true, now(), lower(%(prefix)s || g),
            lower(%(prefix)s || g || '@example.org'), lower(%(prefix)s || g)
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

"""--registration: many clients registering at once, then a check for overbooking.

The capacity rule holds under a lock; this mode is the proof under real concurrency,
across server processes, that no event ends with more participants than seats.
"""

from __future__ import annotations

import argparse
import json
import secrets
from collections import Counter

import psycopg

from bench.clients import percentile, print_table, run_clients
from bench.common import log
from bench.context import Context, api_server, wsgi_api_server
from bench.in_process import access_tokens
from bench.seed import seed_users
from bench.servers import Server


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

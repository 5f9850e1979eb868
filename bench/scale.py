"""--scale: the latency of list requests at 10,000 and at 1,000,000 events.

One client, the two sizes in turns, so a request that slows down with the table (a
deep page, a filter no index serves) shows as a ratio well above 1.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench.clients import print_table, request
from bench.common import HOST, LIST_PATH, REQUEST_TIMEOUT, log
from bench.context import Context, api_server
from bench.seed import prepare_database
from bench.servers import Server


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

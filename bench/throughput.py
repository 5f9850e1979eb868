"""The throughput table (the default mode): the API as a ratio of the floor.

The floor (bench/floor.py) serves the same bytes from the same database with the same
server and workers, so the ratio measures the framework's cost and not the machine.
"""

from __future__ import annotations

import argparse
import statistics

from bench.clients import print_table, request
from bench.common import LIST_PATH, log
from bench.context import Context, api_server, wsgi_api_server
from bench.in_process import queries_per_request
from bench.loadgen import Load
from bench.servers import Server


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

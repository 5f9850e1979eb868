"""--cleanup: delete_old_events on many old events while the API is in use.

It reports the command's time and peak memory (which must not grow with the backlog)
and how long API requests waited meanwhile (the purge must not lock them out).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import psycopg

from bench.clients import Sample, percentile, print_table, run_clients
from bench.common import LIST_PATH, REQUEST_TIMEOUT, ROOT, log
from bench.context import Context, api_server
from bench.in_process import access_tokens
from bench.seed import prepare_database


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

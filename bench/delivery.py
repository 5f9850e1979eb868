"""--delivery: webhook messages to a loopback receiver, sent by ``manage.py worker``.

The workers run first; then one process writes the messages through
``api.webhooks.messages.emit`` (the path every service's message takes), BATCH to a
committed transaction and as fast as it can, so the run is a backlog built and drained
at once: deliveries per second over the whole run (first commit to last receipt), the
time from each message's commit to its receipt, and the API's list throughput meanwhile
next to the same load before the workers started. Then every message must have arrived
exactly once and be recorded as succeeded.

The receiver and the producer are processes of their own, so neither waits for the
bench's Python load generator (threads in this process) to release the interpreter: a
receipt is timed when it is read, a commit when it returns.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg

from bench.clients import percentile, print_table
from bench.common import HOST, LIST_PATH, ROOT, log
from bench.context import Context, api_server
from bench.in_process import setup_django
from bench.loadgen import Load
from bench.seed import prepare_database

BATCH = 100
# The list load runs in pieces this long, so it stops soon after the last receipt
# (wrk takes whole seconds).
CHUNK_SECONDS = 2.0
WORKER_INTERVAL = "0.05"


def receive(conn: Connection) -> None:
    """The receiver's process: answers every POST 200 with an empty body, records its
    webhook-id and the time.time() it was read at until told ``stop``; then sends every
    record."""
    lock = threading.Lock()
    records: list[tuple[str, float]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            at = time.time()
            message_id = self.headers.get("webhook-id", "")
            with lock:
                records.append((message_id, at))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send(server.server_address[1])
    conn.recv()  # "stop"
    server.shutdown()
    server.server_close()
    with lock:
        conn.send(records)


def produce(env: dict[str, str], url: str, receiver_url: str, count: int, conn: Connection) -> None:
    """The producer's process: an owner with one endpoint, then, once told ``go``,
    ``count`` event.updated messages, BATCH per transaction; sends back when it started
    and each message's commit time by webhook-id."""
    setup_django(env, url)
    from django.db import transaction

    from api.models import Event, User, WebhookDelivery
    from api.webhooks import endpoints, messages

    owner = User.objects.create_user("webhook-owner", "webhook-owner@example.org")
    endpoint = endpoints.endpoint_create(owner=owner, url=receiver_url)
    event = Event.objects.order_by("pk").first()
    assert event is not None, "the database holds no event"
    conn.send("ready")
    conn.recv()
    started = time.time()
    commits: dict[str, float] = {}
    last = 0
    for first in range(0, count, BATCH):
        with transaction.atomic():
            for _ in range(min(BATCH, count - first)):
                # The body is rendered per message, as a service's emit does.
                messages.emit(
                    user_id=owner.pk,
                    event_type=messages.EVENT_UPDATED,
                    data=lambda: messages.event_data(event),
                )
            written = list(
                WebhookDelivery.objects.filter(endpoint=endpoint, pk__gt=last).values_list(
                    "pk", "message_id"
                )
            )
        committed = time.time()
        commits.update((message_id, committed) for _, message_id in written)
        last = max(pk for pk, _ in written)
    conn.send((started, commits))


@dataclass
class Chunk:
    started: float
    ended: float
    load: Load


@dataclass
class Run:
    started: float
    # Commit time by webhook-id, and every receipt (webhook-id, time).
    commits: dict[str, float]
    records: list[tuple[str, float]]
    idle: list[Chunk]
    during: list[Chunk]
    exits: list[int]


def combined(chunks: list[Chunk]) -> tuple[float, int]:
    """Requests per second over the pieces, and their errors."""
    seconds = sum(chunk.load.seconds for chunk in chunks)
    requests = sum(chunk.load.requests for chunk in chunks)
    return (requests / seconds if seconds else 0.0), sum(chunk.load.errors for chunk in chunks)


def list_load(ctx: Context, port: int, ids: tuple[int, int], pieces: int) -> list[Chunk]:
    chunks = []
    for _ in range(pieces):
        started = time.time()
        load = ctx.loadgen.run(port, "list", ids, CHUNK_SECONDS)
        chunks.append(Chunk(started, time.time(), load))
    return chunks


def start_worker(index: int, env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log_path = log_dir / f"webhook-worker-{index}.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", WORKER_INTERVAL,
             "--worker-id", f"bench-{index}"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while "started" not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker {index} did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)
    return process


def stop_worker(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM finishes the attempt in hand; a worker that does not is killed."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


def scalar(conn: psycopg.Connection[Any], sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0]


def pending(conn: psycopg.Connection[Any]) -> int:
    return int(scalar(conn, "SELECT count(*) FROM api_webhookdelivery WHERE status = 'pending'"))


def where_time_went(url: str) -> list[str]:
    """The workers' own records: the HTTP exchange, the whole task, the wait in the queue."""

    tasks = "django_tasks_database_dbtaskresult"
    with psycopg.connect(url) as conn:

        def quantiles(expression: str, table: str) -> str:
            row = conn.execute(
                f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {expression}), "
                f"percentile_cont(0.99) WITHIN GROUP (ORDER BY {expression}) FROM {table}"
            ).fetchone()
            if row is None or row[0] is None:
                return "-"
            return f"p50 {row[0]:,.1f} ms, p99 {row[1]:,.1f} ms"

        per_worker = conn.execute(
            f"SELECT worker_ids->>0, count(*) FROM {tasks} GROUP BY 1 ORDER BY 1"
        ).fetchall()
        return [
            "HTTP exchange (the attempt's duration_ms): "
            + quantiles("duration_ms", "api_webhookattempt"),
            "task run (claim, send, record; finished_at - started_at): "
            + quantiles("extract(epoch FROM finished_at - started_at) * 1000", tasks),
            "queue wait (enqueued, inside the producer's transaction, to taken): "
            + quantiles("extract(epoch FROM started_at - enqueued_at) * 1000", tasks),
            "tasks per worker: " + ", ".join(f"{worker}: {n:,}" for worker, n in per_worker),
        ]


def delivery(args: argparse.Namespace, ctx: Context) -> None:
    count, worker_count = args.delivery_messages, args.delivery_workers
    url, seeded = prepare_database(
        ctx.databases, f"{args.database}_delivery", ctx.env, reuse=False, events=args.events,
        participants=args.participants, users=args.users,
    )  # fmt: skip
    api = ctx.servers.start(api_server(url, ctx, args, name="api-delivery"))
    worker_env = {
        **ctx.env,
        "DATABASE_URL": url,
        "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1",
        "WEBHOOKS_ALLOW_HTTP": "1",
    }
    spawn = multiprocessing.get_context("spawn")
    to_receiver, receiver_end = spawn.Pipe()
    to_producer, producer_end = spawn.Pipe()
    children = [spawn.Process(target=receive, args=(receiver_end,), daemon=True)]
    workers: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    during: list[Chunk] = []

    def load_while_delivering() -> None:
        while not stop.is_set():
            during.extend(list_load(ctx, api.port, seeded.future_events, 1))

    loader = threading.Thread(target=load_while_delivering, daemon=True)
    try:
        children[0].start()
        receiver_url = f"http://{HOST}:{to_receiver.recv()}/hook"
        producer = spawn.Process(
            target=produce, args=(ctx.env, url, receiver_url, count, producer_end), daemon=True
        )
        children.append(producer)
        producer.start()
        if not to_producer.poll(120) or to_producer.recv() != "ready":
            raise SystemExit("delivery: the producer did not get ready")
        ctx.loadgen.run(api.port, "list", seeded.future_events, args.warmup)
        pieces = max(1, round(args.duration / CHUNK_SECONDS))
        idle = list_load(ctx, api.port, seeded.future_events, pieces)
        log_dir = ctx.servers.log_dir
        workers = [start_worker(n + 1, worker_env, log_dir) for n in range(worker_count)]
        log(f"delivery: {worker_count} workers started; producing {count:,} messages")
        loader.start()
        to_producer.send("go")
        produced: tuple[float, dict[str, float]] | None = None
        deadline = time.monotonic() + args.delivery_timeout
        # One connection for the polls: a new one ten times a second takes CPU from the
        # workers being measured.
        with psycopg.connect(url, autocommit=True) as watch:
            while time.monotonic() < deadline:
                if produced is None and to_producer.poll():
                    produced = to_producer.recv()
                    seconds = max(produced[1].values(), default=produced[0]) - produced[0]
                    log(f"delivery: {count:,} messages committed in {seconds:.1f} s")
                elif produced is None and not producer.is_alive():
                    raise SystemExit(f"delivery: the producer failed (exit {producer.exitcode})")
                for n, process in enumerate(workers, 1):
                    if process.poll() is not None:
                        worker_log = (log_dir / f"webhook-worker-{n}.log").read_text()[-3000:]
                        raise SystemExit(f"delivery: worker {n} exited early:\n{worker_log}")
                # Done when the workers have recorded every message as finished (the receiver's
                # own count is checked in the report: missing and duplicated ids).
                if produced is not None and not pending(watch):
                    break
                time.sleep(0.1)
            else:
                log(f"delivery: not all delivered within {args.delivery_timeout:.0f} s")
        stop.set()
        loader.join(timeout=CHUNK_SECONDS + 60)
        exits = [stop_worker(process) for process in workers]
        to_receiver.send("stop")
        records: list[tuple[str, float]] = to_receiver.recv()
    finally:
        stop.set()
        for process in workers:
            stop_worker(process)
        for child in children:
            if child.is_alive():
                child.terminate()
                child.join(timeout=10)
        ctx.servers.stop_all()
    if produced is None:
        raise SystemExit("delivery: the producer sent no commit times")
    report(args, ctx, url, Run(*produced, records, idle, during, exits))


def report(args: argparse.Namespace, ctx: Context, url: str, run: Run) -> None:
    count, commits, started = args.delivery_messages, run.commits, run.started
    first_receipt: dict[str, float] = {}
    for message_id, at in run.records:
        first_receipt.setdefault(message_id, at)
    per_message = Counter(message_id for message_id, _ in run.records)
    missing = [message_id for message_id in commits if message_id not in per_message]
    duplicated = {message_id: n for message_id, n in per_message.items() if n > 1}
    unexpected = [message_id for message_id in per_message if message_id not in commits]
    if missing or duplicated or unexpected:
        log(f"delivery: missing {missing[:5]}, duplicated {list(duplicated.items())[:5]}, "
            f"unexpected {unexpected[:5]}")  # fmt: skip
    latencies = [
        (first_receipt[message_id] - committed) * 1000
        for message_id, committed in commits.items()
        if message_id in first_receipt
    ]
    first_commit = min(commits.values(), default=started)
    last_receipt = max(first_receipt.values(), default=first_commit)
    last_commit = max(commits.values(), default=started)
    # Pieces of load that ended after the last receipt ran partly on an idle system.
    in_window = [chunk for chunk in run.during if chunk.ended <= last_receipt] or run.during
    idle_rps, idle_errors = combined(run.idle)
    during_rps, during_errors = combined(in_window)
    with psycopg.connect(url) as conn:
        statuses: dict[str, int] = dict(
            conn.execute("SELECT status, count(*) FROM api_webhookdelivery GROUP BY 1").fetchall()
        )
        attempts = scalar(conn, "SELECT count(*) FROM api_webhookattempt")
    notes = where_time_went(url)
    exactly_once = "yes"
    if missing or duplicated or unexpected:
        exactly_once = (
            f"NO: {len(missing)} missing, {len(duplicated)} duplicated, "
            f"{len(unexpected)} unexpected"
        )
    recorded = f"{statuses.get('succeeded', 0):,}"
    others = {status: n for status, n in statuses.items() if status != "succeeded"}
    if others or attempts != count:
        kinds = [f"{status}: {n:,}" for status, n in sorted(others.items())]
        recorded += f" ({', '.join([*kinds, f'attempts: {attempts:,}'])})"
    if any(run.exits):
        log(f"delivery: workers exited with {run.exits}")

    print()
    print(
        f"Delivery: {count:,} webhook messages (event.updated, rendered per message) written "
        f"through emit() by one process, {BATCH} per transaction, as fast as it commits, to "
        f"one endpoint on a loopback receiver (200, empty body); {args.delivery_workers} "
        f"`manage.py worker --interval {WORKER_INTERVAL}` already running, on PostgreSQL. "
        "Deliveries/s from the first commit to the last receipt; latency from each "
        "message's commit to its receipt (a backlog drained as it builds). List: "
        f"GET {LIST_PATH}, {ctx.loadgen.name}, {args.connections} connections, against the "
        f"API ({args.workers} uvicorn workers) before the workers start and while they "
        f"deliver; {args.events:,} events."
    )
    print(f"Machine: {ctx.machine}")
    print()
    header = ["messages", "workers", "committed/s", "deliveries/s", "p50 ms", "p99 ms"]
    header += ["max ms", "list req/s idle", "list req/s during", "list errors"]
    header += ["exactly once", "succeeded in DB"]
    row = [
        f"{count:,}",
        str(args.delivery_workers),
        f"{count / (last_commit - started):,.0f}" if last_commit > started else "-",
        f"{len(first_receipt) / (last_receipt - first_commit):,.0f}"
        if last_receipt > first_commit
        else "-",
        f"{percentile(latencies, 50):,.1f}",
        f"{percentile(latencies, 99):,.1f}",
        f"{max(latencies, default=0):,.1f}",
        f"{idle_rps:,.0f}",
        f"{during_rps:,.0f} ({during_rps / idle_rps:.2f}x)" if idle_rps else f"{during_rps:,.0f}",
        str(idle_errors + during_errors),
        exactly_once,
        recorded,
    ]
    print_table(header, [row], right={0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
    print()
    print(
        f"Committed in {last_commit - started:.1f} s, delivered in "
        f"{last_receipt - first_commit:.1f} s; where a delivery's time went:"
    )
    for note in notes:
        print(f"- {note}")
    print()

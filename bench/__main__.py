"""``python -m bench``: parse the modes, set up the run, run each mode asked for.

Whatever happens, the servers stop and the databases created are dropped (unless
--keep), also on SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import secrets
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

import bench
from bench.cleanup import cleanup
from bench.common import HOST, log
from bench.context import Context
from bench.databases import Databases, server_version, with_database
from bench.delivery import delivery
from bench.in_process import setup_django
from bench.loadgen import load_generator
from bench.registration import registration
from bench.scale import scale
from bench.servers import Servers
from bench.throughput import throughput

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/events"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=bench.__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    modes = parser.add_argument_group("modes (default: throughput only)")
    modes.add_argument("--throughput", action="store_true", help="the floor vs API table")
    modes.add_argument("--scale", action="store_true", help="latency at 10,000 vs 1,000,000 events")
    modes.add_argument("--registration", action="store_true", help="60 clients registering")
    modes.add_argument("--cleanup", action="store_true", help="delete_old_events at scale")
    modes.add_argument(
        "--delivery", action="store_true", help="webhook messages delivered by workers"
    )
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
    load.add_argument("--delivery-messages", type=int, default=10_000, help="(default 10000)")
    load.add_argument("--delivery-workers", type=int, default=2, help="webhook workers (default 2)")
    load.add_argument(
        "--delivery-timeout", type=float, default=900, help="seconds to wait for every receipt"
    )
    args = parser.parse_args(argv)
    if args.all:
        args.throughput = args.scale = args.registration = args.cleanup = args.delivery = True
    if not (args.throughput or args.scale or args.registration or args.cleanup or args.delivery):
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
        (args.delivery, delivery),
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

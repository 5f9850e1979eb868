"""A real server process for tests that must cross the network: a fresh, migrated
database and uvicorn on a free 127.0.0.1 port, stopped (with its workers) on exit.

    with live_server(workers=2) as server:
        httpx.get(f"{server.url}/api/events/")

Used by the generated-client journey (tests/contract/test_generated_client.py), the
command-line Schemathesis run (tests/contract/run_live.py) and the WebSockets tests.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LiveServer:
    url: str
    # A temporary directory that lives as long as the server: its log, scratch files.
    directory: Path
    database_url: str
    # The database file when running on SQLite, for tests that must reach past the API.
    sqlite_path: Path | None
    log_path: Path
    # The environment the server runs with: for a second process on the same database.
    env: Mapping[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _fresh_postgres_database(url: str) -> Iterator[str]:
    """A new, empty database next to the one `url` names, dropped afterwards, so a run
    never meets another run's rows (or the test suite's)."""
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'events'}_live_{secrets.token_hex(4)}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(database_url: str, directory: Path) -> Iterator[tuple[str, Path | None]]:
    if database_url.startswith(("postgres://", "postgresql://")):
        with _fresh_postgres_database(database_url) as fresh_url:
            yield fresh_url, None
    elif database_url:
        raise ValueError(f"live_server runs on SQLite or PostgreSQL, not {database_url!r}")
    else:
        path = directory / "db.sqlite3"
        yield f"sqlite:///{path}", path


def _wait_until_ready(
    process: subprocess.Popen[bytes], url: str, log_path: Path, timeout: float, path: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited ({process.returncode}):\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"The server was not ready within {timeout:.0f} s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (uvicorn and its workers), then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def server_environment(
    database_url: str, *, redis_url: str = "", env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a production-like process (server or worker) on this database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": f"live-server-{secrets.token_hex(32)}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on the loopback: no redirect to HTTPS.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # The real default without Redis: a cache (throttle counters) in the database,
        # shared by every worker; the test process itself keeps one in memory.
        "EMBEDDED_CACHE": "database",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }


def migrate(env: Mapping[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{result.stdout}{result.stderr}")


@contextmanager
def live_server(
    *,
    workers: int = 1,
    database_url: str = "",
    redis_url: str = "",
    env: Mapping[str, str] | None = None,
    startup_timeout: float = 30,
    server_args: Sequence[str] = (),
) -> Iterator[LiveServer]:
    """Migrate a fresh database and serve config.asgi:application with uvicorn.

    `database_url` empty means a SQLite file in a temporary directory; a PostgreSQL URL
    means a new database on that server. `redis_url` empty means in-process caches and
    channel layer (the cache in the database, which every worker shares; the channel
    layer in memory, which only a single worker can share). `env` adds settings, e.g.
    EVENT_CREATION_LIMIT; `server_args` adds uvicorn options.
    """
    with (
        tempfile.TemporaryDirectory(prefix="live-server-") as tmp,
        fresh_database(database_url, Path(tmp)) as (url, sqlite_path),
    ):
        directory = Path(tmp)
        server_env = server_environment(url, redis_url=redis_url, env=env)
        migrate(server_env)

        log_path = directory / "server.log"
        with uvicorn_server(
            server_env, log_path, workers=workers, timeout=startup_timeout, args=server_args
        ) as url_:
            yield LiveServer(
                url=url_,
                directory=directory,
                database_url=url,
                sqlite_path=sqlite_path,
                log_path=log_path,
                env=server_env,
            )


@contextmanager
def uvicorn_server(
    env: Mapping[str, str],
    log_path: Path,
    *,
    workers: int = 1,
    timeout: float = 30,
    ready_path: str = "/api/ready/",
    args: Sequence[str] = (),
) -> Iterator[str]:
    """uvicorn serving config.asgi:application with `env` (an already migrated database)
    on a free port; yields its base URL once `ready_path` answers 200 (/api/health/ for
    a server whose dependencies are meant to be down), stops it on exit."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                *args,
            ],
            cwd=ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so stopping it reaches every worker.
            start_new_session=True,
        )
    try:
        _wait_until_ready(process, base_url, log_path, timeout, ready_path)
        yield base_url
    finally:
        _stop(process)

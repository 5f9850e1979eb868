"""The servers under test: uvicorn subprocesses on free ports of 127.0.0.1.

Each server runs in a session of its own, so stopping it stops its workers and nothing
else.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from bench.clients import request
from bench.common import HOST, ROOT, log


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

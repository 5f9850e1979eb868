"""A real webhook receiver on the loopback for tests and the benchmark: it records every
request it gets and answers as the test scripts it (status, headers, body, holding the
response), verifying nothing itself, so tests check signatures as a receiver would.

    with webhook_receiver() as receiver:
        receiver.respond(500, 200)          # the first request gets 500, then 200s
        ...
        [first, second] = receiver.wait_for(2)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    # time.time() when the request had been read whole: for latency from commit.
    at: float


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    # Hold the response until the receiver is released (a receiver too slow to answer).
    hold: bool = False


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._answers: deque[Answer] = deque()
        self.default = Answer()
        self._changed = threading.Condition()
        self.released = threading.Event()
        self.url = ""

    def respond(self, *answers: int | Answer) -> None:
        """Answer the next requests with these, in order; then with ``default``."""
        with self._changed:
            self._answers.extend(a if isinstance(a, Answer) else Answer(status=a) for a in answers)

    def _next_answer(self) -> Answer:
        with self._changed:
            return self._answers.popleft() if self._answers else self.default

    def _record(self, request: Received) -> None:
        with self._changed:
            self.received.append(request)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """The first ``count`` requests, once that many arrived; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0 or not self._changed.wait(left):
                    if len(self.received) >= count:
                        break
                    raise AssertionError(
                        f"{len(self.received)} of {count} requests arrived in {timeout} s"
                    )
            return list(self.received[:count])


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver._record(
                Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    at=time.time(),
                )
            )
            answer = receiver._next_answer()
            if answer.hold:
                receiver.released.wait()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def webhook_receiver(host: str = "127.0.0.1") -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer((host, 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://{host}:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()

"""HTTP clients in threads, for load that wrk cannot make, and the tables they fill.

The registration, scale and cleanup modes need what wrk does not offer: a token per
client, the bodies of refusals, a stop signal and per-request samples.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.common import HOST, REQUEST_TIMEOUT


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    conn = connection or http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if connection is None:
            conn.close()


@dataclass
class Sample:
    started: float
    seconds: float
    status: int
    body: bytes = b""
    request: str = ""


RequestMaker = Callable[[int, int], tuple[str, str, dict[str, str]] | None]


def run_clients(
    port: int,
    clients: int,
    make_request: RequestMaker,
    *,
    seconds: float,
    max_requests_per_client: int,
    keep_body: Callable[[int], bool] = lambda status: False,
    stop: threading.Event | None = None,
) -> tuple[list[Sample], int, float]:
    """``clients`` threads, each on its own keep-alive connection, until the deadline,
    their request budget, ``stop``, or ``make_request`` returning None.

    Returns the samples, the number of transport errors and the elapsed seconds.
    """
    samples: list[list[Sample]] = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)
    deadline = 0.0

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        barrier.wait()
        for step in range(max_requests_per_client):
            if time.perf_counter() >= deadline or (stop is not None and stop.is_set()):
                break
            spec = make_request(index, step)
            if spec is None:
                break
            method, path, headers = spec
            started = time.perf_counter()
            try:
                conn.request(method, path, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
                continue
            elapsed = time.perf_counter() - started
            kept = body if keep_body(response.status) else b""
            samples[index].append(
                Sample(started, elapsed, response.status, kept, f"{method} {path}")
            )
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    begin = time.perf_counter()
    deadline = begin + seconds
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - begin
    return [s for per_client in samples for s in per_client], sum(errors), elapsed


def print_table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> None:
    """A Markdown table, ready to paste into the README."""
    right = set(range(1, len(header))) if right is None else right
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]

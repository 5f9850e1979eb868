"""Holding one request at a named point of its transaction while others run.

The services mark the moments a race turns on (``api.checkpoints``: after a count,
after a lock). ``hold_at(NAME)`` stops the first thread that reaches NAME until the
test calls ``release()``; the test meanwhile sends the competing request and waits
until it is either blocked on a database lock (``lock_waiters``) or finished. So the
interleaving that a lock must survive happens every run, not by luck, and the same
test fails deterministically against the code without the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection

from api import checkpoints

# Generous for 2 shared cores; a test that needs it has failed anyway.
TIMEOUT = 20.0


class Hold:
    def __init__(self) -> None:
        self._arrived = threading.Event()
        self._released = threading.Event()
        self._taken = threading.Lock()

    def handler(self) -> None:
        # Only the first thread to arrive is held; later ones pass through.
        if not self._taken.acquire(blocking=False):
            return
        self._arrived.set()
        if not self._released.wait(TIMEOUT):
            raise RuntimeError("held at a checkpoint and never released")

    def wait_until_arrived(self) -> None:
        if not self._arrived.wait(TIMEOUT):
            raise AssertionError("no request reached the checkpoint")

    def release(self) -> None:
        self._released.set()


@contextmanager
def hold_at(name: str) -> Iterator[Hold]:
    hold = Hold()
    remove = checkpoints.register(name, hold.handler)
    try:
        yield hold
    finally:
        hold.release()
        remove()


def lock_waiters() -> int:
    """How many other PostgreSQL sessions of this database wait for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Polls real state (a thread finished, a session waits on a lock) until it holds."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.01)


class Request(threading.Thread):
    """One request in its own thread and database connection; ``result`` once joined."""

    def __init__(self, call: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as error:  # re-raised in the test's thread by outcome()
            self.error = error
        finally:
            connection.close()

    def outcome(self) -> object:
        self.join(TIMEOUT)
        if self.is_alive():
            raise AssertionError("the request never finished")
        if self.error is not None:
            raise self.error
        return self.result


def blocked_or_done(request: Request) -> Callable[[], bool]:
    """The competing request either waits for the held one's lock, or (without the
    lock) went straight through."""
    return lambda: not request.is_alive() or lock_waiters() > 0

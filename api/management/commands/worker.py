"""Run background work until stopped: webhook deliveries and the periodic jobs behind
them (queueing due retries and messages whose worker died, pruning old logs), and the
expiry of waiting-list offers, whose seats go to the next person waiting.

Tasks come from Django's tasks API on the database backend (django-tasks-db), whose
worker loop this wraps: between batches of tasks it runs the periodic jobs, so one
command is all an operator runs, as many times as they like (workers share the queue;
api.webhooks.delivery keeps two of them off one attempt). SIGTERM or Ctrl-C finishes
the attempt in hand and exits; a second one exits at once. Unrelated to Channels'
``runworker``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections
from django.utils import autoreload
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker

from api import waiting_list
from api.webhooks import delivery, tasks

logger = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0
DB_RETRY_SECONDS = 5.0
# Tasks run before the loop looks at the clock again, so periodic jobs are not starved
# by a long queue (each task is at most one attempt, itself at most the timeout).
TASKS_PER_BATCH = 50


class _BatchWorker(Worker):
    """django-tasks-db's worker, run for one batch at a time."""

    @property
    def tasks_run(self) -> int:
        return self._run_tasks


class Command(BaseCommand):
    help = (
        "Run background work (webhook deliveries, retries, lease recovery, log pruning, "
        "waiting-list offer expiry) until stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds to wait when there is nothing to do (default: 1).",
        )
        parser.add_argument(
            "--sweep-every",
            type=float,
            default=None,
            help="Seconds between looks for due retries and expired leases "
            "(default: WEBHOOK_SWEEP_SECONDS).",
        )
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="Exit once nothing is queued or due (for scripts and tests).",
        )
        parser.add_argument(
            "--worker-id",
            default=None,
            help="This worker's name in task rows (default: random; unique per worker).",
        )
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Restart on code changes (development: make run).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop, stopped = threading.Event(), threading.Event()
        current: list[_BatchWorker] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if stop.is_set():
                raise SystemExit(1)
            stop.set()
            for worker in current:
                worker.running = False
            if options["reload"]:
                # The loop runs in the reloader's thread, and the reloader would outlive
                # it: wait for the attempt in hand, then end the process from here.
                stopped.wait()
                raise SystemExit(0)

        # In the main thread (the reloader runs the loop in another): in the process
        # that works, not in the reloader's parent, which only restarts it.
        if not options["reload"] or os.environ.get(autoreload.DJANGO_AUTORELOAD_ENV) == "true":
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
        if options["reload"]:
            autoreload.run_with_reloader(self._run, stop, stopped, current, **options)
        else:
            self._run(stop, stopped, current, **options)

    def _run(
        self,
        stop: threading.Event,
        stopped: threading.Event,
        current: list[_BatchWorker],
        **options: Any,
    ) -> None:
        worker_id: str = options["worker_id"] or get_random_string(32)
        self.stdout.write(f"Worker {worker_id} started (pid {os.getpid()}).")
        try:
            self._loop(stop, current, {**options, "worker_id": worker_id})
        finally:
            # Also when the loop died: a signal waiting for it in reload mode returns.
            self.stdout.write(f"Worker {worker_id} stopped.")
            stopped.set()

    def _loop(
        self, stop: threading.Event, current: list[_BatchWorker], options: dict[str, Any]
    ) -> None:
        worker_id: str = options["worker_id"]
        interval: float = options["interval"]
        sweep_every: float = options["sweep_every"] or settings.WEBHOOK_SWEEP_SECONDS
        expire_every: float = settings.WAITING_LIST_EXPIRY_SECONDS
        next_sweep = next_prune = next_expiry = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            queued = 0
            worker = _BatchWorker(
                queue_names=[DEFAULT_TASK_QUEUE_NAME],
                interval=0,
                batch=True,
                backend_name=DEFAULT_TASK_BACKEND_ALIAS,
                startup_delay=False,
                max_tasks=TASKS_PER_BATCH,
                worker_id=worker_id,
                excluded_queue_names=[],
            )
            current[:] = [worker]
            worker.running = not stop.is_set()
            try:
                if now >= next_sweep:
                    queued = delivery.sweep()
                    next_sweep = now + sweep_every
                if now >= next_expiry:
                    # Before the batch, so the messages of the offers it makes go in it.
                    expired = waiting_list.expire_offers()
                    if expired:
                        self.stdout.write(f"Expired {expired} waiting-list offers.")
                    next_expiry = now + expire_every
                if now >= next_prune:
                    self._prune()
                    next_prune = now + PRUNE_EVERY_SECONDS
                worker.run()
                idle = worker.tasks_run == 0 and queued == 0
                if idle and options["until_idle"] and not delivery.work_due():
                    break
            except DatabaseError:
                # The database is down or restarting: every step is safe to repeat (an
                # attempt in flight keeps its lease), so wait and try again, not exit.
                logger.exception("Background work failed; retrying in %s s", DB_RETRY_SECONDS)
                close_old_connections()
                stop.wait(DB_RETRY_SECONDS)
                continue
            if idle:
                stop.wait(interval)

    def _prune(self) -> None:
        attempts, messages = delivery.prune()
        results = tasks.prune_task_results()
        if attempts or messages or results:
            self.stdout.write(
                f"Pruned {attempts} webhook attempts, {messages} messages, {results} task rows."
            )

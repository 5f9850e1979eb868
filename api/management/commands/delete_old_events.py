"""Delete events that ended more than one calendar month ago, with everything they own.

Run it from cron; it is safe to run while the API serves requests. Events are deleted
in batches, each in its own short transaction, so a large backlog neither holds locks
on the events table for long nor loads it into memory. On PostgreSQL the events table
is vacuumed every few batches: deleted rows stay in its indexes until a vacuum, and
the oldest events are the first the events list reads (bench/ measured list requests
waiting 2.5 s behind a million deleted rows that autovacuum had not reached yet). The
other tables are read by event or by user, not from their oldest rows, and are left to
autovacuum.
"""

from __future__ import annotations

import argparse
import calendar
from collections import Counter
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from api.models import Event, EventParticipant, Feedback, Invitation

DEFAULT_BATCH_SIZE = 1000
# A batch's ids travel as one parameter each, and PostgreSQL takes at most 65,535
# parameters in a statement bound by the server (config/settings.py).
MAX_BATCH_SIZE = 50_000
DEFAULT_VACUUM_EVERY = 50

# The kinds of rows reported, in print order, by the label delete() counts them under.
KINDS = {
    Event._meta.label: "events",
    EventParticipant._meta.label: "participants",
    Invitation._meta.label: "invitations",
    Feedback._meta.label: "feedback",
}


def one_calendar_month_before(moment: datetime) -> datetime:
    """The same day and time of the previous month, clamped to that month's last day.

    "A month ago" is a calendar month, not 30 days: on 31 March it is 28 (or 29)
    February, on 15 May it is 15 April. Computed here rather than with dateutil so the
    command needs no dependency for one subtraction.
    """
    year, month = (moment.year - 1, 12) if moment.month == 1 else (moment.year, moment.month - 1)
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def batch_size(value: str) -> int:
    number = positive_int(value)
    if number > MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_BATCH_SIZE}, not {number}")
    return number


class Command(BaseCommand):
    help = (
        "Delete events whose end time is more than one calendar month ago, with their "
        "participants, invitations and feedback, in batches."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report how many rows would be deleted, and delete nothing.",
        )
        parser.add_argument(
            "--batch-size",
            type=batch_size,
            default=DEFAULT_BATCH_SIZE,
            help=(
                f"Events deleted per transaction (default {DEFAULT_BATCH_SIZE}, "
                f"at most {MAX_BATCH_SIZE})."
            ),
        )
        parser.add_argument(
            "--vacuum-every",
            type=positive_int,
            default=DEFAULT_VACUUM_EVERY,
            help=(
                "On PostgreSQL, vacuum the events table after this many batches and at the end "
                f"(default {DEFAULT_VACUUM_EVERY})."
            ),
        )

    def handle(
        self,
        *args: Any,
        dry_run: bool,
        batch_size: int,
        vacuum_every: int,
        verbosity: int,
        **options: Any,
    ) -> None:
        # The calendar month is the one the site lives in (TIME_ZONE), not UTC's.
        cutoff = one_calendar_month_before(timezone.localtime(timezone.now()))
        self.stdout.write(f"Events that ended before {cutoff.isoformat()} are old.")
        if dry_run:
            self._report("Would delete", self._count(cutoff))
            return
        removed, batches = self._delete(
            cutoff, batch_size, vacuum_every=vacuum_every, report_batches=verbosity >= 2
        )
        self._report("Deleted", removed, f" ({batches} batches)")

    def _count(self, cutoff: datetime) -> Counter[str]:
        old = Event.objects.filter(end_time__lt=cutoff)
        old_ids = old.values("pk")
        return Counter(
            events=old.count(),
            participants=EventParticipant.objects.filter(event__in=old_ids).count(),
            invitations=Invitation.objects.filter(event__in=old_ids).count(),
            feedback=Feedback.objects.filter(event__in=old_ids).count(),
        )

    def _delete(
        self, cutoff: datetime, batch_size: int, *, vacuum_every: int, report_batches: bool
    ) -> tuple[Counter[str], int]:
        removed: Counter[str] = Counter()
        batches = 0
        while True:
            with transaction.atomic():
                # Select and lock the batch inside its transaction: an event whose end
                # time a host moves into the future meanwhile is not deleted.
                ids = list(
                    Event.objects.filter(end_time__lt=cutoff)
                    .order_by("pk")
                    .select_for_update()
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not ids:
                    break
                # The cascade deletes the children with one DELETE per table filtered
                # on these ids, without loading them.
                _, per_model = Event.objects.filter(pk__in=ids).delete()
            batches += 1
            batch = Counter({KINDS[label]: n for label, n in per_model.items() if label in KINDS})
            removed.update(batch)
            if report_batches:
                self._report(f"Batch {batches}: deleted", batch)
            if batches % vacuum_every == 0:
                self._vacuum()
        if batches % vacuum_every:
            self._vacuum()
        return removed, batches

    def _vacuum(self) -> None:
        """Clear the deleted rows out of the events table and its indexes (PostgreSQL).

        VACUUM takes no lock that reads or writes wait for, and runs between two
        batches. It cannot run inside a transaction: when the command is called inside
        one (call_command in a test's transaction), autovacuum is left to do it. SQLite
        reuses the space of deleted rows without one.
        """
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            # The service's statement timeout guards requests; a vacuum of a large table
            # may rightly take longer, and cancelling it would end the purge half-way.
            cursor.execute("SET statement_timeout = 0")
            try:
                cursor.execute(
                    f"VACUUM (ANALYZE) {connection.ops.quote_name(Event._meta.db_table)}"
                )
            finally:
                cursor.execute("RESET statement_timeout")

    def _report(self, verb: str, counts: Counter[str], suffix: str = "") -> None:
        summary = ", ".join(f"{kind}: {counts[kind]}" for kind in KINDS.values())
        self.stdout.write(f"{verb} {summary}{suffix}.")

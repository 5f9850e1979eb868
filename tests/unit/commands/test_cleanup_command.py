"""``manage.py delete_old_events``: what it deletes, what it keeps, and how it reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from model_bakery import baker

from api.management.commands.delete_old_events import one_calendar_month_before
from api.models import Event, EventCreation, EventParticipant, Feedback, Invitation, User


def _event_with_rows(*, end_time: datetime, host: User, participant: User, invitee: User) -> Event:
    """An event that ended at ``end_time`` with one participant, invitation and feedback."""
    event = baker.make(
        Event,
        host=host,
        start_time=end_time - timedelta(hours=2),
        end_time=end_time,
        max_participants=10,
    )
    baker.make(EventParticipant, event=event, user=participant)
    baker.make(Invitation, event=event, inviter=host, invitee=invitee)
    baker.make(Feedback, event=event, user=participant, rating=4)
    return event


def _run(*args: str) -> str:
    out = StringIO()
    call_command("delete_old_events", *args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "events": Event.objects.count(),
        "participants": EventParticipant.objects.count(),
        "invitations": Invitation.objects.count(),
        "feedback": Feedback.objects.count(),
    }


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2024, 3, 31, 10, 30), datetime(2024, 2, 29, 10, 30)),
        (datetime(2025, 3, 31, 10, 30), datetime(2025, 2, 28, 10, 30)),
        (datetime(2025, 3, 30, 8, 0), datetime(2025, 2, 28, 8, 0)),
        (datetime(2025, 3, 28, 8, 0), datetime(2025, 2, 28, 8, 0)),
        (datetime(2025, 1, 31, 23, 59, 59), datetime(2024, 12, 31, 23, 59, 59)),
        (datetime(2025, 1, 15, 0, 0), datetime(2024, 12, 15, 0, 0)),
        (datetime(2025, 5, 31, 12, 0), datetime(2025, 4, 30, 12, 0)),
        (datetime(2025, 5, 15, 12, 0), datetime(2025, 4, 15, 12, 0)),
        (datetime(2025, 3, 1, 0, 0, 0, 1), datetime(2025, 2, 1, 0, 0, 0, 1)),
    ],
    ids=[
        "31 March in a leap year -> 29 February",
        "31 March -> 28 February",
        "30 March -> 28 February",
        "28 March -> 28 February",
        "31 January -> 31 December of the previous year",
        "15 January -> 15 December of the previous year",
        "31 May -> 30 April",
        "15 May -> 15 April",
        "1 March -> 1 February, to the microsecond",
    ],
)
def test_cutoff_is_the_same_day_of_the_previous_month_clamped_to_its_end(
    now: datetime, expected: datetime
) -> None:
    assert one_calendar_month_before(now.replace(tzinfo=UTC)) == expected.replace(tzinfo=UTC)


def test_old_events_are_deleted_with_all_their_rows_and_recent_ones_stay(
    alice: User, bob: User, charlie: User
) -> None:
    now = timezone.now()
    old = [
        _event_with_rows(
            end_time=now - timedelta(days=days), host=alice, participant=bob, invitee=charlie
        )
        for days in (32, 40, 400)
    ]
    recent = _event_with_rows(
        end_time=now - timedelta(days=27), host=alice, participant=bob, invitee=charlie
    )
    future = _event_with_rows(
        end_time=now + timedelta(days=3), host=alice, participant=bob, invitee=charlie
    )
    baker.make(EventCreation, user=alice, created_at=now - timedelta(days=40))

    output = _run()

    assert "Deleted events: 3, participants: 3, invitations: 3, feedback: 3" in output
    assert set(Event.objects.values_list("pk", flat=True)) == {recent.pk, future.pk}
    for model in (EventParticipant, Invitation, Feedback):
        assert set(model.objects.values_list("event_id", flat=True)) == {recent.pk, future.pk}
    assert not Event.objects.filter(pk__in=[event.pk for event in old]).exists()
    assert User.objects.filter(pk__in=[alice.pk, bob.pk, charlie.pk]).count() == 3
    # Creations are counted per user, not per event: deleting old events gives none back.
    assert EventCreation.objects.filter(user=alice).count() == 1


def test_an_event_is_old_only_once_it_ended_before_the_cutoff(
    monkeypatch: pytest.MonkeyPatch, alice: User, bob: User, charlie: User
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: datetime(2024, 3, 31, 12, 0, tzinfo=UTC))
    cutoff = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    before = _event_with_rows(
        end_time=cutoff - timedelta(seconds=1), host=alice, participant=bob, invitee=charlie
    )
    at_cutoff = _event_with_rows(end_time=cutoff, host=alice, participant=bob, invitee=charlie)

    output = _run()

    assert f"Events that ended before {cutoff.isoformat()} are old." in output
    assert not Event.objects.filter(pk=before.pk).exists()
    assert Event.objects.filter(pk=at_cutoff.pk).exists()


def test_dry_run_reports_the_counts_and_deletes_nothing(
    alice: User, bob: User, charlie: User
) -> None:
    now = timezone.now()
    old = _event_with_rows(
        end_time=now - timedelta(days=40), host=alice, participant=bob, invitee=charlie
    )
    baker.make(EventParticipant, event=old, user=charlie)
    _event_with_rows(end_time=now - timedelta(days=5), host=alice, participant=bob, invitee=charlie)
    before = _counts()

    output = _run("--dry-run")

    assert "Would delete events: 1, participants: 2, invitations: 1, feedback: 1." in output
    assert "Deleted" not in output
    assert _counts() == before


def test_dry_run_reports_exactly_what_a_real_run_then_deletes_at_the_cutoff(
    monkeypatch: pytest.MonkeyPatch, alice: User, bob: User, charlie: User
) -> None:
    """Both read "ended before the cutoff": an event ending at the cutoff is in neither."""
    monkeypatch.setattr(timezone, "now", lambda: datetime(2024, 3, 31, 12, 0, tzinfo=UTC))
    cutoff = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    before = _event_with_rows(
        end_time=cutoff - timedelta(seconds=1), host=alice, participant=bob, invitee=charlie
    )
    at_cutoff = _event_with_rows(end_time=cutoff, host=alice, participant=bob, invitee=charlie)

    dry_run = _run("--dry-run")
    kept_by_the_dry_run = _counts()
    real_run = _run()

    the_event_before = "events: 1, participants: 1, invitations: 1, feedback: 1"
    assert f"Would delete {the_event_before}." in dry_run
    assert kept_by_the_dry_run == {"events": 2, "participants": 2, "invitations": 2, "feedback": 2}
    assert f"Deleted {the_event_before} (1 batches)." in real_run
    assert list(Event.objects.values_list("pk", flat=True)) == [at_cutoff.pk]
    assert not Event.objects.filter(pk=before.pk).exists()


def test_deletes_in_batches_of_the_given_size(alice: User, bob: User, charlie: User) -> None:
    now = timezone.now()
    for days in range(35, 40):
        _event_with_rows(
            end_time=now - timedelta(days=days), host=alice, participant=bob, invitee=charlie
        )
    recent = _event_with_rows(
        end_time=now - timedelta(days=1), host=alice, participant=bob, invitee=charlie
    )

    with CaptureQueriesContext(connection) as queries:
        output = _run("--batch-size", "2", "--verbosity", "2")

    event_deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "api_event"')]
    assert len(event_deletes) == 3
    assert "Batch 1: deleted events: 2, participants: 2, invitations: 2, feedback: 2." in output
    assert "Batch 2: deleted events: 2," in output
    assert "Batch 3: deleted events: 1, participants: 1, invitations: 1, feedback: 1." in output
    assert "Deleted events: 5, participants: 5, invitations: 5, feedback: 5 (3 batches)." in output
    assert list(Event.objects.values_list("pk", flat=True)) == [recent.pk]


def test_reports_zero_when_nothing_is_old(alice: User) -> None:
    baker.make(
        Event,
        host=alice,
        start_time=timezone.now() - timedelta(days=3),
        end_time=timezone.now() - timedelta(days=2),
        max_participants=5,
    )

    output = _run()

    assert "Deleted events: 0, participants: 0, invitations: 0, feedback: 0 (0 batches)." in output
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    "size", ["0", "-1", "many", "50001"], ids=["zero", "negative", "not a number", "too many"]
)
def test_batch_size_must_be_a_positive_integer(size: str) -> None:
    with pytest.raises(CommandError, match="--batch-size"):
        _run("--batch-size", size)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("every", "vacuums"), [(2, 3), (5, 1)])
def test_the_events_table_is_vacuumed_every_few_batches_and_at_the_end(
    alice: User, bob: User, charlie: User, every: int, vacuums: int
) -> None:
    now = timezone.now()
    for days in range(35, 40):
        _event_with_rows(
            end_time=now - timedelta(days=days), host=alice, participant=bob, invitee=charlie
        )
    vacuumed_before = _vacuum_count("api_event")

    with CaptureQueriesContext(connection) as queries:
        _run("--batch-size", "1", "--vacuum-every", str(every))

    vacuum_statements = [q["sql"] for q in queries if q["sql"].startswith("VACUUM")]
    assert vacuum_statements == ['VACUUM (ANALYZE) "api_event"'] * vacuums
    assert _vacuum_count("api_event") == vacuumed_before + vacuums
    assert Event.objects.count() == 0


def _vacuum_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = %s", [table])
        return int(cursor.fetchone()[0])


def test_no_vacuum_on_sqlite_or_inside_a_transaction(alice: User, bob: User, charlie: User) -> None:
    _event_with_rows(
        end_time=timezone.now() - timedelta(days=40), host=alice, participant=bob, invitee=charlie
    )

    with CaptureQueriesContext(connection) as queries:
        _run("--vacuum-every", "1")

    assert not [q for q in queries if "VACUUM" in q["sql"]]
    assert Event.objects.count() == 0


@pytest.mark.parametrize("every", ["0", "-3", "often"])
def test_vacuum_every_must_be_a_positive_integer(every: str) -> None:
    with pytest.raises(CommandError, match="--vacuum-every"):
        _run("--vacuum-every", every)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_vacuum_is_not_cut_short_by_the_statement_timeout(
    alice: User, bob: User, charlie: User
) -> None:
    _event_with_rows(
        end_time=timezone.now() - timedelta(days=40), host=alice, participant=bob, invitee=charlie
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]

    with CaptureQueriesContext(connection) as queries:
        _run()

    statements = [q["sql"] for q in queries]
    vacuum = statements.index('VACUUM (ANALYZE) "api_event"')
    assert statements[vacuum - 1] == "SET statement_timeout = 0"
    assert statements[vacuum + 1] == "RESET statement_timeout"
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before

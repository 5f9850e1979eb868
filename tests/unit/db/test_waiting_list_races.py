"""Races on an event's waiting list, on PostgreSQL, through the whole HTTP stack.

The queue's rule is that every seat is either taken, held by a live offer, or free
only while nobody waits; and that nobody is offered a seat twice or out of turn
(api.waiting_list). The held cases force one interleaving every run (tests/races.py)
and run again with the event's row lock removed, where the same interleaving loses
or double-counts a seat; the crowd cases send many requests at once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from model_bakery import baker
from rest_framework.response import Response
from rest_framework.test import APIClient

from api import checkpoints, waiting_list
from api.models import Event, EventParticipant, User, WaitingListEntry
from api.webhooks import messages as webhooks
from tests.races import Hold, Request, blocked_or_done, hold_at, lock_waiters, wait_until
from tests.unit.db.test_concurrency import (
    BARRIER_TIMEOUT,
    make_users,
    race,
    statuses,
)
from tests.unit.db.test_held_races import LOCKED, held, without_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AuthClient = Callable[[User], APIClient]
Call = Callable[[], Response]
Status = WaitingListEntry.Status

JOINERS = 100
# PostgreSQL here allows 100 connections: the joins share fewer threads.
JOIN_THREADS = 48
STATEMENT_TIMEOUT_MS = 60_000


def race_batches(batches: Sequence[Sequence[Call]]) -> list[Response]:
    """Like ``race``, for more requests than connections: one thread per batch sends
    its requests back to back, every thread released by one barrier; answers in order."""
    start = threading.Barrier(len(batches), timeout=BARRIER_TIMEOUT)
    responses: list[list[Response]] = [[] for _ in batches]
    errors: list[Exception] = []

    def send(index: int, batch: Sequence[Call]) -> None:
        try:
            with connection.cursor() as cursor:
                # The last of 100 joins queued on one row lock waits longer on 2 cores
                # than the 10 s a statement may take in production (a 503 then).
                cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
            start.wait()
            for call in batch:
                responses[index].append(call())
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=pair) for pair in enumerate(batches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=4 * BARRIER_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    if errors:
        raise errors[0]
    return [response for batch in responses for response in batch]


def full_event(capacity: int, seats: int | None = None) -> tuple[Event, list[User]]:
    """An event of ``capacity`` with ``seats`` participants (all seats by default)."""
    event = baker.make_recipe("api.future_event", max_participants=capacity)
    seated = make_users(capacity if seats is None else seats, f"seated{event.pk}-")
    EventParticipant.objects.bulk_create(
        EventParticipant(event=event, user=user) for user in seated
    )
    return event, seated


def queue(event: Event, users: Sequence[User], *, offered: int = 0) -> list[WaitingListEntry]:
    """Entries for ``users`` in that order, the first ``offered`` holding a seat for a day."""
    now = timezone.now()
    start = now - timedelta(hours=1)
    return WaitingListEntry.objects.bulk_create(
        WaitingListEntry(
            event=event,
            user=user,
            joined_at=start + timedelta(seconds=index),
            **(
                {
                    "status": Status.OFFERED,
                    "offered_at": now,
                    "offer_expires_at": now + timedelta(days=1),
                }
                if index < offered
                else {}
            ),
        )
        for index, user in enumerate(users)
    )


def live_offers(event: Event) -> int:
    return waiting_list.seats_held(event, timezone.now())


def taken(event: Event) -> int:
    return EventParticipant.objects.filter(event=event).count()


def status_of(entry: WaitingListEntry) -> str:
    entry.refresh_from_db()
    return entry.status


def test_a_hundred_users_joining_a_full_event_at_once_queue_in_order(
    auth_client: AuthClient,
) -> None:
    event, _ = full_event(2)
    users = make_users(JOINERS, "joiner")
    joins = [
        partial(auth_client(user).post, f"/api/events/{event.pk}/waiting-list/") for user in users
    ]

    responses = race_batches([joins[index::JOIN_THREADS] for index in range(JOIN_THREADS)])

    assert statuses(responses) == {201: JOINERS}
    entries = list(WaitingListEntry.objects.filter(event=event).order_by("joined_at", "id"))
    assert len(entries) == JOINERS
    assert len({entry.user_id for entry in entries}) == JOINERS
    assert {entry.status for entry in entries} == {Status.WAITING}
    assert taken(event) == 2
    positions = {}
    for user in users:
        mine = auth_client(user).get("/api/me/waiting-list/")
        assert mine.status_code == 200
        (shown,) = mine.json()["results"]
        positions[user.pk] = shown["position"]
    assert [positions[entry.user_id] for entry in entries] == list(range(1, JOINERS + 1))


@LOCKED
def test_a_seat_freed_while_a_join_counts_the_seats_is_offered_to_it(
    locked: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event, (seated,) = full_event(1)
    (joiner,) = make_users(1, "joiner")
    without_lock(monkeypatch, locked, Event)

    joined, unregistered = held(
        checkpoints.WAITING_LIST_COUNTED,
        partial(auth_client(joiner).post, f"/api/events/{event.pk}/waiting-list/"),
        partial(auth_client(seated).delete, f"/api/events/{event.pk}/unregister/"),
    )

    assert (joined.status_code, unregistered.status_code) == (201, 204)
    entry = WaitingListEntry.objects.get(event=event, user=joiner)
    assert taken(event) == 0
    if locked:
        # The unregistration waited for the join, then offered the seat to its entry.
        assert entry.status == Status.OFFERED
        assert entry.offered_at is not None
        assert live_offers(event) == 1
    else:
        # It found nobody waiting; the join then queued for a seat that is free.
        assert entry.status == Status.WAITING
        assert taken(event) + live_offers(event) < event.max_participants


def decline_setup() -> tuple[Event, User, list[WaitingListEntry]]:
    """Capacity 2: one participant, A offered, B and C waiting."""
    event, (seated,) = full_event(2, seats=1)
    entries = queue(event, make_users(3, "queued"), offered=1)
    return event, seated, entries


@LOCKED
def test_a_decline_held_after_its_check_and_an_unregistration_offer_both_seats(
    locked: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event, seated, (a, b, c) = decline_setup()
    without_lock(monkeypatch, locked, Event)

    declined, unregistered = held(
        checkpoints.OFFER_CHECKED,
        partial(auth_client(a.user).post, f"/api/waiting-list/{a.pk}/decline/"),
        partial(auth_client(seated).delete, f"/api/events/{event.pk}/unregister/"),
    )

    # Without the lock too: the unregistration committed before the decline counted,
    # and under READ COMMITTED the decline's own count sees it (B offered, so C).
    assert (declined.status_code, unregistered.status_code) == (200, 204)
    assert [status_of(entry) for entry in (a, b, c)] == [
        Status.DECLINED,
        Status.OFFERED,
        Status.OFFERED,
    ]
    assert taken(event) + live_offers(event) == event.max_participants


class Stop(Hold):
    def has_arrived(self) -> bool:
        return self._arrived.is_set()


@contextmanager
def hold_offers_of(request: Callable[[], Request | None]) -> Iterator[Stop]:
    """Holds ``request()``'s thread just before it writes the offers it chose (advance
    has no checkpoint there); every other thread writes its offers unhindered."""
    hold = Stop()
    update = QuerySet.update

    def update_when_released(self: QuerySet[Any], **kwargs: Any) -> int:
        if (
            self.model is WaitingListEntry
            and kwargs.get("status") == Status.OFFERED
            and threading.current_thread() is request()
        ):
            hold.handler()
        return update(self, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(QuerySet, "update", update_when_released)
        try:
            yield hold
        finally:
            hold.release()


@LOCKED
def test_a_decline_and_an_unregistration_choosing_offers_at_once_never_offer_twice(
    locked: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event, seated, (a, b, c) = decline_setup()
    without_lock(monkeypatch, locked, Event)
    unregistration: Request | None = None

    with (
        hold_at(checkpoints.OFFER_CHECKED) as decline_hold,
        hold_offers_of(lambda: unregistration) as offer_hold,
    ):
        decline = Request(partial(auth_client(a.user).post, f"/api/waiting-list/{a.pk}/decline/"))
        decline.start()
        decline_hold.wait_until_arrived()
        unregistration = Request(
            partial(auth_client(seated).delete, f"/api/events/{event.pk}/unregister/")
        )
        unregistration.start()
        # Locked: it waits for the decline's event lock. Without: it counted one free
        # seat (A still held it), chose B, and is stopped before writing the offer.
        wait_until(
            lambda: lock_waiters() > 0 or offer_hold.has_arrived(),
            "the unregistration waits for the lock or is about to offer",
        )
        decline_hold.release()
        declined = decline.outcome()
        offer_hold.release()
        unregistered = unregistration.outcome()

    assert (declined.status_code, unregistered.status_code) == (200, 204)
    assert status_of(a) == Status.DECLINED
    if locked:
        assert (status_of(b), status_of(c)) == (Status.OFFERED, Status.OFFERED)
        assert taken(event) + live_offers(event) == event.max_participants
    else:
        # The decline, not seeing the uncommitted unregistration, also chose B: B was
        # offered twice, and the seat freed by the unregistration went to nobody.
        assert (status_of(b), status_of(c)) == (Status.OFFERED, Status.WAITING)
        assert taken(event) + live_offers(event) < event.max_participants


@LOCKED
def test_an_acceptance_held_after_its_check_wins_over_the_expiry_job(
    locked: bool, monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event = baker.make_recipe("api.future_event", max_participants=1)
    offered, waiting = queue(event, make_users(2, "queued"), offered=1)
    expires = timezone.now() + timedelta(seconds=1.5)
    WaitingListEntry.objects.filter(pk=offered.pk).update(offer_expires_at=expires)
    # Both row locks the acceptance takes: the event's, and the entry's after it.
    without_lock(monkeypatch, locked, Event)
    without_lock(monkeypatch, locked, WaitingListEntry)

    with hold_at(checkpoints.OFFER_CHECKED) as hold:
        accept = Request(
            partial(auth_client(offered.user).post, f"/api/waiting-list/{offered.pk}/accept/")
        )
        accept.start()
        hold.wait_until_arrived()
        wait_until(lambda: timezone.now() > expires, "the offer's time is up")
        job = Request(waiting_list.expire_offers)
        job.start()
        # Locked: it waits for the event. Without: it runs to the end.
        wait_until(blocked_or_done(job), "the expiry job waits or is done")
        hold.release()
        accepted = accept.outcome()
        expired = job.outcome()

    seats = taken(event) + live_offers(event)
    if locked:
        # Checked live under the lock, taken under it: the job found nothing left.
        assert seats <= event.max_participants
        assert accepted.status_code == 201, accepted.data
        assert expired == 0
        assert status_of(offered) == Status.ACCEPTED
        assert status_of(waiting) == Status.WAITING
        assert taken(event) == 1
    else:
        # The job expired the offer and passed its seat on while the acceptance, which
        # had found it live, went on to take it: one seat, two people.
        assert accepted.status_code == 201, accepted.data
        assert expired == 1
        assert status_of(waiting) == Status.OFFERED
        assert seats > event.max_participants


CAPACITIES = (8, 9, 11, 12, 13)


def seats_now(event_id: int) -> tuple[int, int, int]:
    """(capacity, participants, live offers) of the event, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.max_participants, "
            f"(SELECT count(*) FROM {EventParticipant._meta.db_table} p WHERE p.event_id = e.id), "
            f"(SELECT count(*) FROM {WaitingListEntry._meta.db_table} w WHERE w.event_id = e.id "
            f"AND w.status = %s AND w.offer_expires_at > now()) "
            f"FROM {Event._meta.db_table} e WHERE e.id = %s",
            [Status.OFFERED, event_id],
        )
        capacity, participants, offers = cursor.fetchone()
        return int(capacity), int(participants), int(offers)


class Monitor(threading.Thread):
    """Checks the event's seats in its own connection until stopped, and at once after
    each request (``poke``)."""

    def __init__(self, event_id: int) -> None:
        super().__init__(daemon=True)
        self.event_id = event_id
        self.samples: list[tuple[int, int, int]] = []
        self.error: BaseException | None = None
        self._poked = threading.Event()
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.is_set():
                self.samples.append(seats_now(self.event_id))
                self._poked.wait(0.01)
                self._poked.clear()
            self.samples.append(seats_now(self.event_id))
        except BaseException as error:
            self.error = error
        finally:
            connection.close()

    def poke(self) -> None:
        self._poked.set()

    def stop(self) -> list[tuple[int, int, int]]:
        self._stopped.set()
        self._poked.set()
        self.join(BARRIER_TIMEOUT)
        if self.error is not None:
            raise self.error
        return self.samples


def then_poke(monitor: Monitor, call: Call) -> Response:
    response = call()
    monitor.poke()
    return response


def committed_offers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The entries offered a seat by a transaction that committed, once per offer."""
    offered: list[int] = []
    send = webhooks.waiting_list_offered

    def record(entry: WaitingListEntry) -> None:
        transaction.on_commit(partial(offered.append, entry.pk))
        send(entry)

    monkeypatch.setattr(webhooks, "waiting_list_offered", record)
    return offered


def test_twenty_changes_to_one_event_at_once_keep_every_seat_taken_held_or_offered(
    monkeypatch: pytest.MonkeyPatch, auth_client: AuthClient
) -> None:
    event, seated = full_event(10, seats=6)
    entries = queue(event, make_users(34, "queued"), offered=4)
    newcomers = make_users(5, "newcomer")
    offered = committed_offers(monkeypatch)
    host = auth_client(event.host)
    url = f"/api/events/{event.pk}/"
    calls: dict[str, Call] = {
        **{
            f"unregister-{index}": partial(auth_client(user).delete, f"{url}unregister/")
            for index, user in enumerate(seated)
        },
        **{
            f"accept-{index}": partial(
                auth_client(entries[index].user).post,
                f"/api/waiting-list/{entries[index].pk}/accept/",
            )
            for index in (0, 1)
        },
        **{
            f"decline-{index}": partial(
                auth_client(entries[index].user).post,
                f"/api/waiting-list/{entries[index].pk}/decline/",
            )
            for index in (2, 3)
        },
        **{
            f"capacity-{capacity}": partial(
                host.patch, url, {"max_participants": capacity}, format="json"
            )
            for capacity in CAPACITIES
        },
        **{
            f"join-{index}": partial(auth_client(user).post, f"{url}waiting-list/")
            for index, user in enumerate(newcomers)
        },
    }
    monitor = Monitor(event.pk)
    monitor.start()

    responses = dict(
        zip(
            calls, race([partial(then_poke, monitor, call) for call in calls.values()]), strict=True
        )
    )
    samples = monitor.stop()

    answers = {name: response.status_code for name, response in responses.items()}
    for name, response in responses.items():
        if response.status_code == 409:
            assert name.startswith("capacity-"), (name, response.data)
            assert response.data["code"] == "capacity_below_participants"
    expected = {
        **{f"unregister-{index}": 204 for index in range(6)},
        "accept-0": 201,
        "accept-1": 201,
        "decline-2": 200,
        "decline-3": 200,
        # Every seat is always taken or held, so a capacity can only grow; 13 always
        # does, and then 11 and 12 are lower than it.
        "capacity-8": 409,
        "capacity-9": 409,
        "capacity-13": 200,
        **{f"join-{index}": 201 for index in range(5)},
    }
    assert {name: answers[name] for name in expected} == expected
    assert {answers["capacity-11"], answers["capacity-12"]} <= {200, 409}
    assert len(samples) > len(calls)
    assert all(participants + offers <= capacity for capacity, participants, offers in samples), [
        sample for sample in samples if sample[1] + sample[2] > sample[0]
    ]

    event.refresh_from_db()
    assert event.max_participants == 13
    assert set(EventParticipant.objects.filter(event=event).values_list("user", flat=True)) == {
        entries[0].user_id,
        entries[1].user_id,
    }
    assert taken(event) + live_offers(event) == event.max_participants
    assert seats_now(event.pk) == (13, 2, 11)
    # Nobody offered twice, and nobody out of turn: the entries that were offered a
    # seat are the head of the queue, with only waiting entries behind them.
    assert all(count == 1 for count in Counter(offered).values()), Counter(offered)
    assert not {entry.pk for entry in entries[:4]} & set(offered)
    shown = [status_of(entry) for entry in entries]
    head = shown.index(Status.WAITING)
    assert set(shown[:head]) <= {Status.OFFERED, Status.ACCEPTED, Status.DECLINED}
    assert set(shown[head:]) == {Status.WAITING}
    assert shown[:4] == [Status.ACCEPTED, Status.ACCEPTED, Status.DECLINED, Status.DECLINED]
    assert head == 4 + 11
    assert set(offered) == {entry.pk for entry in entries[4:head]}
    assert set(
        WaitingListEntry.objects.filter(event=event, user__in=newcomers).values_list(
            "status", flat=True
        )
    ) == {Status.WAITING}

"""The waiting list's queue: seats held by offers, and freed seats offered in order.

A full event keeps a queue (``WaitingListEntry``). When a seat frees (an unregistration,
a capacity increase, an offer declined, left or expired) the first waiting entries, as
many as seats are free, are offered a seat that is held for them until
``offer_expires_at``: nobody skips the queue, and nobody is registered for an event
they no longer want. The services (api.services) call ``advance`` in the transaction
of the change that freed the seat, under the event's lock, which every writer of an
event's participants and entries holds: the counts read here cannot change under them.

Expiry needs no job to be exact: every count treats an offer past its expiry as
holding nothing (``Q(offer_expires_at__gt=now)``). The worker's periodic job
(``expire_offers``) then marks such offers ``expired`` and passes their seats on, with
the notifications that go with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api import notifications
from api.models import Event, EventParticipant, WaitingListEntry
from api.webhooks import messages as webhooks

Status = WaitingListEntry.Status
# Events whose lapsed offers one transaction of the job handles; the job loops.
EXPIRY_BATCH = 100


def live_offers(now: datetime) -> Q:
    """Entries that hold a seat at ``now``."""
    return Q(status=Status.OFFERED, offer_expires_at__gt=now)


def seats_held(event: Event, now: datetime) -> int:
    return WaitingListEntry.objects.filter(live_offers(now), event=event).count()


def waiting_count(event: Event) -> int:
    return WaitingListEntry.objects.filter(event=event, status=Status.WAITING).count()


def open_entry(event: Event, user_id: int, now: datetime) -> WaitingListEntry | None:
    """The user's entry that is still in the queue at ``now`` (waiting, or holding a
    live offer): the caller's instant, so one request judges every offer at one time."""
    return (
        WaitingListEntry.objects.filter(event=event, user_id=user_id)
        .filter(Q(status=Status.WAITING) | live_offers(now))
        .first()
    )


@dataclass
class Advanced:
    expired: list[WaitingListEntry] = field(default_factory=list)
    offered: list[WaitingListEntry] = field(default_factory=list)


def advance(event: Event, *, now: datetime | None = None) -> Advanced:
    """Mark ``event``'s lapsed offers expired, then offer every free seat to the first
    waiting entries. ``event`` must be locked by the caller's transaction."""
    now = now or timezone.now()
    result = Advanced(expired=_expire_lapsed(event, now))
    if event.start_time <= now:
        # Registration is closed: a seat that frees now can no longer be taken.
        return result
    free = (
        event.max_participants
        - EventParticipant.objects.filter(event=event).count()
        - seats_held(event, now)
    )
    if free <= 0:
        return result
    chosen = list(
        WaitingListEntry.objects.filter(event=event, status=Status.WAITING).order_by(
            "joined_at", "id"
        )[:free]
    )
    if not chosen:
        return result
    # Never after the start: a seat held past it could not be taken.
    expires = min(now + timedelta(hours=event.waiting_list_offer_hours), event.start_time)
    WaitingListEntry.objects.filter(pk__in=[entry.pk for entry in chosen]).update(
        status=Status.OFFERED, offered_at=now, offer_expires_at=expires
    )
    for entry in chosen:
        entry.status, entry.offered_at, entry.offer_expires_at = Status.OFFERED, now, expires
        entry.event = event
        webhooks.waiting_list_offered(entry)
        _notify_on_commit(entry)
    result.offered = chosen
    return result


def _expire_lapsed(event: Event, now: datetime) -> list[WaitingListEntry]:
    lapsed = list(
        WaitingListEntry.objects.filter(
            event=event, status=Status.OFFERED, offer_expires_at__lte=now
        ).order_by("joined_at", "id")
    )
    expired = []
    for entry in lapsed:
        # Compare-and-set, closed at the instant the offer stopped holding its seat.
        changed = WaitingListEntry.objects.filter(pk=entry.pk, status=Status.OFFERED).update(
            status=Status.EXPIRED, closed_at=entry.offer_expires_at
        )
        if changed:
            entry.status, entry.closed_at = Status.EXPIRED, entry.offer_expires_at
            entry.event = event
            webhooks.waiting_list_expired(entry)
            expired.append(entry)
    return expired


def _notify_on_commit(entry: WaitingListEntry) -> None:
    # A nested function rather than a partial: see api.services._notify_on_commit.
    def send() -> None:
        notifications.waiting_list_offered(entry)

    transaction.on_commit(send, robust=True)


def expire_offers() -> int:
    """The worker's periodic job: expire every lapsed offer and pass its seat on.

    One short transaction per event, under the event's lock, so an acceptance racing
    the expiry is decided by the lock: whichever comes second sees the other's result
    (an accepted entry is no longer offered; an expired one answers 409 offer_expired).
    Returns how many offers expired.
    """
    expired = 0
    while True:
        event_ids = list(
            WaitingListEntry.objects.filter(
                status=Status.OFFERED, offer_expires_at__lte=timezone.now()
            )
            .order_by("event_id")
            .values_list("event_id", flat=True)
            .distinct()[:EXPIRY_BATCH]
        )
        for event_id in event_ids:
            with transaction.atomic():
                event = Event.objects.select_for_update().filter(pk=event_id).first()
                if event is not None:
                    # The time is read after the lock: an acceptance that held it
                    # committed first, and its entry is no longer offered.
                    expired += len(advance(event, now=timezone.now()).expired)
        if len(event_ids) < EXPIRY_BATCH:
            return expired

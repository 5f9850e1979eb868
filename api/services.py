"""Domain rules that touch several rows, need a lock or must be atomic.

Every rule is enforced here once, for every endpoint that needs it: registration by
/register/ and by accepting an invitation go through the same ``_participant_add``.
Locks are taken in one order (user, then event, then invitation or waiting-list entry,
then a refresh-token family; several events in order of id) so that two transactions
never wait on each other in a cycle. Every writer of
an event or of the rows that hang from it (participants, invitations, feedback) locks
the event first, deletion included: a delete then never meets rows inserted behind
its back, and a writer that waited for a deleted event answers 404 (``_event_lock``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from api import checkpoints, notifications, waiting_list
from api.exceptions import (
    ENTRY_NOT_FOUND,
    EVENT_NOT_FOUND,
    INVITATION_NOT_FOUND,
    NOT_ON_WAITING_LIST,
    AlreadyInvited,
    AlreadyOnWaitingList,
    AlreadyParticipant,
    AlreadyRegistered,
    CapacityBelowParticipants,
    EntryClosed,
    EventCreationLimitReached,
    EventFull,
    EventNotStarted,
    EventStarted,
    FeedbackExists,
    InvitationAnswered,
    NotOffered,
    OfferExpired,
    RegistrationClosed,
    SeatsAvailable,
    WaitingListDisabled,
)
from api.models import (
    Event,
    EventCreation,
    EventParticipant,
    Feedback,
    Invitation,
    User,
    WaitingListEntry,
)
from api.selectors import event_creation_wait
from api.webhooks import messages as webhooks


def user_create(*, username: str, email: str, password: str) -> User:
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as error:
        # Two sign-ups with one name or email at the same moment: the unique identity
        # keys let one through, and the other gets the serializer's answer.
        raise ValidationError(
            {"username": ["This username or email is taken."]}, code="unique"
        ) from error


def event_create(*, host: User, **fields: Any) -> Event:
    with transaction.atomic():
        # Lock the host's row: concurrent creations by one user queue here, so the count
        # below cannot be read by two of them before either writes (12 at once -> 5).
        User.objects.select_for_update().only("pk").get(pk=host.pk)
        now = timezone.now()
        wait = event_creation_wait(user=host, now=now)
        checkpoints.reached(checkpoints.CREATIONS_COUNTED)
        if wait is not None:
            raise EventCreationLimitReached(wait=wait)
        EventCreation.objects.filter(
            user=host, created_at__lte=now - settings.EVENT_CREATION_WINDOW
        ).delete()
        EventCreation.objects.create(user=host, created_at=now)
        return Event.objects.create(host=host, **fields)


def event_update(*, event: Event, **fields: Any) -> Event:
    with transaction.atomic():
        # Lock the event: a registration between our count and our write could otherwise
        # leave more participants than the new capacity.
        locked = _event_lock(event)
        moved = any(
            name in fields and fields[name] != getattr(locked, name)
            for name in ("start_time", "end_time")
        )
        if moved and locked.has_started:
            raise EventStarted()
        now = timezone.now()
        new_capacity = fields.get("max_participants")
        grown = new_capacity is not None and new_capacity > locked.max_participants
        if new_capacity is not None:
            taken = locked.participants.count()
            held = waiting_list.seats_held(locked, now)
            checkpoints.reached(checkpoints.CAPACITY_COUNTED)
            # An offer's seat is promised: a capacity below it would break the promise.
            if new_capacity < taken + held:
                raise CapacityBelowParticipants(requested=new_capacity, taken=taken, held=held)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(fields))
        if "start_time" in fields:
            # Offers never outlive the start, which may have moved earlier.
            WaitingListEntry.objects.filter(
                event=locked,
                status=WaitingListEntry.Status.OFFERED,
                offer_expires_at__gt=locked.start_time,
            ).update(offer_expires_at=locked.start_time)
        if grown:
            waiting_list.advance(locked, now=now)
        webhooks.event_updated(locked)
        return locked


def event_delete(*, event: Event) -> None:
    with transaction.atomic():
        locked = _event_lock(event)
        checkpoints.reached(checkpoints.EVENT_DELETE_LOCKED)
        webhooks.event_deleted(locked)
        locked.delete()


def _event_lock(event: Event) -> Event:
    """The event's row, locked for this transaction; 404 if it was deleted meanwhile
    (a request that found the event may wait here for a delete to commit)."""
    locked = Event.objects.select_for_update().filter(pk=event.pk).first()
    if locked is None:
        raise NotFound(EVENT_NOT_FOUND)
    return locked


def _participant_add(
    *, event: Event, user: User, offer: WaitingListEntry | None = None, now: datetime | None = None
) -> EventParticipant:
    """Register ``user`` for a locked ``event`` under the start-time, capacity and queue
    rules: the one path of /register/, invitation acceptance and waiting-list acceptance.

    A user holding a live offer takes the seat it holds (the offer is accepted); anyone
    else needs a seat that is neither taken nor held, and nobody waiting before them.
    """
    if event.has_started:
        raise RegistrationClosed()
    if EventParticipant.objects.filter(event=event, user=user).exists():
        raise AlreadyRegistered()
    now = now or timezone.now()
    if offer is None:
        # An acceptance passes the offer it found live; anyone else may hold one too.
        offer = (
            WaitingListEntry.objects.filter(waiting_list.live_offers(now), event=event, user=user)
            .only("pk")
            .first()
        )
    taken = EventParticipant.objects.filter(event=event).count()
    held = waiting_list.seats_held(event, now)
    checkpoints.reached(checkpoints.PARTICIPANT_COUNTED)
    if offer is None:
        waiting = waiting_list.waiting_count(event)
        if waiting or taken + held >= event.max_participants:
            raise EventFull(
                capacity=event.max_participants, taken=taken, held=held, waiting=waiting
            )
    else:
        WaitingListEntry.objects.filter(pk=offer.pk).update(
            status=WaitingListEntry.Status.ACCEPTED, closed_at=now
        )
    try:
        with transaction.atomic():
            participant = EventParticipant.objects.create(event=event, user=user)
    except IntegrityError as error:
        raise AlreadyRegistered() from error
    webhooks.participant_registered(event, participant)
    return participant


def participation_create(*, event: Event, user: User) -> EventParticipant:
    with transaction.atomic():
        # Lock the event so that concurrent registrations count and insert one at a
        # time: without it, the last seat is sold to everyone who counted it as free.
        return _participant_add(event=_event_lock(event), user=user)


def participation_delete(*, event: Event, user: User) -> None:
    with transaction.atomic():
        locked = _event_lock(event)
        participation = EventParticipant.objects.filter(event=locked, user=user).first()
        if participation is None:
            raise NotFound("You are not registered for this event.")
        if locked.has_started:
            raise RegistrationClosed("The event has already started; you can no longer leave it.")
        participation.delete()
        webhooks.participant_unregistered(locked, participation)
        waiting_list.advance(locked)


def _notify_on_commit(notify: Callable[[Invitation], None], invitation: Invitation) -> None:
    """Run ``notify(invitation)`` once the transaction commits; never if it rolls back.

    robust: by then the row is committed, so a channel layer that is down is logged and
    must not turn the response into a 500. A nested function, not functools.partial:
    Django 5.2 logs a failing robust callback by its ``__qualname__``, which a partial
    lacks, so the logging itself would raise (Django ticket #36487).
    """

    def send() -> None:
        notify(invitation)

    transaction.on_commit(send, robust=True)


def invitation_create(*, event: Event, inviter: User, invitee: User) -> Invitation:
    with transaction.atomic():
        locked = _event_lock(event)
        if locked.has_started:
            raise RegistrationClosed("The event has already started; invitations are closed.")
        if EventParticipant.objects.filter(event=locked, user=invitee).exists():
            raise AlreadyParticipant()
        if Invitation.objects.filter(
            event=locked, invitee=invitee, status=Invitation.Status.PENDING
        ).exists():
            raise AlreadyInvited()
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    event=locked, inviter=inviter, invitee=invitee
                )
        except IntegrityError as error:
            raise AlreadyInvited() from error
        webhooks.invitation_received(invitation)
        _notify_on_commit(notifications.invitation_received, invitation)
        return invitation


def invitation_answer(*, invitation: Invitation, user: User, status: str) -> Invitation:
    with transaction.atomic():
        # Same lock order as registration (event first), so an acceptance and a plain
        # registration race for the last seat one at a time.
        event = _event_lock(invitation.event)
        # Gone with its event, if the delete committed while we waited for the lock.
        locked = (
            Invitation.objects.select_for_update().filter(pk=invitation.pk, invitee=user).first()
        )
        if locked is None:
            raise NotFound(INVITATION_NOT_FOUND)
        if locked.status != Invitation.Status.PENDING:
            raise InvitationAnswered()
        if (
            status == Invitation.Status.ACCEPTED
            and not EventParticipant.objects.filter(event=event, user=user).exists()
        ):
            _participant_add(event=event, user=user)
        locked.status = status
        locked.responded_at = timezone.now()
        locked.save(update_fields=["status", "responded_at"])
        locked.event = event
        webhooks.invitation_answered(locked)
        _notify_on_commit(notifications.invitation_answered, locked)
        return locked


def feedback_create(*, event: Event, user: User, rating: int, comment: str = "") -> Feedback:
    with transaction.atomic():
        # Locked like every writer of an event's rows, so a delete and a feedback queue
        # rather than the feedback meeting a vanished event.
        locked = _event_lock(event)
        if not locked.has_started:
            raise EventNotStarted()
        if Feedback.objects.filter(event=locked, user=user).exists():
            raise FeedbackExists()
        try:
            with transaction.atomic():
                feedback = Feedback.objects.create(
                    event=locked, user=user, rating=rating, comment=comment
                )
        except IntegrityError as error:
            raise FeedbackExists() from error
        webhooks.feedback_created(feedback)
        return feedback


def waiting_list_join(*, event: Event, user: User) -> WaitingListEntry:
    with transaction.atomic():
        # Under the event's lock, like registration: a seat that frees while we check
        # is either seen here (409 seats_available: register instead) or offered to us
        # by the change that freed it, never lost between the two.
        locked = _event_lock(event)
        if not locked.waiting_list_enabled:
            raise WaitingListDisabled()
        if locked.has_started:
            raise RegistrationClosed("The event has already started; its waiting list is closed.")
        if EventParticipant.objects.filter(event=locked, user=user).exists():
            raise AlreadyRegistered()
        now = timezone.now()
        # Lapsed offers are expired first: their seats and their users' places are free.
        waiting_list.advance(locked, now=now)
        if waiting_list.open_entry(locked, user.pk, now) is not None:
            raise AlreadyOnWaitingList()
        taken = EventParticipant.objects.filter(event=locked).count()
        held = waiting_list.seats_held(locked, now)
        checkpoints.reached(checkpoints.WAITING_LIST_COUNTED)
        if taken + held < locked.max_participants and not waiting_list.waiting_count(locked):
            raise SeatsAvailable()
        try:
            with transaction.atomic():
                entry = WaitingListEntry.objects.create(event=locked, user=user, joined_at=now)
        except IntegrityError as error:
            raise AlreadyOnWaitingList() from error
        entry.event = locked
        webhooks.waiting_list_joined(entry)
        return entry


def waiting_list_leave(*, event: Event, user: User) -> None:
    with transaction.atomic():
        locked = _event_lock(event)
        now = timezone.now()
        waiting_list.advance(locked, now=now)
        entry = waiting_list.open_entry(locked, user.pk, now)
        if entry is None:
            raise NotFound(NOT_ON_WAITING_LIST)
        held_a_seat = entry.status == WaitingListEntry.Status.OFFERED
        entry.status, entry.closed_at = WaitingListEntry.Status.LEFT, now
        entry.save(update_fields=["status", "closed_at"])
        entry.event = locked
        webhooks.waiting_list_left(entry)
        if held_a_seat:
            waiting_list.advance(locked, now=now)


def _offer_lock(
    *, entry: WaitingListEntry, user: User, now: datetime
) -> tuple[Event, WaitingListEntry]:
    """The entry's event and the entry, locked in that order, the offer live at ``now``;
    404 if it went with its event while we waited for the lock."""
    event = Event.objects.select_for_update().filter(pk=entry.event_id).first()
    locked = WaitingListEntry.objects.select_for_update().filter(pk=entry.pk, user=user).first()
    if event is None or locked is None:
        raise NotFound(ENTRY_NOT_FOUND)
    if locked.status == WaitingListEntry.Status.WAITING:
        raise NotOffered()
    if locked.status == WaitingListEntry.Status.EXPIRED or (
        locked.status == WaitingListEntry.Status.OFFERED
        and locked.offer_expires_at is not None
        and locked.offer_expires_at <= now
    ):
        raise OfferExpired()
    if locked.status != WaitingListEntry.Status.OFFERED:
        raise EntryClosed()
    checkpoints.reached(checkpoints.OFFER_CHECKED)
    locked.event = event
    return event, locked


def waiting_list_accept(*, entry: WaitingListEntry, user: User) -> EventParticipant:
    with transaction.atomic():
        # The event's lock decides a race with the expiry job: the offer is checked
        # and taken while the job waits, or found expired after it ran.
        # One instant for the check and the taking: an offer found live is taken even
        # if it expires a moment later.
        now = timezone.now()
        event, offer = _offer_lock(entry=entry, user=user, now=now)
        return _participant_add(event=event, user=user, offer=offer, now=now)


def waiting_list_decline(*, entry: WaitingListEntry, user: User) -> WaitingListEntry:
    with transaction.atomic():
        now = timezone.now()
        event, locked = _offer_lock(entry=entry, user=user, now=now)
        locked.status, locked.closed_at = WaitingListEntry.Status.DECLINED, now
        locked.save(update_fields=["status", "closed_at"])
        # The seat it held goes to the next person waiting.
        waiting_list.advance(event, now=now)
        return locked

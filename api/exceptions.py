"""The domain's errors: a stable code, a status and a message for each rule a request breaks.

Services raise these; ``api.rest.problems`` renders them (and DRF's own errors) as RFC
9457 problem details, and ``api.apidocs`` takes each conflict's code and example from
the class itself, so the spec cannot drift from what the server says.
"""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework import exceptions, status

DATABASE_RETRY_AFTER_SECONDS = 5

# 404 details: what is missing, or not visible to the caller.
EVENT_NOT_FOUND = "No event with this id."
INVITATION_NOT_FOUND = "No invitation with this id was sent to you."
WEBHOOK_NOT_FOUND = "You have no webhook endpoint with this id."
DELIVERY_NOT_FOUND = "This endpoint has no delivery with this id."
ENTRY_NOT_FOUND = "You have no waiting-list entry with this id."
NOT_ON_WAITING_LIST = "You are not on this event's waiting list."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state of the resource."

    @classmethod
    def example(cls) -> Conflict:
        """An instance as the spec shows it; classes whose message takes numbers override it."""
        return cls()


class EventFull(Conflict):
    default_code = "event_full"
    default_detail = "The event is full."

    def __init__(self, *, capacity: int, taken: int, held: int = 0, waiting: int = 0) -> None:
        detail = f"The event is full: {capacity} seats, {taken} taken"
        if held:
            detail += f", {held} held by waiting-list offers"
        if waiting:
            # A seat that frees goes to the queue first: nobody registers past it.
            detail += f"; {waiting} waiting before you: join the waiting list"
        super().__init__(detail + ".")

    @classmethod
    def example(cls) -> Conflict:
        return cls(capacity=10, taken=10)


class AlreadyRegistered(Conflict):
    default_code = "already_registered"
    default_detail = "You are already registered for this event."


class RegistrationClosed(Conflict):
    default_code = "registration_closed"
    default_detail = "The event has already started; registration is closed."


class AlreadyInvited(Conflict):
    default_code = "already_invited"
    default_detail = "This user already has a pending invitation to this event."


class AlreadyParticipant(Conflict):
    default_code = "already_participant"
    default_detail = "This user is already a participant of this event."


class InvitationAnswered(Conflict):
    default_code = "invitation_answered"
    default_detail = "This invitation has already been answered."


class FeedbackExists(Conflict):
    default_code = "feedback_exists"
    default_detail = "You have already left feedback for this event."


class EventNotStarted(Conflict):
    default_code = "event_not_started"
    default_detail = "Feedback opens when the event starts."


class EventStarted(Conflict):
    default_code = "event_started"
    default_detail = "The event has already started; its start and end times can no longer change."


class HostsEvents(Conflict):
    default_code = "hosts_events"
    default_detail = (
        "You host events: delete them first (their participants and feedback go with them)."
    )


class CapacityBelowParticipants(Conflict):
    default_code = "capacity_below_participants"
    default_detail = "max_participants cannot be lower than the number of participants."

    def __init__(self, *, requested: int, taken: int, held: int = 0) -> None:
        detail = f"max_participants cannot be {requested}: {taken} users are already registered"
        if held:
            detail += f" and {held} seats are held by waiting-list offers"
        super().__init__(detail + ".")

    @classmethod
    def example(cls) -> Conflict:
        return cls(requested=2, taken=3)


class WebhookLimitReached(Conflict):
    default_code = "webhook_limit_reached"
    default_detail = "You have the most webhook endpoints allowed."

    def __init__(self, *, limit: int) -> None:
        super().__init__(f"You have {limit} webhook endpoints, the most allowed: delete one first.")

    @classmethod
    def example(cls) -> Conflict:
        return cls(limit=10)


class WebhookDisabled(Conflict):
    default_code = "webhook_disabled"
    default_detail = "This endpoint is disabled (see disabled_reason): enable it with PATCH first."


class SeatsAvailable(Conflict):
    default_code = "seats_available"
    default_detail = "The event has a free seat and nobody is waiting: register instead."


class AlreadyOnWaitingList(Conflict):
    default_code = "already_on_waiting_list"
    default_detail = "You are already on this event's waiting list."


class WaitingListDisabled(Conflict):
    default_code = "waiting_list_disabled"
    default_detail = "This event has no waiting list."


class NotOffered(Conflict):
    default_code = "not_offered"
    default_detail = "No seat has been offered to you yet: you are still waiting."


class OfferExpired(Conflict):
    default_code = "offer_expired"
    default_detail = "The offer has expired; its seat went to the next person waiting."


class EntryClosed(Conflict):
    default_code = "entry_closed"
    default_detail = "This waiting-list entry was already accepted, declined or left."


class EventCreationLimitReached(exceptions.Throttled):
    def __init__(self, *, wait: float) -> None:
        limit = settings.EVENT_CREATION_LIMIT
        hours = int(settings.EVENT_CREATION_WINDOW.total_seconds() // 3600)
        super().__init__(
            wait=wait,
            detail=(
                f"You can create {limit} events per {hours} hours. "
                f"Try again in {math.ceil(wait)} seconds."
            ),
        )


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."

    @classmethod
    def over_limit(cls) -> RequestTooLarge:
        """The 413 that states the limit: a client can tell how much to send."""
        return cls(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "The service is temporarily unavailable; try again shortly."
    wait = DATABASE_RETRY_AFTER_SECONDS

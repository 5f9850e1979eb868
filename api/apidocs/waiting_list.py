"""Waiting lists: joining, leaving, the host's view, the caller's entries and offers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from api.apidocs.responses import errors
from api.exceptions import (
    ENTRY_NOT_FOUND,
    EVENT_NOT_FOUND,
    AlreadyOnWaitingList,
    AlreadyRegistered,
    EntryClosed,
    EventFull,
    NotOffered,
    OfferExpired,
    RegistrationClosed,
    SeatsAvailable,
    WaitingListDisabled,
)
from api.serializers import ParticipantSerializer, WaitingListEntrySerializer

TAGS = ["waiting list"]

QUEUE_RULE = (
    "First come, first served. When a seat frees (an unregistration, a capacity increase, "
    "an offer declined, left or expired), the first waiting entries, as many as seats are "
    "free, are offered a seat, held for the event's `waiting_list_offer_hours` but never "
    "past its start, in the same transaction as the change that freed it. An offer stops "
    "holding its seat the instant it expires; the server marks it `expired` and offers the "
    "seat to the next person within a minute. The user offered a seat gets a "
    "`waiting_list.offered` webhook and WebSocket message."
)

waiting_list = extend_schema(
    tags=TAGS,
    operation_id="events_waiting_list_list",
    summary="List an event's waiting list",
    description="Host only. Every entry, open or closed, in queue order (joined_at, then id), "
    "with its status as of now.",
    responses={
        200: WaitingListEntrySerializer(many=True),
        **errors(400, 401, 403, 404, s404=EVENT_NOT_FOUND),
    },
)

waiting_list_join = extend_schema(
    tags=TAGS,
    operation_id="events_waiting_list_join",
    summary="Join an event's waiting list",
    description="For a full event: when a seat frees and it is your turn, a seat is offered "
    "to you and held until `offer_expires_at`; accept it with "
    "`POST /api/waiting-list/{entry_id}/accept/`. " + QUEUE_RULE,
    request=None,
    responses={
        201: WaitingListEntrySerializer,
        **errors(
            401,
            404,
            409,
            conflicts=[
                SeatsAvailable,
                AlreadyRegistered,
                AlreadyOnWaitingList,
                RegistrationClosed,
                WaitingListDisabled,
            ],
            s404=EVENT_NOT_FOUND,
        ),
    },
)

waiting_list_leave = extend_schema(
    tags=TAGS,
    operation_id="events_waiting_list_leave",
    summary="Leave an event's waiting list",
    description="Leaves the queue, also while holding an offer, whose seat then goes to the "
    "next person waiting.",
    request=None,
    responses={
        204: OpenApiResponse(description="No longer on the waiting list."),
        **errors(
            401,
            404,
            s404="No event with this id, or you are not on its waiting list (an offer that "
            "expired is no longer on it).",
        ),
    },
)

my_waiting_list = extend_schema_view(
    get=extend_schema(
        tags=TAGS,
        operation_id="me_waiting_list",
        summary="List your waiting-list entries",
        description="Your open entries: waiting for an event that has not started, or "
        "holding a seat that has not expired. Soonest event first.",
        responses={200: WaitingListEntrySerializer(many=True), **errors(400, 401, 404)},
    )
)

OFFER_CONFLICTS = [NotOffered, OfferExpired, EntryClosed]

accept = extend_schema(
    tags=TAGS,
    operation_id="waiting_list_accept",
    summary="Accept an offered seat",
    description="Registers you in the seat held for you, by the same rules as "
    "`POST /api/events/{id}/register/`. Your entry only (anyone else's is a 404).",
    request=None,
    responses={
        201: ParticipantSerializer,
        **errors(
            401,
            404,
            409,
            conflicts=[*OFFER_CONFLICTS, AlreadyRegistered, EventFull, RegistrationClosed],
            s404=ENTRY_NOT_FOUND,
        ),
    },
)

decline = extend_schema(
    tags=TAGS,
    operation_id="waiting_list_decline",
    summary="Decline an offered seat",
    description="The seat goes to the next person waiting. Your entry only (anyone else's is "
    "a 404). To leave the queue before an offer, use "
    "`DELETE /api/events/{id}/waiting-list/`.",
    request=None,
    responses={
        200: WaitingListEntrySerializer,
        **errors(401, 404, 409, conflicts=OFFER_CONFLICTS, s404=ENTRY_NOT_FOUND),
    },
)

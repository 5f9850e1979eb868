"""Events, participation in them, invitations to them and their feedback."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view

from api.apidocs.responses import errors
from api.exceptions import (
    EVENT_NOT_FOUND,
    AlreadyInvited,
    AlreadyParticipant,
    AlreadyRegistered,
    CapacityBelowParticipants,
    EventCreationLimitReached,
    EventFull,
    EventNotStarted,
    EventStarted,
    FeedbackExists,
    RegistrationClosed,
)
from api.filters import ORDERING_PARAMETER
from api.serializers import (
    EventSerializer,
    FeedbackSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    ParticipantSerializer,
)

CHANGE_RULE = (
    "Host only. start_time must be in the future only when it changes. Once the event has "
    "started, its start and end can no longer change (409 event_started); the other fields "
    "can. max_participants cannot go below the participants plus the seats held by open "
    "waiting-list offers (409 capacity_below_participants); raising it offers the new seats "
    "to the waiting list at once."
)
CHANGE_CONFLICTS = [CapacityBelowParticipants, EventStarted]

# What Swagger UI pre-fills: a body that succeeds as it stands (a test posts it).
EVENT_EXAMPLE = OpenApiExample(
    "A workshop",
    value={
        "title": "Django workshop",
        "description": "Bring a laptop.",
        "location": "Berlin",
        "start_time": "2099-06-01T18:00:00Z",
        "end_time": "2099-06-01T21:00:00Z",
        "max_participants": 30,
    },
    request_only=True,
)

events = extend_schema_view(
    list=extend_schema(
        tags=["events"],
        operation_id="events_list",
        summary="List events",
        description="Anyone may list events. Filters combine with AND.",
        parameters=[ORDERING_PARAMETER],
        responses={200: EventSerializer(many=True), **errors(400, 404)},
    ),
    create=extend_schema(
        tags=["events"],
        operation_id="events_create",
        summary="Create an event",
        description="The caller becomes the host; a `host` in the body is ignored. Each user "
        "may create 5 events per rolling 24 hours; deleting an event does not give one back.",
        examples=[EVENT_EXAMPLE],
        responses={
            201: EventSerializer,
            **errors(400, 401, 429, raises=[EventCreationLimitReached]),
        },
    ),
    retrieve=extend_schema(
        tags=["events"],
        operation_id="events_retrieve",
        summary="Show an event",
        responses={200: EventSerializer, **errors(404, s404=EVENT_NOT_FOUND)},
    ),
    update=extend_schema(
        tags=["events"],
        operation_id="events_update",
        summary="Replace an event",
        description=CHANGE_RULE,
        examples=[EVENT_EXAMPLE],
        responses={
            200: EventSerializer,
            **errors(
                400,
                401,
                403,
                404,
                409,
                conflicts=CHANGE_CONFLICTS,
                s404=EVENT_NOT_FOUND,
            ),
        },
    ),
    partial_update=extend_schema(
        tags=["events"],
        operation_id="events_partial_update",
        summary="Change some fields of an event",
        description=CHANGE_RULE,
        examples=[OpenApiExample("More seats", value={"max_participants": 40}, request_only=True)],
        responses={
            200: EventSerializer,
            **errors(400, 401, 403, 404, 409, conflicts=CHANGE_CONFLICTS, s404=EVENT_NOT_FOUND),
        },
    ),
    destroy=extend_schema(
        tags=["events"],
        operation_id="events_destroy",
        summary="Delete an event",
        description="Host only. Deletes its participants, invitations and feedback too.",
        responses={204: OpenApiResponse(description="Deleted."), **errors(401, 403, 404)},
    ),
)

participate = extend_schema(
    tags=["participation"],
    operation_id="events_register",
    summary="Register for an event",
    request=None,
    responses={
        201: ParticipantSerializer,
        **errors(
            401,
            404,
            409,
            conflicts=[EventFull, AlreadyRegistered, RegistrationClosed],
            s404=EVENT_NOT_FOUND,
            s409="`already_registered`, `event_full` or `registration_closed` (the event has "
            "started). `event_full` also while anyone is on the waiting list: a seat that "
            "frees is offered to them first (join it with `POST "
            "/api/events/{id}/waiting-list/`). If a seat is held for you by a waiting-list "
            "offer, registering takes it, as accepting the offer would.",
        ),
    },
)

leave = extend_schema(
    tags=["participation"],
    operation_id="events_unregister",
    summary="Leave an event",
    request=None,
    responses={
        204: OpenApiResponse(description="No longer registered."),
        **errors(
            401,
            404,
            409,
            conflicts=[RegistrationClosed],
            s404="No event with this id, or you are not registered for it.",
            s409="`registration_closed`: the event has started.",
        ),
    },
)

participants = extend_schema(
    tags=["participation"],
    operation_id="events_participants_list",
    summary="List an event's participants",
    description="Ordered by registration time.",
    responses={200: ParticipantSerializer(many=True), **errors(400, 401, 404)},
)

invite = extend_schema(
    tags=["invitations"],
    operation_id="events_invite",
    summary="Invite a user",
    description="Host only. A user may hold one pending invitation per event; after they "
    "decline, they can be invited again.",
    request=InvitationCreateSerializer,
    examples=[OpenApiExample("Invite user 2", value={"invitee": 2}, request_only=True)],
    responses={
        201: InvitationSerializer,
        **errors(
            400,
            401,
            403,
            404,
            409,
            conflicts=[AlreadyInvited, AlreadyParticipant, RegistrationClosed],
            s400="Unknown invitee, or the host inviting themselves.",
            s404=EVENT_NOT_FOUND,
        ),
    },
)

feedback_list = extend_schema(
    tags=["feedback"],
    operation_id="events_feedback_list",
    summary="List an event's feedback",
    description="Anyone may read feedback. Newest first.",
    responses={200: FeedbackSerializer(many=True), **errors(400, 404)},
)

feedback_create = extend_schema(
    tags=["feedback"],
    operation_id="events_feedback_create",
    summary="Leave feedback",
    description="Participants only, once the event has started, once per event.",
    request=FeedbackSerializer,
    examples=[
        OpenApiExample(
            "Five stars", value={"rating": 5, "comment": "Great evening."}, request_only=True
        )
    ],
    responses={
        201: FeedbackSerializer,
        **errors(
            400,
            401,
            403,
            404,
            409,
            conflicts=[FeedbackExists, EventNotStarted],
            s403="Only participants may leave feedback.",
            s404=EVENT_NOT_FOUND,
        ),
    },
)

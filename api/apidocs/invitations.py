"""The invitations a user received, and answering them."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from api.apidocs.responses import errors
from api.exceptions import (
    INVITATION_NOT_FOUND,
    EventFull,
    InvitationAnswered,
    RegistrationClosed,
)
from api.serializers import InvitationAnswerSerializer, InvitationSerializer

invitations = extend_schema_view(
    list=extend_schema(
        tags=["invitations"],
        operation_id="invitations_list",
        summary="List invitations you received",
        description="Newest first.",
        responses={200: InvitationSerializer(many=True), **errors(400, 401, 404)},
    ),
    retrieve=extend_schema(
        tags=["invitations"],
        operation_id="invitations_retrieve",
        summary="Show an invitation you received",
        responses={200: InvitationSerializer, **errors(401, 404)},
    ),
    update=extend_schema(
        tags=["invitations"],
        operation_id="invitations_answer",
        summary="Accept or decline an invitation",
        description="Invitee only (anyone else gets 404). ACCEPTED registers you under the same "
        "capacity and start-time rules as registering directly; if it cannot, the invitation "
        "stays PENDING. If you registered on your own meanwhile, accepting succeeds without a "
        "second registration. An invitation does not skip the waiting list: while anyone "
        "waits, accepting is a 409 event_full, unless a waiting-list offer holds a seat for "
        "you, which accepting then takes.",
        request=InvitationAnswerSerializer,
        examples=[OpenApiExample("Accept", value={"status": "ACCEPTED"}, request_only=True)],
        responses={
            200: InvitationSerializer,
            **errors(
                400,
                401,
                404,
                409,
                conflicts=[InvitationAnswered, EventFull, RegistrationClosed],
                s400="status is missing, or is PENDING.",
                s404=INVITATION_NOT_FOUND,
            ),
        },
    ),
)

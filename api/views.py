from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from api import selectors, services
from api.filters import EVENT_FILTER_PARAMETERS, EventFilter, InvitationFilter
from api.models import Event, Invitation
from api.pagination import CappedPageNumberPagination, PageNumberPagination
from api.permissions import (
    IsEventHost,
    IsEventHostOrReadOnly,
    IsEventParticipant,
    signed_in_user,
)
from api.schema import conflict_example, errors
from api.serializers import (
    AccountSerializer,
    EventSerializer,
    FeedbackSerializer,
    InvitationAnswerSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    LoginSerializer,
    LogoutSerializer,
    ParticipantSerializer,
    RefreshSerializer,
    RegistrationSerializer,
    TokenPairSerializer,
    event_representation,
    event_representations,
)
from api.throttles import (
    EventCreationThrottle,
    LoginAddressThrottle,
    LoginUsernameThrottle,
    UserRegistrationThrottle,
)


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_register",
        summary="Create an account",
        description="Usernames and emails are unique regardless of case. Django's password "
        "validators apply (length, similarity to the username, common and numeric passwords).",
        request=RegistrationSerializer,
        responses={201: AccountSerializer, **errors(400, 429)},
    )
)
class RegisterView(generics.GenericAPIView):
    permission_classes = [AllowAny]
    authentication_classes = ()
    throttle_classes = [UserRegistrationThrottle]
    serializer_class = RegistrationSerializer
    http_method_names = ["post"]

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        return Response(AccountSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_login",
        summary="Obtain a JWT pair",
        description="Attempts are limited per username and per client address.",
        responses={
            200: TokenPairSerializer,
            **errors(400, 401, 429, s401="Wrong username or password."),
        },
    )
)
class LoginView(TokenObtainPairView):
    serializer_class = LoginSerializer
    authentication_classes = ()
    throttle_classes = [LoginUsernameThrottle, LoginAddressThrottle]
    http_method_names = ["post"]


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_token_refresh",
        summary="Rotate a refresh token",
        description="Returns a new access token and a new refresh token; the refresh token sent "
        "is blacklisted and cannot be used again.",
        request=RefreshSerializer,
        responses={
            200: TokenPairSerializer,
            **errors(400, 401, s401="The refresh token is invalid, expired or blacklisted."),
        },
    )
)
class RefreshView(TokenRefreshView):
    serializer_class = RefreshSerializer
    authentication_classes = ()
    http_method_names = ["post"]


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_logout",
        summary="Log out",
        description="Blacklists the refresh token. Access tokens already issued stay valid until "
        "they expire (10 minutes by default).",
        request=LogoutSerializer,
        responses={204: OpenApiResponse(description="Logged out."), **errors(400, 401)},
    )
)
class LogoutView(generics.GenericAPIView):
    serializer_class = LogoutSerializer
    http_method_names = ["post"]

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                raise InvalidToken("This refresh token belongs to another user.")
            token.blacklist()
        except TokenError as error:
            raise InvalidToken(str(error)) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        tags=["auth"],
        operation_id="auth_me",
        summary="The caller's account",
        responses={200: AccountSerializer, **errors(401)},
    )
)
class MeView(generics.RetrieveAPIView):
    serializer_class = AccountSerializer
    http_method_names = ["get"]

    def get_object(self) -> Any:
        return self.request.user


EVENT_ID_404 = "No event with this id."
# Ids longer than this cannot exist; refusing them in the URL keeps oversized integers
# away from the database driver (SQLite raises OverflowError past 2**63).
ID_PATTERN = "[0-9]{1,18}"


@extend_schema_view(
    list=extend_schema(
        tags=["events"],
        operation_id="events_list",
        summary="List events",
        description="Anyone may list events. Filters combine with AND.",
        parameters=EVENT_FILTER_PARAMETERS,
        responses={200: EventSerializer(many=True), **errors(400, 404)},
    ),
    create=extend_schema(
        tags=["events"],
        operation_id="events_create",
        summary="Create an event",
        description="The caller becomes the host; a `host` in the body is ignored. Each user "
        "may create 5 events per rolling 24 hours; deleting an event does not give one back.",
        responses={201: EventSerializer, **errors(400, 401, 429)},
    ),
    retrieve=extend_schema(
        tags=["events"],
        operation_id="events_retrieve",
        summary="Show an event",
        responses={200: EventSerializer, **errors(404, s404=EVENT_ID_404)},
    ),
    update=extend_schema(
        tags=["events"],
        operation_id="events_update",
        summary="Replace an event",
        description="Host only. start_time must be in the future only when it changes.",
        responses={
            200: EventSerializer,
            **errors(400, 401, 403, 404, 409, s404=EVENT_ID_404),
        },
        examples=[
            conflict_example(
                "capacity_below_participants",
                "max_participants cannot be 2: 3 users are already registered.",
            )
        ],
    ),
    partial_update=extend_schema(
        tags=["events"],
        operation_id="events_partial_update",
        summary="Change some fields of an event",
        description="Host only. start_time must be in the future only when it changes.",
        responses={
            200: EventSerializer,
            **errors(400, 401, 403, 404, 409, s404=EVENT_ID_404),
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
class EventViewSet(viewsets.ModelViewSet):
    serializer_class = EventSerializer
    filterset_class = EventFilter
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "put", "patch", "delete"]

    def get_queryset(self) -> QuerySet[Event, Any]:
        if self.action == "list":
            # Rendered by event_representation from plain rows, not by the serializer.
            return selectors.event_rows()
        # Writes and nested actions need the model instance only (host for permissions,
        # the row to lock); their responses are rendered from event_rows() afterwards.
        return Event.objects.all()

    @property
    def pagination_class(self) -> type[PageNumberPagination]:  # type: ignore[override]
        # The events list grows with the whole table, so its count and depth are capped;
        # an event's participants and feedback are bounded and paginate plainly.
        return CappedPageNumberPagination if self.action == "list" else PageNumberPagination

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = self.filter_queryset(self.get_queryset())
        # Always a page: the view has a pagination class, and event_rows() gives rows.
        page = cast("list[dict[str, Any]]", self.paginate_queryset(rows))
        return self.get_paginated_response(event_representations(page))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Anyone may read an event (get_permissions), so there is no object permission
        # to check, and the row is fetched without building a queryset (selectors).
        return Response(self._representation(int(kwargs[self.lookup_field])))

    def get_permissions(self) -> Sequence[BasePermission]:
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        if self.action == "feedback" and self.request.method == "GET":
            return [AllowAny()]
        if self.action in ("register", "unregister", "participants"):
            return [IsAuthenticated()]
        if self.action == "invite":
            return [IsAuthenticated(), IsEventHost()]
        if self.action == "feedback":
            return [IsAuthenticated(), IsEventParticipant()]
        return [IsAuthenticated(), IsEventHostOrReadOnly()]

    def get_throttles(self) -> builtins.list[BaseThrottle]:
        if self.action == "create":
            return [EventCreationThrottle()]
        return []

    def filter_queryset(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        if self.action != "list":
            return queryset
        if self.request.query_params.keys().isdisjoint(self.filterset_class.base_filters):
            # Nothing to filter or order by: the default order stands, and building the
            # filter form would cost more than the page's query (bench/).
            return queryset
        return super().filter_queryset(queryset)

    def _representation(self, pk: int) -> dict[str, Any]:
        row = selectors.event_row(pk)
        if row is None:
            raise Http404
        return event_representation(row)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.event_create(host=signed_in_user(request), **serializer.validated_data)
        return Response(self._representation(event.pk), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        serializer = self.get_serializer(
            event, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.event_update(event=event, **serializer.validated_data)
        return Response(self._representation(event.pk))

    def perform_destroy(self, instance: Event) -> None:
        services.event_delete(event=instance)

    @extend_schema(
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
                s404=EVENT_ID_404,
                s409="already_registered, event_full or registration_closed "
                "(the event has started).",
            ),
        },
        examples=[
            conflict_example("event_full", "The event is full: 10 seats, 10 taken."),
            conflict_example("already_registered", "You are already registered for this event."),
            conflict_example(
                "registration_closed", "The event has already started; registration is closed."
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def register(self, request: Request, pk: str | None = None) -> Response:
        participation = services.participation_create(
            event=self.get_object(), user=signed_in_user(request)
        )
        return Response(ParticipantSerializer(participation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
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
                s404="No event with this id, or you are not registered for it.",
                s409="registration_closed: the event has started.",
            ),
        },
    )
    @action(detail=True, methods=["delete"])
    def unregister(self, request: Request, pk: str | None = None) -> Response:
        services.participation_delete(event=self.get_object(), user=signed_in_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["participation"],
        operation_id="events_participants_list",
        summary="List an event's participants",
        description="Ordered by registration time.",
        responses={200: ParticipantSerializer(many=True), **errors(400, 401, 404)},
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def participants(self, request: Request, pk: str | None = None) -> Response:
        queryset = selectors.participant_list(event=self.get_object())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ParticipantSerializer(page, many=True).data)

    @extend_schema(
        tags=["invitations"],
        operation_id="events_invite",
        summary="Invite a user",
        description="Host only. A user may hold one pending invitation per event; after they "
        "decline, they can be invited again.",
        request=InvitationCreateSerializer,
        responses={
            201: InvitationSerializer,
            **errors(
                400,
                401,
                403,
                404,
                409,
                s400="Unknown invitee, or the host inviting themselves.",
                s404=EVENT_ID_404,
                s409="already_invited, already_participant or registration_closed.",
            ),
        },
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def invite(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        serializer = InvitationCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            event=event,
            inviter=signed_in_user(request),
            invitee=serializer.validated_data["invitee"],
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        tags=["feedback"],
        operation_id="events_feedback_list",
        summary="List an event's feedback",
        description="Anyone may read feedback. Newest first.",
        responses={200: FeedbackSerializer(many=True), **errors(400, 404)},
    )
    @extend_schema(
        methods=["POST"],
        tags=["feedback"],
        operation_id="events_feedback_create",
        summary="Leave feedback",
        description="Participants only, once the event has started, once per event.",
        request=FeedbackSerializer,
        responses={
            201: FeedbackSerializer,
            **errors(
                400,
                401,
                403,
                404,
                409,
                s403="Only participants may leave feedback.",
                s404=EVENT_ID_404,
                s409="feedback_exists, or event_not_started.",
            ),
        },
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None)
    def feedback(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.feedback_list(event=event))
            return self.get_paginated_response(FeedbackSerializer(page, many=True).data)
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback = services.feedback_create(
            event=event, user=signed_in_user(request), **serializer.validated_data
        )
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
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
        "second registration.",
        request=InvitationAnswerSerializer,
        responses={
            200: InvitationSerializer,
            **errors(
                400,
                401,
                404,
                409,
                s400="status is missing, or is PENDING.",
                s404="No invitation with this id was sent to you.",
                s409="invitation_answered, event_full or registration_closed.",
            ),
        },
    ),
)
class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "put"]

    def get_queryset(self) -> QuerySet[Invitation]:
        if getattr(self, "swagger_fake_view", False):
            # drf-spectacular reads the model from here, with no signed-in user.
            return Invitation.objects.none()
        return selectors.invitation_list_received(user=signed_in_user(self.request))

    def filter_queryset(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        invitation = self.get_object()
        serializer = InvitationAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answered = services.invitation_answer(
            invitation=invitation,
            user=signed_in_user(request),
            status=serializer.validated_data["status"],
        )
        return Response(InvitationSerializer(answered).data)

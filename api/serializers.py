from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from api import sessions
from api.event_reads import EVENT_FIELDS, EVENT_READ_ONLY_FIELDS
from api.identities import identity_key, mixes_scripts_deceptively, skeleton
from api.ids import MAX_ID
from api.models import (
    MAX_PARTICIPANTS_LIMIT,
    WAITING_LIST_OFFER_HOURS_LIMIT,
    Event,
    EventParticipant,
    Feedback,
    Invitation,
    User,
    WaitingListEntry,
)


class JSONTypedField(serializers.Field):
    """Input must have the JSON type the spec states: DRF's fields coerce, so a number
    would be taken for a string field (0 became "0") and a string of digits for an
    integer one, answers the spec does not describe."""

    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, self.json_types):
            self.fail("invalid")
        return super().to_internal_value(data)


class StringField(JSONTypedField, serializers.CharField):
    json_types = (str,)


class EmailField(JSONTypedField, serializers.EmailField):
    json_types = (str,)


class IntegerField(JSONTypedField, serializers.IntegerField):
    json_types = (int,)


class BooleanField(JSONTypedField, serializers.BooleanField):
    json_types = (bool,)

    def to_internal_value(self, data: Any) -> Any:
        # JSONTypedField refuses bools for the number fields; here they are the type.
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class UserSerializer(serializers.ModelSerializer):
    """What anyone may see of another user: never an email."""

    class Meta:
        model = User
        fields = ["id", "username"]
        read_only_fields = fields


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email"]
        read_only_fields = fields


# Account creation (POST /api/register/).
class SignUpSerializer(serializers.Serializer):
    username = StringField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = EmailField(max_length=254)
    password = StringField(max_length=128, write_only=True, trim_whitespace=False)

    def validate_username(self, value: str) -> str:
        # Django stores usernames NFKC-normalised: compare what will be stored.
        value = User.normalize_username(value)
        if User.objects.filter(username_key=identity_key(value)).exists():
            raise serializers.ValidationError("This username is taken.", code="unique")
        if mixes_scripts_deceptively(value):
            raise serializers.ValidationError(
                "This username mixes scripts with characters that imitate each other.",
                code="confusable",
            )
        if User.objects.filter(username_skeleton=skeleton(value)).exists():
            raise serializers.ValidationError(
                "This username looks like one that is taken.", code="confusable"
            )
        return value

    def validate_email(self, value: str) -> str:
        if User.objects.filter(email_key=identity_key(value)).exists():
            raise serializers.ValidationError(
                "An account with this email already exists.", code="unique"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = User(username=attrs["username"], email=attrs["email"])
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from error
        return attrs

    class Meta:
        # The component's name in the spec, from before sign-up had its own name in code.
        ref_name = "Registration"


class WrongCredentials(AuthenticationFailed):
    default_code = "no_active_account"
    default_detail = "Wrong username or password."


class LoginSerializer(TokenObtainPairSerializer):
    default_error_messages = {WrongCredentials.default_code: WrongCredentials.default_detail}

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except AuthenticationFailed as error:
            raise WrongCredentials() from error

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Untrimmed: a username of only whitespace is a wrong username (401), as the spec
        # says of any string, not a blank field (400).
        self.fields[self.username_field] = StringField(write_only=True, trim_whitespace=False)
        self.fields["password"] = StringField(write_only=True, trim_whitespace=False)

    @classmethod
    def get_token(cls, user: Any) -> Any:
        # Each login starts a session: a family of refresh tokens revoked as a whole.
        return sessions.start(user)


class RefreshSerializer(serializers.Serializer):
    """A refresh token, which works once: it is exchanged for a new pair."""

    # Redeemed by api.sessions.rotate.

    # Untrimmed: any string that is not a valid token is a 401, whitespace included.
    refresh = StringField(trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = sessions.rotate(attrs["refresh"])
        return {"access": str(refresh.access_token), "refresh": str(refresh)}


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


def _validated_password(password: str, user: User | None) -> str:
    """Django's password validators (and ours), their messages as field errors."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as error:
        raise serializers.ValidationError(list(error.messages)) from error
    return password


class PasswordChangeSerializer(serializers.Serializer):
    current_password = StringField(max_length=128, write_only=True, trim_whitespace=False)
    new_password = StringField(max_length=128, write_only=True, trim_whitespace=False)

    def validate_new_password(self, value: str) -> str:
        return _validated_password(value, self.context["request"].user)


class AccountDeleteSerializer(serializers.Serializer):
    password = StringField(max_length=128, write_only=True, trim_whitespace=False)


class PasswordResetSerializer(serializers.Serializer):
    email = EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = StringField(max_length=200, trim_whitespace=False)
    new_password = StringField(max_length=128, write_only=True, trim_whitespace=False)

    def validate_new_password(self, value: str) -> str:
        # The account is known only once the token is checked (api.accounts); the
        # validators that compare with it (similarity) apply without it here.
        return _validated_password(value, None)


class LogoutSerializer(serializers.Serializer):
    refresh = StringField(max_length=4096, trim_whitespace=False)


# Validates event writes and describes events in the spec (a docstring here would be
# the spec's description); reads are rendered by api.event_reads, which a test holds
# equal to this serializer's output.
class EventSerializer(serializers.ModelSerializer):
    host = UserSerializer(read_only=True)
    participants_count = serializers.IntegerField(read_only=True, min_value=0)
    title = StringField(max_length=200)
    description = StringField(max_length=5000, allow_blank=True, required=False)
    location = StringField(max_length=200, allow_blank=True, required=False)
    max_participants = IntegerField(min_value=1, max_value=MAX_PARTICIPANTS_LIMIT)
    seats_available = serializers.IntegerField(
        read_only=True,
        min_value=0,
        help_text="max_participants minus the participants and the seats held by open "
        "waiting-list offers; 0 while anyone waits, since a seat that frees is offered to "
        "the waiting list first. Registration still closes when the event starts.",
    )
    waiting_list_enabled = BooleanField(
        required=False,
        help_text="Whether users may join the waiting list once the event is full. "
        "Turning it off refuses new entries; the entries already there keep their places.",
    )
    waiting_list_offer_hours = IntegerField(
        required=False,
        min_value=1,
        max_value=WAITING_LIST_OFFER_HOURS_LIMIT,
        help_text="How long an offered seat is held for the next person waiting, never "
        "past the start. A change applies to offers made after it.",
    )
    waiting_list_count = serializers.IntegerField(
        read_only=True,
        min_value=0,
        help_text="People on the waiting list: waiting, or holding an offer that has not expired.",
    )

    class Meta:
        model = Event
        fields = list(EVENT_FIELDS)
        read_only_fields = list(EVENT_READ_ONLY_FIELDS)

    def validate_start_time(self, value: Any) -> Any:
        unchanged = self.instance is not None and value == self.instance.start_time
        if not unchanged and value <= timezone.now():
            raise serializers.ValidationError("The start time must be in the future.", code="past")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start_time", getattr(self.instance, "start_time", None))
        end = attrs.get("end_time", getattr(self.instance, "end_time", None))
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError(
                {"end_time": ["The end time must be after the start time."]}, code="before_start"
            )
        return attrs


class ParticipantSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)

    class Meta:
        model = EventParticipant
        fields = ["user", "joined_at"]
        read_only_fields = fields


class InvitationEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["id", "title", "start_time"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    event = InvitationEventSerializer(read_only=True)
    inviter = UserSerializer(read_only=True)
    invitee = UserSerializer(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "event", "inviter", "invitee", "status", "sent_at", "responded_at"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    invitee = IntegerField(min_value=1, max_value=MAX_ID, help_text="Id of the user to invite.")

    def validate_invitee(self, value: int) -> User:
        invitee = User.objects.filter(pk=value, is_active=True).first()
        if invitee is None:
            raise serializers.ValidationError("No user with this id.", code="does_not_exist")
        if invitee.pk == self.context["request"].user.pk:
            raise serializers.ValidationError("You cannot invite yourself.", code="self_invite")
        return invitee


class InvitationAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[Invitation.Status.ACCEPTED, Invitation.Status.DECLINED],
        help_text="ACCEPTED registers you for the event; DECLINED does not.",
    )


class FeedbackSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)
    rating = IntegerField(min_value=1, max_value=5)
    comment = StringField(max_length=2000, allow_blank=True, required=False)

    class Meta:
        model = Feedback
        fields = ["id", "user", "rating", "comment", "created_at"]
        read_only_fields = ["id", "user", "created_at"]


class WaitingListEntrySerializer(serializers.ModelSerializer):
    event = InvitationEventSerializer(read_only=True)
    user = UserSerializer(read_only=True)
    # The status as of now: an offer past its expiry is expired from that instant, even
    # before the worker writes it (api.waiting_list).
    status = serializers.ChoiceField(
        source="shown_status", choices=WaitingListEntry.Status.choices, read_only=True
    )
    position = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        min_value=1,
        help_text="While waiting: 1 for the next person to be offered a seat, 2 after them, "
        "and so on (first come, first served). null once the entry is offered a seat or "
        "closed.",
    )
    offered_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When a seat was offered; null until then."
    )
    offer_expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Until when the offered seat is held for you (never past the event's "
        "start): accept before then. null until a seat is offered.",
    )

    class Meta:
        model = WaitingListEntry
        fields = [
            "id",
            "event",
            "user",
            "status",
            "position",
            "joined_at",
            "offered_at",
            "offer_expires_at",
        ]
        read_only_fields = fields

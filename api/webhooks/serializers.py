"""Input and output of the webhook endpoints' API (views in api.views.webhooks)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.serializers import BooleanField, StringField
from api.webhooks.messages import EVENT_TYPES
from api.webhooks.transport import URL_MAX_LENGTH, URL_PATTERN, validate_url


class EventTypesField(serializers.ListField):
    child = serializers.ChoiceField(choices=list(EVENT_TYPES))

    def to_internal_value(self, data: Any) -> Any:
        chosen = set(super().to_internal_value(data))
        # Stored in the spec's order, each once, whatever order and repeats were sent.
        return [event_type for event_type in EVENT_TYPES if event_type in chosen]


_URL_HELP = (
    "Where messages are POSTed: https, no user:password@, an ASCII host name "
    "(internationalised names in their xn-- form) or a public address, no #fragment. Names "
    "are resolved at each attempt, and an attempt to a private address is refused. "
    "(A development deployment may allow http and private addresses.)"
)


# The pattern states production's rule for the spec; validate_url is the server's check,
# which WEBHOOKS_ALLOW_HTTP relaxes for development.
@extend_schema_field(
    {
        "type": "string",
        "maxLength": URL_MAX_LENGTH,
        "pattern": URL_PATTERN,
        "description": _URL_HELP,
    }
)
class WebhookURLField(StringField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=URL_MAX_LENGTH, validators=[_refuse_unsafe_url], **kwargs)


def _refuse_unsafe_url(value: str) -> None:
    validate_url(value)


_EVENTS_HELP = "The message types to send; null or absent: every type, including types added later."


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = WebhookURLField()
    events = EventTypesField(min_length=1, allow_null=True, required=False, help_text=_EVENTS_HELP)
    description = StringField(max_length=500, allow_blank=True, required=False)


class WebhookEndpointUpdateSerializer(WebhookEndpointCreateSerializer):
    url = WebhookURLField(required=False)
    enabled = BooleanField(
        required=False,
        help_text="false pauses deliveries; true resumes them (also after the service "
        "disabled the endpoint) and clears disabled_reason.",
    )


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = EventTypesField(allow_null=True, help_text=_EVENTS_HELP)
    disabled_reason = serializers.CharField(
        help_text='Why the service disabled the endpoint; "" while enabled or when the owner '
        "disabled it."
    )
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Until then, after a rotation, messages are also signed with the previous "
        "secret; null when there is none.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "description",
            "enabled",
            "disabled_reason",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: WebhookEndpoint) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.previous_secret_expires_at is None or not instance.previous_secret:
            data["previous_secret_expires_at"] = None
        return data


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="whsec_ and the base64 of 32 random bytes: the key to verify signatures "
        "with. Shown here and after a rotation only."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookAttemptSerializer(serializers.ModelSerializer):
    status_code = serializers.IntegerField(
        min_value=0,
        max_value=999,
        help_text="The receiver's HTTP status; 0 when no response arrived (see error).",
    )
    duration_ms = serializers.IntegerField(min_value=0)
    response_body = serializers.CharField(help_text="The response body's first 1,024 characters.")
    error = serializers.CharField(help_text='Why no response arrived; "" when one did.')
    manual = serializers.BooleanField(help_text="A redelivery the owner asked for.")

    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "duration_ms", "response_body", "error", "manual"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(
        help_text="The webhook-id header: the same on every attempt."
    )
    event_type = serializers.ChoiceField(choices=list(EVENT_TYPES))
    payload = serializers.CharField(help_text="The body sent, byte for byte (compact JSON).")
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="When the next scheduled attempt is due; null once finished."
    )
    attempts = WebhookAttemptSerializer(many=True, help_text="Oldest first.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "message_id",
            "event_type",
            "status",
            "created_at",
            "next_attempt_at",
            "payload",
            "attempts",
        ]
        read_only_fields = fields

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from api.identities import identity_key, skeleton

MAX_PARTICIPANTS_LIMIT = 100_000
# An offer holds a seat for at most a week: longer, and the queue behind it stalls.
WAITING_LIST_OFFER_HOURS_LIMIT = 168


class UserManager(DjangoUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # Login finds the account by its identity key: "ALICE" and "Straße" log in as
        # the accounts "alice" and "STRASSE" (api.identities).
        return self.get(username_key=identity_key(username or ""))


class User(AbstractUser):
    """Django's user, with usernames and emails unique as people read them: the keys
    (api.identities.identity_key) are unique columns, kept in step on every save."""

    username_key = models.CharField(max_length=1000, unique=True, editable=False)
    # NULL for no email (several accounts may have none; "" would be one key).
    email_key = models.CharField(  # noqa: DJ001
        max_length=1000, unique=True, null=True, editable=False
    )
    # Not unique: derived from the confusables data, which a library upgrade may change;
    # sign-up refuses a username whose skeleton an account already has.
    username_skeleton = models.CharField(max_length=1000, db_index=True, editable=False)

    objects = UserManager()  # type: ignore[misc]

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.username_key = identity_key(self.username)
        self.username_skeleton = skeleton(self.username)
        self.email_key = identity_key(self.email) if self.email else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"username", "email"} & set(update_fields):
            kwargs["update_fields"] = {
                *update_fields,
                "username_key",
                "username_skeleton",
                "email_key",
            }
        super().save(*args, **kwargs)


class Event(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_events"
    )
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True, default="")
    max_participants = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PARTICIPANTS_LIMIT)]
    )
    # Database defaults too, so rows written in SQL (bench/, migrations) get them.
    waiting_list_enabled = models.BooleanField(default=True, db_default=True)
    waiting_list_offer_hours = models.PositiveSmallIntegerField(
        default=24,
        db_default=24,
        validators=[
            MinValueValidator(1),
            MaxValueValidator(WAITING_LIST_OFFER_HOURS_LIMIT),
        ],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(waiting_list_offer_hours__gte=1)
                & Q(waiting_list_offer_hours__lte=WAITING_LIST_OFFER_HOURS_LIMIT),
                name="event_waiting_list_offer_hours_range",
            ),
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")),
                name="event_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(max_participants__gte=1)
                & Q(max_participants__lte=MAX_PARTICIPANTS_LIMIT),
                name="event_max_participants_range",
            ),
        ]
        indexes = [
            models.Index(fields=["start_time", "id"], name="event_start_time_idx"),
            models.Index(fields=["end_time"], name="event_end_time_idx"),
            models.Index(fields=["created_at", "id"], name="event_created_at_idx"),
            models.Index(fields=["host", "start_time"], name="event_host_start_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_started(self) -> bool:
        return self.start_time <= timezone.now()


class EventParticipant(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participants")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="participant_unique_user_event"),
        ]
        indexes = [
            models.Index(fields=["event", "joined_at", "id"], name="participant_event_joined_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.event_id}"


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        ACCEPTED = "ACCEPTED", "Accepted"
        DECLINED = "DECLINED", "Declined"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitations")
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_invitations"
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="received_invitations"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "invitee"],
                condition=Q(status="PENDING"),
                name="invitation_one_pending_per_invitee",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "ACCEPTED", "DECLINED"]),
                name="invitation_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["invitee", "-sent_at", "-id"], name="invitation_invitee_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invitee_id} to {self.event_id} ({self.status})"


class WaitingListEntry(models.Model):
    """A user's place in the queue for a full event (api.waiting_list).

    ``waiting`` -> ``offered`` -> ``accepted`` | ``declined`` | ``expired``, and
    ``waiting`` or ``offered`` -> ``left``. An ``offered`` entry holds a seat until
    ``offer_expires_at`` and not a moment longer: every count treats an offer past that
    instant as holding nothing, before the worker marks it ``expired``. The queue's
    order is ``joined_at``, then ``id``; a position is computed, never stored.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        LEFT = "left", "Left"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="waiting_list")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waiting_list_entries"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    joined_at = models.DateTimeField(default=timezone.now)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    # When the entry was accepted, declined, expired or left.
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            # One open entry per user and event; after it closes the user may join again.
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waiting_list_one_open_entry",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["waiting", "offered", "accepted", "declined", "expired", "left"]
                ),
                name="waiting_list_status_valid",
            ),
            # Every entry that was offered a seat knows until when.
            models.CheckConstraint(
                condition=Q(status="waiting")
                | Q(status="left", offered_at__isnull=True)
                | Q(offered_at__isnull=False, offer_expires_at__isnull=False),
                name="waiting_list_offer_has_expiry",
            ),
        ]
        indexes = [
            # The queue of an event, and the counts the events list makes per row.
            models.Index(
                fields=["event", "status", "joined_at", "id"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waiting_list_open_idx",
            ),
            # The expiry job's scan: offers whose time is up.
            models.Index(
                fields=["offer_expires_at"],
                condition=Q(status="offered"),
                name="waiting_list_offer_expiry_idx",
            ),
            models.Index(fields=["user", "joined_at"], name="waiting_list_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} waiting for {self.event_id} ({self.status})"


class Feedback(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="feedback_unique_event_user"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="feedback_rating_range"
            ),
        ]
        indexes = [
            models.Index(fields=["event", "-created_at", "-id"], name="feedback_event_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rating} for {self.event_id} by {self.user_id}"


class EventCreation(models.Model):
    """One row per event ever created, kept after the event is deleted.

    The creation limit counts these, not events, so deleting an event does not give a
    creation back.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_creations"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="creation_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.created_at:%Y-%m-%dT%H:%M:%S}"


class TokenFamily(models.Model):
    """One login: every refresh token rotated from it belongs to the same family.

    A refresh token is redeemed once; presenting a redeemed one again means it was
    copied, so the whole family is revoked (OAuth 2.0 Security Best Current Practice,
    refresh token rotation with reuse detection). Logging out revokes it too.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_families"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"session {self.pk} of user {self.user_id}"


class RedeemedRefreshToken(models.Model):
    """A refresh token that was exchanged for a new pair; its primary key is the
    token's ``jti``, so two redemptions of one token cannot both be written."""

    jti = models.CharField(max_length=255, primary_key=True)
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="redeemed")
    redeemed_at = models.DateTimeField(default=timezone.now)
    # Kept until the token would have expired anyway; retention may delete it after.
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"refresh token {self.jti}"


class CacheEntry(models.Model):
    """The table of Django's database cache, the shared cache without Redis (settings).

    A model, so that ``migrate`` creates it wherever the app runs, rather than a
    ``createcachetable`` step every deployment must remember. The columns are the ones
    ``DatabaseCache`` reads and writes.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "api_cache"

    def __str__(self) -> str:
        return self.cache_key


class WebhookEndpoint(models.Model):
    """A receiver a user registered; messages about their events go to it (api.webhooks).

    The secret is kept in the clear because every message is signed with it; it is shown
    to the owner when created and rotated only. After a rotation the previous secret
    still signs, beside the new one, until ``previous_secret_expires_at``.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField(max_length=2048)
    # NULL: every type, including types added later; otherwise the list subscribed to.
    events = models.JSONField(null=True, blank=True)
    description = models.CharField(max_length=500, blank=True, default="")
    secret = models.CharField(max_length=128)
    previous_secret = models.CharField(max_length=128, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    # Set by the first failed attempt after a success (or ever); cleared by a success.
    # Failing for api.webhooks.delivery.DISABLE_AFTER (5 days) disables the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["owner", "id"], name="webhook_owner_idx")]

    def __str__(self) -> str:
        return f"webhook {self.pk} of user {self.owner_id}"


class WebhookDelivery(models.Model):
    """One message to one endpoint: the outbox row, written in the transaction of the
    change it reports, and the delivery state that workers share.

    ``payload`` holds the exact bytes sent (compact JSON), so every attempt and
    redelivery signs and sends the same body under the same ``message_id``. A worker owns
    an attempt while ``lease_expires_at`` is in the future; ``queued_at`` says a task to
    attempt it is enqueued and not yet taken, so the sweep does not enqueue it twice.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=64)
    payload = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True, default="")
    # Scheduled attempts made so far; manual redeliveries are not counted.
    automatic_attempts = models.PositiveIntegerField(default=0)
    # The owner asked for a redelivery; the next attempt is recorded as manual.
    manual_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed"]),
                name="webhook_delivery_status_valid",
            ),
            # Only a pending message is scheduled: finished ones are never picked up.
            models.CheckConstraint(
                condition=Q(status="pending") | Q(next_attempt_at__isnull=True),
                name="webhook_delivery_finished_unscheduled",
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due_idx",
            ),
            models.Index(fields=["created_at"], name="webhook_delivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id} to {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request a worker made for a delivery, as the owner's log shows it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField()
    # The receiver's HTTP status; 0 when no response arrived (refused, timed out, ...).
    status_code = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField()
    response_body = models.TextField(blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    manual = models.BooleanField(default=False)

    class Meta:
        ordering = ["attempted_at", "id"]
        indexes = [
            models.Index(fields=["delivery", "attempted_at"], name="webhook_attempt_delivery_idx"),
            models.Index(fields=["attempted_at"], name="webhook_attempt_time_idx"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.pk} of {self.delivery_id}: {self.status_code}"

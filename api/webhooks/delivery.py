"""Sending webhook messages: which worker attempts what and when, and what an attempt
changes.

At least once, unordered: a message is attempted until a 2xx arrives within the timeout
or its schedule (about three days) runs out. Workers share the work through the rows:

- A worker owns an attempt by its lease (``lease_token`` and ``lease_expires_at``),
  taken with a compare-and-set under ``select_for_update(skip_locked=True)``: on
  PostgreSQL the row lock keeps a second worker off the row, on SQLite (which has no
  row locks; its transactions are IMMEDIATE, one writer at a time) the compare-and-set
  does. A worker that dies holding a lease loses it when it expires, and the sweep
  queues the message again.
- Locks are taken endpoint first, then delivery, in every writer (the API's included).
"""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.webhooks import transport

logger = logging.getLogger(__name__)

# After the first attempt fails, retry after these delays (each with +-20 % jitter, so
# receivers that failed together are not retried together); then give up: 75.6 hours.
SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
JITTER = 0.2
# A receiver's Retry-After (on 429 and 503) lengthens the scheduled delay, up to this.
RETRY_AFTER_CAP = timedelta(hours=1)
# An endpoint with no successful attempt for this long, while attempts fail, is disabled.
DISABLE_AFTER = timedelta(days=5)
# After a rotation the previous secret signs beside the new one for this long.
ROTATION_OVERLAP = timedelta(hours=24)
# A task enqueued this long ago whose delivery is still untaken is presumed lost (its
# worker died between taking the task and taking the lease) and is enqueued again.
REQUEUE_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 500
USER_AGENT = f"EventManagementAPI-Webhooks/{settings.SPECTACULAR_SETTINGS['VERSION']}"
Status = WebhookDelivery.Status


@dataclass(frozen=True)
class Claim:
    """What a worker needs to make one attempt, read while taking the lease."""

    delivery_id: int
    endpoint_id: int
    token: str
    manual: bool
    url: str
    secrets: tuple[str, ...]
    message_id: str
    payload: str


def _unleased(now: datetime) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)


def _wanted(now: datetime) -> Q:
    return Q(manual_requested=True) | Q(status=Status.PENDING, next_attempt_at__lte=now)


def attempt(delivery_id: int) -> bool:
    """Attempt the delivery if it is due (or a redelivery was asked for) and no other
    worker holds it; returns whether an attempt was made."""
    claim = _claim(delivery_id)
    if claim is None:
        return False
    attempted_at = timezone.now()
    outcome = transport.post(claim.url, claim.payload.encode(), signed_headers(claim, attempted_at))
    _record(claim, attempted_at, outcome)
    return True


def signed_headers(claim: Claim, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers; one ``v1,`` signature per live secret, space-separated."""
    signatures = " ".join(
        Webhook(secret).sign(claim.message_id, at, claim.payload) for secret in claim.secrets
    )
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": claim.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def live_secrets(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        return (endpoint.secret, endpoint.previous_secret)
    return (endpoint.secret,)


def _claim(delivery_id: int) -> Claim | None:
    now = timezone.now()
    with transaction.atomic():
        row = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(_unleased(now), _wanted(now), pk=delivery_id, endpoint__enabled=True)
            .first()
        )
        if row is None:
            return None
        token = secrets.token_hex(16)
        # The compare-and-set: only if nobody took the lease since we read the row.
        taken = WebhookDelivery.objects.filter(
            _unleased(now), pk=row.pk, lease_token=row.lease_token
        ).update(
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS),
            queued_at=None,
            manual_requested=False,
        )
        if taken != 1:
            return None
        return Claim(
            delivery_id=row.pk,
            endpoint_id=row.endpoint_id,
            token=token,
            manual=row.manual_requested,
            url=row.endpoint.url,
            secrets=live_secrets(row.endpoint, now),
            message_id=row.message_id,
            payload=row.payload,
        )


def _record(claim: Claim, attempted_at: datetime, outcome: transport.Outcome) -> None:
    now = timezone.now()
    succeeded = 200 <= outcome.status < 300
    with transaction.atomic():
        # no_key: the row is neither deleted nor re-keyed, so messages written for the
        # endpoint meanwhile (their key-share lock) need not wait for this one.
        endpoint = (
            WebhookEndpoint.objects.select_for_update(no_key=True)
            .filter(pk=claim.endpoint_id)
            .first()
        )
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=claim.delivery_id).first()
        if endpoint is None or delivery is None:
            # Deleted while we were sending: the log went with it.
            return
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=attempted_at,
            status_code=outcome.status,
            duration_ms=outcome.duration_ms,
            response_body=outcome.body,
            error=outcome.error[:500],
            manual=claim.manual,
        )
        _judge_endpoint(endpoint, outcome, succeeded=succeeded, now=now)
        if delivery.lease_token != claim.token:
            # Our lease expired and another worker took the message over: its attempt,
            # not ours, decides what happens next.
            return
        delivery.lease_token = ""
        delivery.lease_expires_at = None
        if not claim.manual:
            # Only scheduled attempts use the schedule up.
            delivery.automatic_attempts += 1
        if succeeded:
            delivery.status = Status.SUCCEEDED
            delivery.next_attempt_at = None
        elif not claim.manual:
            # (A failed redelivery leaves the message where it was: on its schedule, or
            # finished.)
            if delivery.automatic_attempts > len(SCHEDULE):
                delivery.status = Status.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.automatic_attempts, outcome)
        again = delivery.manual_requested and endpoint.enabled
        if again:
            # A redelivery was asked for while this attempt was in flight.
            delivery.queued_at = now
        delivery.save(
            update_fields=[
                "lease_token",
                "lease_expires_at",
                "status",
                "next_attempt_at",
                "automatic_attempts",
                "queued_at",
            ]
        )
        if again:
            _enqueue(delivery.pk)


def retry_delay(automatic_attempts: int, outcome: transport.Outcome) -> timedelta:
    """The wait after the ``automatic_attempts``-th scheduled attempt failed."""
    scheduled = SCHEDULE[automatic_attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)
    if outcome.status in (429, 503) and outcome.retry_after is not None:
        # Honoured when it asks for longer than the schedule would wait, never shorter:
        # "Retry-After: 1" must not spend the three days of retries in seconds.
        return max(scheduled, min(timedelta(seconds=outcome.retry_after), RETRY_AFTER_CAP))
    return scheduled


def _judge_endpoint(
    endpoint: WebhookEndpoint, outcome: transport.Outcome, *, succeeded: bool, now: datetime
) -> None:
    if succeeded:
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
        return
    endpoint.failing_since = endpoint.failing_since or now
    if outcome.status == 410:
        _disable(endpoint, f"The receiver answered 410 Gone at {now:%Y-%m-%dT%H:%M:%SZ}.")
    elif now - endpoint.failing_since >= DISABLE_AFTER:
        _disable(
            endpoint,
            f"No delivery has succeeded since {endpoint.failing_since:%Y-%m-%dT%H:%M:%SZ} "
            f"({DISABLE_AFTER.days} days of failures).",
        )
    endpoint.save(update_fields=["failing_since", "enabled", "disabled_reason"])


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    if endpoint.enabled:
        logger.warning("Disabling webhook endpoint %s: %s", endpoint.pk, reason)
    endpoint.enabled = False
    endpoint.disabled_reason = reason


def _enqueue(delivery_id: int) -> None:
    from api.webhooks.tasks import deliver

    deliver.enqueue(delivery_id)


def _sweepable(now: datetime) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(_unleased(now), endpoint__enabled=True)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=now - REQUEUE_AFTER))
    )


def sweep() -> int:
    """Queue what is due and uncovered: retries whose time came, redeliveries, messages
    whose worker died (lease expired) and tasks presumed lost. Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            _sweepable(now)
            .filter(status=Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        asked = list(
            _sweepable(now).filter(manual_requested=True).values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        ids = sorted(set(due) | set(asked))
        if not ids:
            return 0
        WebhookDelivery.objects.filter(pk__in=ids).update(queued_at=now)
        for pk in ids:
            _enqueue(pk)
    return len(ids)


def prune() -> tuple[int, int]:
    """Delete attempts, and finished messages, older than WEBHOOK_LOG_RETENTION_DAYS;
    returns how many of each."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    attempts, _ = WebhookAttempt.objects.filter(attempted_at__lt=cutoff).delete()
    messages, _ = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff)
        .exclude(status=Status.PENDING)
        .delete()
    )
    return attempts, messages


def work_due() -> bool:
    """Whether some message is to be attempted now or is being attempted."""
    now = timezone.now()
    return (
        WebhookDelivery.objects.filter(endpoint__enabled=True)
        .filter(_wanted(now) | Q(lease_expires_at__gt=now))
        .exists()
    )

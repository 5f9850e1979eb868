"""The rules of webhook endpoints: how many a user may have, secrets and their rotation,
pings and redeliveries.

Locks follow api.services' order (user, then endpoint, then delivery), the order the
workers in api.webhooks.delivery take endpoint and delivery in.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound

from api.exceptions import (
    DELIVERY_NOT_FOUND,
    WEBHOOK_NOT_FOUND,
    WebhookDisabled,
    WebhookLimitReached,
)
from api.models import User, WebhookDelivery, WebhookEndpoint
from api.webhooks import messages
from api.webhooks.delivery import ROTATION_OVERLAP
from api.webhooks.tasks import deliver

MAX_ENDPOINTS_PER_USER = 10
SECRET_BYTES = 32


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def endpoint_create(
    *, owner: User, url: str, events: list[str] | None = None, description: str = ""
) -> WebhookEndpoint:
    with transaction.atomic():
        # Lock the owner: creations at the same moment count one at a time, so the limit
        # holds exactly (without it, twelve at once from nine could all see room).
        User.objects.select_for_update().only("pk").get(pk=owner.pk)
        if WebhookEndpoint.objects.filter(owner=owner).count() >= MAX_ENDPOINTS_PER_USER:
            raise WebhookLimitReached(limit=MAX_ENDPOINTS_PER_USER)
        return WebhookEndpoint.objects.create(
            owner=owner, url=url, events=events, description=description, secret=new_secret()
        )


def _endpoint_lock(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    locked = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if locked is None:
        raise NotFound(WEBHOOK_NOT_FOUND)
    return locked


def endpoint_update(*, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    with transaction.atomic():
        locked = _endpoint_lock(endpoint)
        if "enabled" in fields:
            # Whoever enables or disables now, the service's reason is history.
            fields["disabled_reason"] = ""
            if fields["enabled"] and not locked.enabled:
                # A fresh five days before the receiver is judged again, and what waited
                # meanwhile is queued at the next sweep: tasks that ran while the
                # endpoint was disabled took nothing, and left it marked as queued.
                fields["failing_since"] = None
                WebhookDelivery.objects.filter(
                    endpoint=locked, status=WebhookDelivery.Status.PENDING
                ).update(queued_at=None)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*fields, "updated_at"])
        return locked


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the one it replaces signs beside it for ROTATION_OVERLAP (a
    rotation within that time drops the oldest of the three)."""
    with transaction.atomic():
        locked = _endpoint_lock(endpoint)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
        locked.secret = new_secret()
        locked.save(
            update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
        )
        return locked


def endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    with transaction.atomic():
        locked = _endpoint_lock(endpoint)
        if not locked.enabled:
            raise WebhookDisabled()
        return messages.ping(locked)


def delivery_redeliver(*, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """One more attempt of the message, with its webhook-id, recorded as manual; if an
    attempt is in flight, the new one follows it."""
    with transaction.atomic():
        locked = _endpoint_lock(endpoint)
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=delivery_id, endpoint=locked)
            .first()
        )
        if delivery is None:
            raise NotFound(DELIVERY_NOT_FOUND)
        if not locked.enabled:
            raise WebhookDisabled()
        delivery.manual_requested = True
        delivery.queued_at = timezone.now()
        delivery.save(update_fields=["manual_requested", "queued_at"])
        deliver.enqueue(delivery.pk)
        return delivery


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    with transaction.atomic():
        # The endpoint before the cascade deletes its deliveries: the lock order a
        # worker recording an attempt keeps (endpoint, then delivery).
        _endpoint_lock(endpoint).delete()

"""System checks for deployments (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning

# RFC 7518, section 3.2: an HMAC key at least as long as the hash (HS256: 32 bytes).
MIN_SIGNING_KEY_BYTES = 32


@register(Tags.security, deploy=True)
def jwt_signing_key_is_long_enough(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A short HMAC key lets anyone who guesses it mint tokens for any user."""
    jwt = settings.SIMPLE_JWT
    if settings.DEBUG or not str(jwt.get("ALGORITHM", "HS256")).startswith("HS"):
        return []
    length = len(str(jwt["SIGNING_KEY"]).encode())
    if length >= MIN_SIGNING_KEY_BYTES:
        return []
    source = "JWT_SIGNING_KEY" if settings.JWT_SIGNING_KEY_SET else "DJANGO_SECRET_KEY"
    return [
        Error(
            f"The key that signs JWTs ({source}) is {length} bytes; it must be at least "
            f"{MIN_SIGNING_KEY_BYTES}.",
            hint="Set JWT_SIGNING_KEY to a long random string, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
            id="api.E001",
        )
    ]


@register(Tags.security, deploy=True)
def webhooks_stay_on_the_public_internet(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The development allowances let any user make the service call into its own
    network (SSRF) or send signed messages in the clear."""
    if settings.DEBUG:
        return []
    allowances = [
        name
        for name in ("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "WEBHOOKS_ALLOW_HTTP")
        if getattr(settings, name)
    ]
    return [
        CheckWarning(
            f"{name} is on: webhooks may "
            + ("reach loopback and private addresses." if "PRIVATE" in name else "use plain http.")
            + " It is meant for development.",
            hint=f"Unset {name} in production.",
            id="api.W001" if "PRIVATE" in name else "api.W002",
        )
        for name in allowances
    ]

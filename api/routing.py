"""WebSocket routes, behind the check that keeps other sites' pages out."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import ParseResult, urlparse

from channels.routing import URLRouter
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.db import DatabaseError
from django.urls import path, re_path
from redis.exceptions import RedisError

from api.consumers import NotificationConsumer

logger = logging.getLogger(__name__)

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
    # Refused at the handshake rather than raising "No route found" in the server log.
    re_path(r"", WebsocketDenier.as_asgi()),
]


class BrowserOriginValidator(OriginValidator):
    """Refuses a browser page from a host outside ALLOWED_HOSTS; admits clients without Origin.

    Browsers always send Origin on a WebSocket handshake, and it is the only thing that
    stops another site's page from opening a socket in its visitor's name (cross-site
    WebSocket hijacking). Clients that send none (mobile apps, command-line tools) are
    not browsers, cannot be steered by another site, and still need a valid token, so
    they are let through; Channels' AllowedHostsOriginValidator would refuse them.
    """

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        # Channels parses Origin with urlparse, which raises ValueError for a malformed
        # one ("http://[") and turned the handshake into an HTTP 500: refused instead.
        for name, value in scope.get("headers", []):
            if name == b"origin" and not _parses(value.decode("latin1")):
                return await WebsocketDenier()(scope, receive, send)
        return await super().__call__(scope, receive, send)

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)


def _parses(origin: str) -> bool:
    try:
        parsed = urlparse(origin)
        parsed.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        return False
    return True


# RFC 6455's "try again later": the database or Redis does not answer (spec/asyncapi.yaml).
CLOSE_TRY_AGAIN_LATER = 1013
# What an outage raises on the way: the database driver's errors, Redis', and a socket's.
OUTAGES = (DatabaseError, RedisError, OSError)


class OutageGuard:
    """Closes the socket with 1013 when the database or Redis fails during a connection.

    Channels asks the channel layer for the socket's channel before the consumer's
    ``connect`` runs, and the consumer reads the user from the database: with either
    down, the exception reached the server, which answered the handshake with an HTTP
    500. Accepted first when it was not yet, since only an open socket carries a code.
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        sent: set[str] = set()

        async def tracked(message: dict[str, Any]) -> None:
            sent.add(message["type"])
            await send(message)

        try:
            await self.application(scope, receive, tracked)
        except OUTAGES:
            logger.exception("WebSocket closed with 1013: a dependency does not answer")
            if "websocket.close" in sent:
                return
            if "websocket.accept" not in sent:
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})


def websocket_application() -> Any:
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        # As Channels' AllowedHostsOriginValidator does for a development server.
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return OutageGuard(BrowserOriginValidator(URLRouter(websocket_urlpatterns), allowed_hosts))

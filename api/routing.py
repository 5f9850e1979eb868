"""WebSocket routes, behind the check that keeps other sites' pages out."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult, urlparse

from channels.routing import URLRouter
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.urls import path, re_path

from api.consumers import NotificationConsumer

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


def websocket_application() -> Any:
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        # As Channels' AllowedHostsOriginValidator does for a development server.
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(URLRouter(websocket_urlpatterns), allowed_hosts)

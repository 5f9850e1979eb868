"""One ASGI application: HTTP to Django, WebSockets to Channels, on the same port."""

from __future__ import annotations

import os

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Sets Django up; the WebSocket routes import models, so they come after.
http_application = get_asgi_application()

from api.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": http_application, "websocket": websocket_application()})

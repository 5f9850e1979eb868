"""One ASGI application: HTTP to Django, WebSockets to Channels, on the same port.

HTTP goes through Django's WSGI handler on a fixed pool of threads (a2wsgi), not
through Django's ASGI handler: every view is synchronous, and the ASGI handler runs
each request in a thread made for it, which bench/ measured at less than two thirds of
the throughput of the same views on long-lived threads.
"""

from __future__ import annotations

import os
from typing import cast

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi_typing import WSGIApp
from channels.routing import ProtocolTypeRouter
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Sets Django up; the WebSocket routes import models, so they come after.
wsgi_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from api.rest.wsgi import ChunkedBodyMiddleware  # noqa: E402
from api.routing import websocket_application  # noqa: E402

http_application = WSGIMiddleware(
    cast("WSGIApp", ChunkedBodyMiddleware(wsgi_application)), workers=settings.HTTP_THREADS
)

application = ProtocolTypeRouter({"http": http_application, "websocket": websocket_application()})

"""The WebSocket that pushes notifications to a signed-in user's open apps."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from api.notifications import user_group
from api.rest.authentication import BearerAuthentication

# The 4000-4999 range is the application's; 4401 reads as HTTP's 401: get a new access
# token (POST /api/token/refresh/) and connect again.
CLOSE_UNAUTHORIZED = 4401


@database_sync_to_async
def authenticate(raw_token: str) -> tuple[Any, Token] | None:
    """The user and token for a valid access token of an active user, else None.

    simplejwt's own checks, as for the HTTP API: signature, expiry, token type (a refresh
    token is refused), and a user that still exists and is active.
    """
    authentication = BearerAuthentication()
    try:
        token = authentication.get_validated_token(raw_token.encode())
        return authentication.get_user(token), token
    except AuthenticationFailed:
        return None


class NotificationConsumer(AsyncWebsocketConsumer):
    """Sends the user's notifications; everything the client sends is ignored."""

    expiry: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        query = parse_qs(self.scope["query_string"].decode("latin-1"))
        authenticated = await authenticate(query.get("token", [""])[0])
        if authenticated is None:
            # Accept, then close: a close before the handshake completes reaches the client
            # as an HTTP 403 without a close code, and 4401 is what tells it to refresh.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        user, token = authenticated
        # Join before accepting, so that once the client sees the socket open, every
        # notification committed from then on reaches it.
        group = user_group(user.pk)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)
        await self.accept()
        # A socket lives no longer than the token that opened it: a user deactivated or
        # logged out stops receiving within one access-token lifetime.
        self.expiry = asyncio.create_task(self._close_at(token["exp"]))

    async def _close_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.close(code=CLOSE_UNAUTHORIZED)

    async def disconnect(self, code: int) -> None:
        if self.expiry is not None:
            self.expiry.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Ignored: the socket only pushes, and nothing a client sends is needed or trusted."""

    async def invitation_received(self, message: dict[str, Any]) -> None:
        await self._forward(message)

    async def invitation_answered(self, message: dict[str, Any]) -> None:
        await self._forward(message)

    async def waiting_list_offered(self, message: dict[str, Any]) -> None:
        await self._forward(message)

    async def _forward(self, message: dict[str, Any]) -> None:
        # The channel layer's message is the client's message, as spec/asyncapi.yaml says.
        await self.send(text_data=json.dumps(message))

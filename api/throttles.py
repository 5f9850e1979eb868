from __future__ import annotations

import hashlib

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from api.models import User
from api.selectors import event_creation_wait


class EventCreationThrottle(BaseThrottle):
    """Refuses a creation early, before validation, when the rolling limit is reached.

    This is only the early answer (429 comes before 400); the exact count is enforced
    again under a lock by ``services.event_create``, from the database, so it holds
    across processes, restarts and concurrent requests.
    """

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        if not isinstance(request.user, User):
            # IsAuthenticated, checked before throttles, refuses the anonymous.
            return True
        self._wait = event_creation_wait(user=request.user)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class LoginUsernameThrottle(SimpleRateThrottle):
    """Limits password guesses against one account, from any number of addresses."""

    scope = "login_username"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        # The login form turns numbers into strings, so "12345" and 12345 are one account.
        if isinstance(username, (int, float)) and not isinstance(username, bool):
            username = str(username)
        if not isinstance(username, str) or not username.strip():
            return None
        # Hashed: usernames may hold any character (even a lone surrogate, which the
        # serializer refuses later), cache keys should not.
        digest = hashlib.sha256(
            username.strip().lower().encode("utf-8", "surrogatepass")
        ).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class LoginAddressThrottle(SimpleRateThrottle):
    """Limits guesses from one client address, across accounts (NUM_PROXIES decides it)."""

    scope = "login_address"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignUpThrottle(LoginAddressThrottle):
    """Limits account creation from one client address."""

    scope = "sign_up"

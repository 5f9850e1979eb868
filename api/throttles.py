from __future__ import annotations

import hashlib

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from api.identities import identity_key
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


class FailureThrottle(SimpleRateThrottle):
    """A limit on failures only: ``allow_request`` checks the window without adding to it,
    and the view calls ``record`` for an attempt that failed. Counting every attempt let
    anyone lock a user out (ten wrong passwords a minute and the right one got 429) and
    counted an office's successful logins against it."""

    num_requests: int
    duration: int

    def throttle_success(self) -> bool:
        return True

    def failures(self, request: Request, view: APIView) -> list[float]:
        """The failures in the window, newest first."""
        key = self.get_cache_key(request, view)
        if key is None or self.rate is None:
            return []
        now = self.timer()
        return [moment for moment in self.cache.get(key, []) if moment > now - self.duration]

    def record(self, request: Request, view: APIView) -> None:
        key = self.get_cache_key(request, view)
        if key is None or self.rate is None:
            return
        # The newest failures up to the limit are all a decision needs (and all DRF's
        # wait() expects); failures beyond a ceiling must not grow the entry.
        history = [self.timer(), *self.failures(request, view)][: self.num_requests]
        self.cache.set(key, history, self.duration)


def _account(request: Request) -> str | None:
    """The username a login names, as the limits key it: hashed, its identity key (as
    the account is found: api.identities), or None for no username at all."""
    username = request.data.get("username") if isinstance(request.data, dict) else None
    if not isinstance(username, str) or not username.strip():
        return None
    # Hashed: usernames may hold any character (even a lone surrogate, which the
    # serializer refuses later), cache keys should not.
    key = identity_key(username.strip())
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class LoginUsernameThrottle(FailureThrottle):
    """Failed logins for one account from one client address: the lock a guesser meets,
    which the account's owner, elsewhere, does not (OWASP's authentication cheat sheet;
    django-axes' username-and-address combination)."""

    scope = "login_username"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        account = _account(request)
        if account is None:
            return None
        ident = f"{account}:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginAccountThrottle(FailureThrottle):
    """A ceiling on failed logins for one account from all addresses together, against
    guessing spread over many addresses. Past it, the addresses that failed for the
    account are refused; one that has not (its owner's) still logs in, and a failure
    from it counts like any other."""

    scope = "login_account"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        account = _account(request)
        if account is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": account}

    def allow_request(self, request: Request, view: APIView) -> bool:
        if super().allow_request(request, view):
            return True
        return not LoginUsernameThrottle().failures(request, view)


class AddressThrottle(SimpleRateThrottle):
    """Keyed by the client address (NUM_PROXIES decides it)."""

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginAddressThrottle(FailureThrottle, AddressThrottle):
    """Failed logins from one client address, across accounts."""

    scope = "login_address"


class PasswordResetThrottle(AddressThrottle):
    """Limits reset mails asked for from one client address: every attempt counts."""

    scope = "password_reset"


class SignUpThrottle(AddressThrottle):
    """Limits account creation from one client address: every attempt counts."""

    scope = "sign_up"

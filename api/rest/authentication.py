"""Bearer-token authentication: simplejwt's, with every failure a 401 of a known code.

The codes an operation's 401 can carry are listed in the spec from ``FAILURES`` (and
``NotAuthenticated`` where credentials are required), so each failure has its class.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from api.ids import MAX_ID, MAX_ID_DIGITS

SCHEME = "bearer"


class BadAuthorizationHeader(exceptions.AuthenticationFailed):
    default_code = "bad_authorization_header"
    default_detail = "The Authorization header must be 'Bearer <access token>'."


class UserNotFound(exceptions.AuthenticationFailed):
    default_code = "user_not_found"
    default_detail = "The token's user no longer exists."


class UserInactive(exceptions.AuthenticationFailed):
    default_code = "user_inactive"
    default_detail = "The token's user is deactivated."


# Every 401 a request carrying an Authorization header can earn.
FAILURES: tuple[type[exceptions.APIException], ...] = (
    BadAuthorizationHeader,
    InvalidToken,
    UserNotFound,
    UserInactive,
)


class BearerAuthentication(JWTAuthentication):
    """simplejwt's JWT authentication, stricter where it was lax:

    - the scheme is case-insensitive (RFC 9110, section 11.1): ``bearer <token>`` is a
      bearer token, and any other header is named malformed, where simplejwt ignored it
      and answered "credentials were not provided";
    - only an id in range is looked up: a ``user_id`` of letters, a list or a number past
      64 bits raised inside the ORM (a 500), though only a token signed with our key can
      carry one;
    - each failure raises its own class (``FAILURES``), which the spec lists.
    """

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        header = request.META.get(api_settings.AUTH_HEADER_NAME)
        if header is None:
            return None
        scheme, _, raw_token = str(header).strip().partition(" ")
        raw_token = raw_token.strip()
        if scheme.lower() != SCHEME or not raw_token or " " in raw_token:
            raise BadAuthorizationHeader()
        validated_token = self.get_validated_token(raw_token.encode())
        return self.get_user(validated_token), validated_token

    def get_user(self, validated_token: Token) -> Any:
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if not _is_id(user_id):
            raise InvalidToken("The token does not name a user.")
        try:
            return super().get_user(validated_token)
        except exceptions.AuthenticationFailed as error:
            code = error.get_codes()
            if code == UserNotFound.default_code:
                raise UserNotFound() from error
            if code == UserInactive.default_code:
                raise UserInactive() from error
            raise


def _is_id(value: object) -> bool:
    # simplejwt writes the id as a string; an integer is accepted as well.
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 1 <= value <= MAX_ID
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        return False
    # Bounded before int(): Python refuses to convert more than 4,300 digits (ValueError).
    return len(value) <= MAX_ID_DIGITS + 1 and 0 < int(value) <= MAX_ID

"""Bearer-token authentication: simplejwt's, with every malformed claim a 401."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from api.ids import MAX_ID, MAX_ID_DIGITS


class BearerAuthentication(JWTAuthentication):
    """simplejwt looks the user up with whatever the token's ``user_id`` holds: a string
    of letters, a list or a number past 64 bits raise inside the ORM (a 500). Only a
    token signed with our key can carry one, but a 500 is a 500: such a token is
    invalid, like any other that does not name a user."""

    def get_user(self, validated_token: Token) -> Any:
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if not _is_id(user_id):
            raise InvalidToken("The token does not name a user.")
        return super().get_user(validated_token)


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

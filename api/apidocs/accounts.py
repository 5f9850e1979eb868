"""Sign-up, login, token refresh, logout and the caller's account."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework_simplejwt.exceptions import InvalidToken

from api.apidocs.responses import errors
from api.rest.authentication import UserInactive, UserNotFound
from api.serializers import (
    AccountSerializer,
    LogoutSerializer,
    RefreshSerializer,
    SignUpSerializer,
    TokenPairSerializer,
    WrongCredentials,
)

# A body that succeeds as it stands (a test signs it up and logs in with it).
ACCOUNT_EXAMPLE = OpenApiExample(
    "A new account",
    value={
        "username": "ada",
        "email": "ada@example.org",
        "password": "analytical-engine-1843",
    },
    request_only=True,
)

sign_up = extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_register",
        summary="Create an account",
        description="Usernames and emails are unique regardless of case. Django's password "
        "validators apply (length, similarity to the username, common and numeric passwords), "
        "and a password of only whitespace is refused.",
        request=SignUpSerializer,
        examples=[ACCOUNT_EXAMPLE],
        responses={201: AccountSerializer, **errors(400, 429)},
    )
)

login = extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_login",
        summary="Obtain a JWT pair",
        description="Failed attempts are limited (429): 10 a minute for one username from "
        "one client address, 30 a minute from one address, and 100 an hour for one username "
        "from all addresses, past which only addresses that have not failed for it may try. "
        "Successful logins do not count, so guessing cannot lock the owner out.",
        examples=[
            OpenApiExample(
                "The account signed up",
                value={k: ACCOUNT_EXAMPLE.value[k] for k in ("username", "password")},
                request_only=True,
            )
        ],
        responses={
            200: TokenPairSerializer,
            **errors(400, 401, 429, raises=[WrongCredentials], s401="Wrong username or password."),
        },
    )
)

refresh = extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_token_refresh",
        summary="Rotate a refresh token",
        description="Returns a new access token and a new refresh token. The refresh token "
        "sent is redeemed and works once: presenting it again, or in two requests at once, "
        "ends the whole session (every refresh token rotated from the same login stops "
        "working, the new one included) and the client must log in again. Only one of "
        "concurrent refreshes with one token succeeds.",
        request=RefreshSerializer,
        responses={
            200: TokenPairSerializer,
            **errors(
                400,
                401,
                raises=[InvalidToken, UserNotFound, UserInactive],
                s401="The refresh token is invalid, expired, already used, or its session ended.",
            ),
        },
    )
)

logout = extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_logout",
        summary="Log out",
        description="Ends the session of the refresh token sent: it and every refresh token "
        "rotated from the same login stop working, including one issued by a refresh racing "
        "this logout. Access tokens already issued stay valid until they expire (10 minutes "
        "by default).",
        request=LogoutSerializer,
        responses={204: OpenApiResponse(description="Logged out."), **errors(400, 401)},
    )
)

me = extend_schema_view(
    get=extend_schema(
        tags=["auth"],
        operation_id="auth_me",
        summary="The caller's account",
        responses={200: AccountSerializer, **errors(401)},
    )
)

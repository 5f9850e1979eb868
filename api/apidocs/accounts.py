"""Sign-up, login, token refresh, logout and the caller's account."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework_simplejwt.exceptions import InvalidToken

from api.apidocs.responses import errors
from api.exceptions import HostsEvents
from api.rest.authentication import UserInactive, UserNotFound
from api.serializers import (
    AccountDeleteSerializer,
    AccountSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
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
        description="Usernames and emails are unique as people read them: compared after "
        "Unicode NFKC and case folding, so `straße` and `STRASSE`, `Ärger` and `ärger` are "
        "one name (400 `unique`). A username that mixes scripts with characters that imitate "
        "each other, or that looks like a taken one, is refused (400 `confusable`). Login "
        "finds the account by the same comparison. Django's password "
        "validators apply (length, similarity to the username, common and numeric passwords), "
        "and a password of only whitespace is refused.\n\n"
        "A taken username or email is a 400 (`unique`) naming the field, so sign-up tells "
        "whether an email has an account, as most services' sign-up does; sign-ups are "
        "limited per client address (20 an hour, an address the client cannot pick), which "
        "bounds how fast anyone can ask. Login and password reset tell nothing: a wrong "
        "password and an unknown username are the same 401, in the same time.",
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

SESSIONS_END = (
    "Every session of the account ends: all its refresh tokens stop working. Access tokens "
    "already issued stay valid until they expire (10 minutes by default)."
)

me = extend_schema_view(
    get=extend_schema(
        tags=["auth"],
        operation_id="auth_me",
        summary="The caller's account",
        responses={200: AccountSerializer, **errors(401)},
    ),
    delete=extend_schema(
        tags=["auth"],
        operation_id="auth_me_delete",
        summary="Delete your account",
        description="Needs your password. Deletes the account with your registrations, the "
        "invitations you sent and received, and the feedback you left on others' events. "
        "Refused (409 `hosts_events`) while you host events: delete each first, which "
        "deletes its participants, invitations and feedback, so nothing of others' "
        "vanishes without you seeing it. " + SESSIONS_END,
        request=AccountDeleteSerializer,
        responses={
            204: OpenApiResponse(description="Deleted."),
            **errors(400, 401, 409, conflicts=[HostsEvents], s400="The password is wrong."),
        },
    ),
)

password_change = extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_password_change",
        summary="Change your password",
        description="Needs the current password; the new one meets the same validators as at "
        "sign-up. " + SESSIONS_END + " Log in again with the new password.",
        request=PasswordChangeSerializer,
        responses={
            204: OpenApiResponse(description="Changed."),
            **errors(400, 401, s400="current_password is wrong, or new_password is too weak."),
        },
    )
)

password_reset = extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_password_reset",
        summary="Ask for a password reset mail",
        description="Always 202, whether or not an account has this email, so the answer "
        "tells nobody who has one. The account's owner gets a mail with a reset token that "
        "works once, for one hour by default (PASSWORD_RESET_TIMEOUT). Limited per client "
        "address.",
        request=PasswordResetSerializer,
        examples=[
            OpenApiExample(
                "The account signed up",
                value={"email": ACCOUNT_EXAMPLE.value["email"]},
                request_only=True,
            )
        ],
        responses={202: OpenApiResponse(description="Accepted."), **errors(400, 429)},
    )
)

password_reset_confirm = extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_password_reset_confirm",
        summary="Set a new password with a reset token",
        description="The token from the mail, once; the new password meets the sign-up "
        "validators. " + SESSIONS_END,
        request=PasswordResetConfirmSerializer,
        responses={
            204: OpenApiResponse(description="Changed."),
            **errors(
                400,
                429,
                s400="The token is invalid, expired or already used, or new_password is too weak.",
            ),
        },
    )
)

"""Login sessions: refresh-token families, redeemed once each, revoked as a whole.

A login starts a family (``TokenFamily``) and every refresh token carries its id. A
refresh locks the family row, refuses a revoked family, and writes the token's ``jti``
as a primary key before it issues the new pair: of any number of concurrent refreshes
with one token, exactly one can write it, and the rest are reuse. Reuse revokes the
family, so the pair the winner got stops refreshing as well (OAuth 2.0 Security BCP,
section 4.14: the server cannot tell the legitimate client from the thief). Logout
revokes the family under the same lock, so nothing issued before it commits survives.

Refresh tokens issued before families existed carry no family claim; they are still
checked against simplejwt's blacklist (which ``RefreshToken`` does on decoding), and
their first refresh starts a family.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from api import checkpoints
from api.models import RedeemedRefreshToken, TokenFamily, User
from api.rest.authentication import BearerAuthentication

FAMILY_CLAIM = "fam"
REVOKED = "This session has ended: it was logged out, or its refresh token was used twice."
REUSED = "This refresh token was already used; the session is revoked."


def start(user: User) -> RefreshToken:
    """A refresh token for a new login of ``user`` (its access token: ``.access_token``)."""
    family = TokenFamily.objects.create(user=user)
    return _issue(user, family)


def rotate(raw_token: str) -> RefreshToken:
    """Redeem a refresh token for a new one in the same family; 401 unless it is the
    first redemption of a live token of an active user."""
    token, user = _decode(raw_token)
    with transaction.atomic():
        family = _family_locked(token, user)
        checkpoints.reached(checkpoints.REFRESH_FAMILY_LOCKED)
        if family.revoked_at is not None:
            raise InvalidToken(REVOKED)
        if _redeem(token, family):
            return _issue(user, family)
        family.revoked_at = timezone.now()
        family.save(update_fields=["revoked_at"])
    # Raised after the block, so that the revocation commits.
    raise InvalidToken(REUSED)


def end(raw_token: str, user: User) -> None:
    """Log out: revoke the family of ``raw_token``, which must belong to ``user``."""
    token, owner = _decode(raw_token)
    if owner.pk != user.pk:
        raise InvalidToken("This refresh token belongs to another user.")
    with transaction.atomic():
        family = _family_locked(token, owner)
        if family.revoked_at is None:
            family.revoked_at = timezone.now()
            family.save(update_fields=["revoked_at"])
    if FAMILY_CLAIM not in token:
        # A token from before families: the blacklist is what its decoding checks.
        token.blacklist()


def end_all(user: User) -> None:
    """End every session of ``user``: after a password change, reset or account deletion."""
    TokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    # Tokens from before families are checked against the blacklist only.
    for outstanding in OutstandingToken.objects.filter(user=user):
        BlacklistedToken.objects.get_or_create(token=outstanding)


def _decode(raw_token: str) -> tuple[RefreshToken, User]:
    try:
        token = RefreshToken(raw_token)  # type: ignore[arg-type]
    except TokenError as error:
        raise InvalidToken(str(error)) from error
    user = BearerAuthentication().get_user(token)
    return token, user


def _family_locked(token: RefreshToken, user: User) -> TokenFamily:
    family_id = token.get(FAMILY_CLAIM)
    if family_id is None:
        return TokenFamily.objects.create(user=user)
    try:
        family = TokenFamily.objects.select_for_update().filter(pk=family_id, user=user).first()
    except (ValidationError, ValueError, TypeError) as error:
        # Not a UUID: only a token signed with our key can carry it, still a 401.
        raise InvalidToken(REVOKED) from error
    if family is None:
        raise InvalidToken(REVOKED)
    return family


def _redeem(token: RefreshToken, family: TokenFamily) -> bool:
    """Mark ``token`` redeemed; False if it already was (the primary key says so)."""
    try:
        with transaction.atomic():
            RedeemedRefreshToken.objects.create(
                jti=token[api_settings.JTI_CLAIM],
                family=family,
                expires_at=datetime.fromtimestamp(token["exp"], tz=UTC),
            )
    except IntegrityError:
        return False
    return True


def _issue(user: User, family: TokenFamily) -> RefreshToken:
    token = RefreshToken.for_user(user)
    token[FAMILY_CLAIM] = str(family.pk)
    return token

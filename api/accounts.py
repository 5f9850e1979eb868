"""The account lifecycle: changing a password, resetting a forgotten one by email, and
deleting the account. Each ends every session of the user (``sessions.end_all``).

Rules that read and write the user's row lock it first, in the one lock order of
``api.services`` (user, then event, ...).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework.exceptions import ErrorDetail, ValidationError

from api import checkpoints, sessions, waiting_list
from api.exceptions import HostsEvents
from api.identities import identity_key
from api.models import Event, EventParticipant, User, WaitingListEntry, WebhookEndpoint

logger = logging.getLogger(__name__)

WRONG_PASSWORD = "The password is wrong."
BAD_RESET_TOKEN = "This reset token is invalid, expired or already used."


def _locked_user(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


def _check_password(user: User, password: str, field: str) -> None:
    if not user.check_password(password):
        raise ValidationError({field: [ErrorDetail(WRONG_PASSWORD, code="invalid")]})


def password_change(*, user: User, current_password: str, new_password: str) -> None:
    """Set a new password and end every session, the caller's included."""
    with transaction.atomic():
        locked = _locked_user(user)
        _check_password(locked, current_password, "current_password")
        locked.set_password(new_password)
        locked.save(update_fields=["password"])
        sessions.end_all(locked)


def account_delete(*, user: User, password: str) -> None:
    """Delete the account with its registrations, invitations and own feedback; refused
    while it hosts events, whose participants and feedback would go with them unseen:
    the host deletes each event first (DELETE /api/events/{id}/ says what goes)."""
    with transaction.atomic():
        locked = _locked_user(user)
        _check_password(locked, password, "password")
        if Event.objects.filter(host=locked).exists():
            raise HostsEvents()
        # The events whose seats the cascade frees (a registration, an offer's held
        # seat), locked in order of id after the user, as every writer of their rows
        # does: the seats are then offered to their waiting lists in this transaction.
        registered = EventParticipant.objects.filter(user=locked).values("event_id")
        offered = WaitingListEntry.objects.filter(
            user=locked, status=WaitingListEntry.Status.OFFERED
        ).values("event_id")
        freed = list(
            Event.objects.select_for_update()
            .filter(Q(pk__in=registered) | Q(pk__in=offered))
            .order_by("pk")
        )
        # Endpoints before the cascade reaches their deliveries: the lock order of
        # api.webhooks (endpoint, then delivery), which a worker recording an attempt keeps.
        list(WebhookEndpoint.objects.select_for_update().filter(owner=locked).values_list("pk"))
        locked.delete()
        for event in freed:
            waiting_list.advance(event)


def reset_token(user: User) -> str:
    """A single-use token: Django's, which hashes the password and last login, so it
    stops working once the password changes; it expires after PASSWORD_RESET_TIMEOUT."""
    uid = urlsafe_base64_encode(str(user.pk).encode())
    return f"{uid}.{default_token_generator.make_token(user)}"


def password_reset_request(*, email: str) -> None:
    """Mail a reset token to the active account with this email, if there is one. The
    caller answers the same either way, so the answer tells nobody who has an account."""
    user = User.objects.filter(email_key=identity_key(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    token = reset_token(user)
    link = settings.PASSWORD_RESET_URL.format(token=token) if settings.PASSWORD_RESET_URL else ""
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    body = (
        f"Someone asked to reset the password of the account {user.username}.\n\n"
        f"Reset token (valid for {minutes} minutes, once): {token}\n"
        + (f"Or open: {link}\n" if link else "")
        + "\nPOST it with a new password to /api/password-reset/confirm/. If you did not "
        "ask for this, ignore this message: your password stays as it is.\n"
    )
    try:
        send_mail("Reset your password", body, None, [user.email])
    except OSError as error:
        # The answer stays 202: a failure only for existing addresses would tell.
        logger.error("Password reset mail to user %s not sent: %s", user.pk, error)


def password_reset_confirm(*, token: str, new_password: str) -> None:
    """Set the password named by a reset token and end every session."""
    uid, _, secret = token.partition(".")
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, UnicodeDecodeError):
        user_id = 0  # no user has it
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        checkpoints.reached(checkpoints.RESET_USER_LOCKED)
        # Checked under the lock: two confirmations of one token cannot both pass.
        if user is None or not default_token_generator.check_token(user, secret):
            raise ValidationError({"token": [ErrorDetail(BAD_RESET_TOKEN, code="invalid")]})
        user.set_password(new_password)
        user.save(update_fields=["password"])
        sessions.end_all(user)

"""Password rules beyond Django's own validators (AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class NotOnlyWhitespaceValidator:
    """128 spaces pass every validator Django ships (long enough, not common, not
    numeric, like no username) yet are no secret: a password needs a visible character."""

    def validate(self, password: str, user: Any = None) -> None:
        if not password.strip():
            raise ValidationError(
                "The password cannot be only whitespace.", code="password_only_whitespace"
            )

    def get_help_text(self) -> str:
        return "Your password must contain a character other than whitespace."

"""Bearer tokens signed with the real key but carrying malformed claims: always a 401.

Only someone holding the signing key can make one, so this is not an attack surface;
but a 500 is a 500, and simplejwt passed whatever ``user_id`` held to the ORM.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from api.models import User
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


# A claim left out of the token altogether.
MISSING = object()


def signed(**claims: Any) -> str:
    now = datetime.now(UTC)
    payload = {
        "token_type": "access",
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "iat": int(now.timestamp()),
        "jti": "a" * 32,
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not MISSING}
    return jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"user_id": "abc"},
        {"user_id": "1.5"},
        {"user_id": "-1"},
        {"user_id": "0"},
        {"user_id": ""},
        {"user_id": "\u0661"},  # an Arabic-Indic digit one: Python's int() takes it
        {"user_id": "9" * 40},
        {"user_id": "9" * 5000},  # past the 4,300 digits int() converts
        {"user_id": 2**70},
        {"user_id": ["1"]},
        {"user_id": {"id": 1}},
        {"user_id": None},
        {"user_id": True},
        {"user_id": 1.0},
        {"user_id": MISSING},
        {"user_id": "1", "token_type": MISSING},
        {"user_id": "1", "token_type": "refresh"},
        {"user_id": "1", "token_type": ["access"]},
        {"user_id": "1", "exp": "tomorrow"},
        {"user_id": "1", "exp": MISSING},
        {"user_id": "1", "jti": MISSING},
    ],
    ids=lambda claims: ",".join(
        f"{name}=missing" if value is MISSING else f"{name}={value!r}"[:40]
        for name, value in claims.items()
    ),
)
def test_a_token_with_malformed_claims_is_401(alice: User, claims: dict[str, Any]) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed(**claims)}")

    response = client.get("/api/me/")

    assert_problem(response, 401, response.json()["code"])
    assert response.json()["code"] in {"token_not_valid", "authentication_failed"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_well_formed_token_of_the_same_shape_signs_in(alice: User) -> None:
    # The control: the same construction with a proper user id is accepted.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed(user_id=str(alice.pk))}")

    response = client.get("/api/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "alice"

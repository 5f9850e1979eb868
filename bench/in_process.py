"""Django in the bench's own process, for what a server cannot report from outside.

Queries per request are counted with the test client on the main database, and access
tokens are minted for seeded users without a login request per client.
"""

from __future__ import annotations

import os
import sys

from bench.common import HOST, ROOT


def setup_django(env: dict[str, str], database_url: str) -> None:
    os.environ.update({**env, "DATABASE_URL": database_url})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def queries_per_request(paths: list[str]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    counts = {}
    for path in paths:
        client.get(path)  # the first request of a process also loads content types etc.
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code} in-process")
        counts[path] = len(captured.captured_queries)
    connection.close()
    return counts


def access_tokens(user_ids: list[int]) -> list[str]:
    from rest_framework_simplejwt.tokens import AccessToken

    from api.models import User

    return [str(AccessToken.for_user(User(id=pk, is_active=True))) for pk in user_ids]

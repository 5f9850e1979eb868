from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        from api.filters import SQLITE_CASEFOLD

        connection.connection.create_function(
            SQLITE_CASEFOLD,
            1,
            lambda value: value.casefold() if isinstance(value, str) else value,
            deterministic=True,
        )


class ApiConfig(AppConfig):
    name = "api"
    label = "api"
    verbose_name = "Event Management API"

    def ready(self) -> None:
        connection_created.connect(_register_sqlite_functions, dispatch_uid="api.sqlite_functions")
        from api import checks  # noqa: F401  (registers the deploy checks)

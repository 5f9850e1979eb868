"""The bench's own PostgreSQL databases, created, migrated and dropped by name.

Each database the bench makes is its own (its name must contain "bench"), so a typo in
--database cannot drop someone's real one.
"""

from __future__ import annotations

import re
import subprocess
import sys
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.common import ROOT


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Databases:
    """Creates and drops the bench's own databases, and only those."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return with_database(self.server_url, name)

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def exists(self, name: str) -> bool:
        with self._admin() as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return row.fetchone() is not None

    def recreate(self, name: str) -> None:
        self._check_name(name)
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        if name not in self.created:
            self.created.append(name)

    def drop(self, name: str) -> None:
        self._check_name(name)
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_created(self) -> None:
        for name in self.created:
            with suppress(psycopg.Error):
                self.drop(name)
        self.created.clear()

    @staticmethod
    def _check_name(name: str) -> None:
        # A guard against dropping someone's real database through a typo in --database.
        if not re.fullmatch(r"[a-z0-9_]*bench[a-z0-9_]*", name):
            raise SystemExit(f"refusing to create or drop {name!r}: its name lacks 'bench'")


def server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]


def migrate(url: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        check=True,
    )

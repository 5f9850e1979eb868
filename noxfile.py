"""Contributor sessions: `nox -l` lists them; plain `nox` runs what `make test` runs."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"

POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/events")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def install(session: nox.Session) -> None:
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--quiet",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and format check with ruff."""
    install(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and spec tests on the embedded default (SQLite, in-process cache)."""
    install(session)
    session.run("pytest", *session.posargs, env={"DATABASE_URL": "", "REDIS_URL": ""})


@nox.session
def tests_postgres(session: nox.Session) -> None:
    """The whole suite on PostgreSQL and Redis; marked tests may not skip."""
    install(session)
    session.run(
        "pytest",
        "--create-db",
        *session.posargs,
        env={"DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL, "REQUIRE_SERVICES": "1"},
    )


@nox.session
def spec(session: nox.Session) -> None:
    """Regenerate spec/openapi.yaml from the code (review the diff before committing)."""
    install(session)
    session.run(
        "python",
        "manage.py",
        "spectacular",
        "--file",
        "spec/openapi.yaml",
        "--validate",
        "--fail-on-warn",
        env={"DJANGO_DEBUG": "1"},
    )

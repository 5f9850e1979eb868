"""Contributor sessions: `nox -l` lists them; plain `nox` runs what `make test` runs."""

from __future__ import annotations

import os
import random

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "typecheck", "tests"]
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
def typecheck(session: nox.Session) -> None:
    """Type-check the application and its tooling with mypy and the Django/DRF stubs."""
    install(session)
    session.run(
        "mypy",
        *(
            session.posargs
            or ["api", "config", "bench", "tools", "conftest.py", "noxfile.py", "manage.py"]
        ),
        env={"DATABASE_URL": "", "REDIS_URL": "", "DJANGO_DEBUG": "1"},
    )


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


@nox.session(python=False)
def asyncapi(session: nox.Session) -> None:
    """Validate spec/asyncapi.yaml with the official AsyncAPI parser (needs node and npm)."""
    session.run(
        "npm",
        "ci",
        "--prefix",
        "spec/asyncapi",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        external=True,
    )
    session.run("node", "spec/asyncapi/validate.mjs", "spec/asyncapi.yaml", *session.posargs)


# Redocly CLI, offline: no usage telemetry, no update or announcement checks.
REDOCLY_OFFLINE = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_NOTIFICATIONS": "true",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
}


@nox.session(python=False)
def lint_spec(session: nox.Session) -> None:
    """Lint spec/openapi.yaml with Redocly CLI, zero errors and warnings (needs node and npm)."""
    session.run(
        "npm", "ci", "--quiet", "--ignore-scripts", "--no-audit", "--no-fund", external=True
    )
    session.run(
        "npx",
        "--no",
        "redocly",
        "lint",
        "spec/openapi.yaml",
        *session.posargs,
        env=REDOCLY_OFFLINE,
        external=True,
    )


@nox.session
def spec_compat(session: nox.Session) -> None:
    """Fail a breaking change to spec/openapi.yaml unless info.version and CHANGELOG.md say so."""
    install(session)
    # Uncommitted changes are compared with HEAD, otherwise HEAD with HEAD~1; posargs
    # `OLD NEW` compare two files instead.
    documents = session.posargs or ["--previous", "spec/openapi.yaml"]
    session.run("python", "tools/spec_breaking.py", *documents, "--changelog", "CHANGELOG.md")


@nox.session
def contract_live(session: nox.Session) -> None:
    """The Schemathesis command line against uvicorn (2 workers) on PostgreSQL (POSTGRES_URL)."""
    install(session)
    session.run(
        "python",
        "-m",
        "tests.contract.run_live",
        "--database-url",
        POSTGRES_URL,
        *session.posargs,
        env={"REDIS_URL": ""},
    )


@nox.session
def fuzz(session: nox.Session) -> None:
    """The contract suite with a much larger budget and a random seed, for hunting bugs."""
    install(session)
    seed = os.environ.get("CONTRACT_SEED") or str(random.randrange(2**31))
    session.log(f"CONTRACT_SEED={seed} (set it to replay this run)")
    session.run(
        "pytest",
        "tests/contract",
        *session.posargs,
        env={
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "CONTRACT_MAX_EXAMPLES": os.environ.get("CONTRACT_MAX_EXAMPLES", "500"),
            "CONTRACT_STATEFUL_EXAMPLES": os.environ.get("CONTRACT_STATEFUL_EXAMPLES", "200"),
            "CONTRACT_SEED": seed,
        },
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark against a hand-written floor on PostgreSQL (POSTGRES_URL); -- --help for modes."""
    install(session)
    session.run(
        "python",
        "-m",
        "bench",
        *session.posargs,
        env={"POSTGRES_URL": POSTGRES_URL, "TEST_REDIS_URL": REDIS_URL},
    )

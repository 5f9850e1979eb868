"""Contributor sessions: `nox -l` lists them; plain `nox` runs what `make test` runs."""

from __future__ import annotations

import os
import random
import re
import shutil
from collections import Counter
from pathlib import Path

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
def client_typescript(session: nox.Session) -> None:
    """The TypeScript client's journey against uvicorn on PostgreSQL (needs node and npm)."""
    install(session)
    session.run(
        "python",
        "-m",
        "tests.clients.run_typescript",
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


# Reviewed equivalent mutants: a table row per mutant, its name and the line it mutates to.
EQUIVALENT_MUTANTS = Path("mutants-equivalent.md")
EQUIVALENT_ROW = re.compile(r"^\| `(api\.[^`]+__mutmut_\d+)` \| `(.+?)` \|", re.MULTILINE)
KILLED = {"killed", "timeout", "caught by type check"}
SCORE_COLUMNS = ["module", "mutants", "unchecked", "killed", "survived", "equivalent", "other"]
SCORE_COLUMNS += ["killed/checked", "killed/non-equivalent"]


@nox.session
def mutants(session: nox.Session) -> None:
    """Mutation testing of the rule-bearing modules with mutmut; prints the score."""
    install(session)
    env = {"DATABASE_URL": "", "REDIS_URL": ""}
    # From scratch: mutmut keeps a verdict until the mutated function changes, so after a
    # change to the tests alone its cached kills and survivors would be stale.
    shutil.rmtree("mutants", ignore_errors=True)
    # One child by default: CI's machine has 2 cores; `-- --max-children 4` overrides it.
    session.run("mutmut", "run", "--max-children", "1", *session.posargs, env=env)
    listing = session.run("mutmut", "results", "--all", "true", env=env, silent=True)
    status = dict(
        line.strip().rsplit(": ", 1) for line in str(listing).splitlines() if "__mutmut_" in line
    )
    equivalent = dict(EQUIVALENT_ROW.findall(EQUIVALENT_MUTANTS.read_text()))
    problems = [
        f"{name} is listed as equivalent but no longer exists"
        for name in equivalent.keys() - status.keys()
    ]
    for name, mutated_line in equivalent.items():
        if status.get(name) in KILLED:
            problems.append(f"{name} is listed as equivalent but a test kills it")
        elif name in status:
            # Names are numbered per function, so an edit can give one to another mutant.
            diff = session.run("mutmut", "show", name, env=env, silent=True, log=False)
            lines = str(diff).splitlines()
            added = [line[1:] for line in lines if line[:1] == "+" and line[:3] != "+++"]
            if not any(mutated_line in line for line in added):
                problems.append(f"{name} no longer mutates to `{mutated_line}`")
    _print_mutation_score(session, status, equivalent.keys() & status.keys())
    if problems:
        session.error(f"{EQUIVALENT_MUTANTS} is stale:\n" + "\n".join(problems))


def _print_mutation_score(
    session: nox.Session, status: dict[str, str], equivalent: set[str]
) -> None:
    rows = [SCORE_COLUMNS]
    modules = sorted({name.rsplit(".", 1)[0] for name in status})
    for module in [*modules, "total"]:
        names = [n for n in status if module in ("total", n.rsplit(".", 1)[0])]
        counts = Counter(
            "killed"
            if status[n] in KILLED
            else "equivalent"
            if n in equivalent and status[n] != "not checked"
            else status[n]
            for n in names
        )
        checked = len(names) - counts["not checked"]
        killed, survived, listed = counts["killed"], counts["survived"], counts["equivalent"]
        cells = [len(names), counts["not checked"], killed, survived, listed]
        cells.append(checked - killed - survived - listed)
        rows.append(
            [module, *map(str, cells), _ratio(killed, checked), _ratio(killed, checked - listed)]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        session.log("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    if any(s == "not checked" for s in status.values()):
        session.warn("Some mutants are not checked yet (a partial run): the score is partial.")
    survivors = sorted(n for n, s in status.items() if s == "survived" and n not in equivalent)
    if survivors:
        session.log(
            f"{len(survivors)} survivors are not in {EQUIVALENT_MUTANTS}: each needs a test, or a"
            " row there with the reason it is equivalent (`mutmut show NAME` prints the diff):"
        )
        for name in survivors:
            session.log(f"  {name}")


def _ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "-"

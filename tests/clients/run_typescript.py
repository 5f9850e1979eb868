"""The TypeScript client's journey against a real server process: types generated from
the checked-in spec by openapi-typescript, calls made by openapi-fetch.

    python -m tests.clients.run_typescript [--database-url URL] [--spec PATH]

Installs clients/typescript's pinned packages (npm ci), generates the types, type-checks
and compiles clients/typescript/journey.ts with tsc, starts uvicorn on a fresh database
(PostgreSQL when --database-url or DATABASE_URL names one, else a SQLite file) and runs
the journey against it. Exits non-zero when any stage or step fails. Needs Node 20+ and
npm, and the npm registry on the first `npm ci`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"
SPEC = ROOT / "spec" / "openapi.yaml"


class StageFailed(Exception):
    pass


def report(stage: str, started: float) -> None:
    print(f"[{time.monotonic() - started:5.1f} s] {stage}", flush=True)


def run(stage: str, command: list[str], env: Mapping[str, str] | None = None) -> None:
    started = time.monotonic()
    status = subprocess.run(command, cwd=CLIENT, env=env, check=False).returncode
    report(stage, started)
    if status != 0:
        raise StageFailed(f"{stage} failed ({' '.join(command)} exited {status})")


def build(spec: Path) -> None:
    """Everything up to a runnable build/journey.js: no server is needed for it."""
    run("npm ci", ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--quiet"])
    # After `--` every argument is the tool's: npx would take `-p` for its own --package.
    generate = ["openapi-typescript", str(spec), "--output", "generated/schema.d.ts"]
    run("generate the types", ["npx", "--no", "--", *generate])
    run("type-check", ["npx", "--no", "--", "tsc", "--noEmit", "--strict", "--project", "."])
    # Checked once, just above: the emit need not check again (half the build's time).
    run("compile", ["npx", "--no", "--", "tsc", "--noCheck", "--project", "."])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server to create a fresh database on; empty: a SQLite file",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        default=SPEC,
        help="the OpenAPI document to generate the types from, e.g. a candidate spec",
    )
    args = parser.parse_args(argv)

    began = time.monotonic()
    try:
        build(args.spec.resolve())
        starting = time.monotonic()
        with live_server(database_url=args.database_url) as server:
            database = "PostgreSQL" if server.sqlite_path is None else "SQLite"
            report(f"start the server on {server.url} ({database})", starting)
            try:
                journey = ["node", "build/journey.js"]
                run("the journey", journey, env={**os.environ, "API_URL": server.url})
            except StageFailed:
                print(f"\nServer log ({server.log_path}):\n{server.log()[-5000:]}")
                raise
    except StageFailed as failure:
        print(f"{failure}; {time.monotonic() - began:.1f} s in all", file=sys.stderr)
        return 1
    print(f"The TypeScript client passed in {time.monotonic() - began:.1f} s in all.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

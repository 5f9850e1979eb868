"""The Schemathesis command line against a real server process: what ships is what is
proven, over real sockets, with two uvicorn workers.

    python -m tests.contract.run_live [--database-url URL] [--server-workers N] [SCHEMATHESIS ARGS]

Starts uvicorn on a fresh database (PostgreSQL when --database-url or DATABASE_URL names
one, else a SQLite file), signs a user up through the API for a real JWT, and runs
`schemathesis run` on the checked-in spec with every check and every phase, stateful
included. schemathesis.toml (the seed, the example budget and the reviewed narrowings)
is shared with the in-process suite; other arguments go to `schemathesis run`, e.g.
`--max-examples 50` or `--seed 1`. Exits with Schemathesis' status.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "openapi.yaml"
CONFIG = ROOT / "schemathesis.toml"

# Generated requests create many events, sign up and log in often, all from one
# address; the limits have their own tests (tests/unit/api/test_throttling.py) and here
# would only turn answers into 429s. Tokens outlive the run.
SERVER_ENV = {
    "EVENT_CREATION_LIMIT": "1000000",
    "LOGIN_THROTTLE_USERNAME_RATE": "1000000/min",
    "LOGIN_THROTTLE_ADDRESS_RATE": "1000000/min",
    "REGISTRATION_THROTTLE_RATE": "1000000/min",
    "JWT_ACCESS_MINUTES": "120",
}
ACCOUNT = {"username": "contract", "email": "contract@example.org", "password": "c0ntract-Pass!"}


def post_json(url: str, body: dict[str, str]) -> dict[str, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def access_token(base_url: str) -> str:
    """A real JWT, obtained the way a client gets one: register, then log in."""
    post_json(f"{base_url}/api/register/", ACCOUNT)
    credentials = {"username": ACCOUNT["username"], "password": ACCOUNT["password"]}
    return post_json(f"{base_url}/api/login/", credentials)["access"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server to create a fresh database on; empty: a SQLite file",
    )
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn processes")
    args, schemathesis_args = parser.parse_known_args(argv)

    with live_server(
        workers=args.server_workers, database_url=args.database_url, env=SERVER_ENV
    ) as server:
        database = "PostgreSQL" if server.sqlite_path is None else "SQLite"
        print(f"Server on {server.url} ({args.server_workers} workers, {database})", flush=True)
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(CONFIG),
            "run",
            str(SPEC),
            "--url",
            server.url,
            "--header",
            f"Authorization: Bearer {access_token(server.url)}",
            # Every check runs by default; naming them (`--checks all`) would outrank the
            # per-operation narrowings in the config file.
            "--phases",
            "examples,coverage,fuzzing,stateful",
            # Examples found on one machine are not replayed on the next: CI and a
            # reviewer's run see the same cases for the same seed.
            "--generation-database",
            "none",
            *schemathesis_args,
        ]
        hooks = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.live_hooks"}
        status = subprocess.run(command, cwd=ROOT, env=hooks, check=False).returncode
        if status != 0:
            print(f"\nServer log ({server.log_path}):\n{server.log()[-5000:]}")
        return status


if __name__ == "__main__":
    sys.exit(main())

"""What every mode is given, and the API servers the modes start.

A mode is a function of the parsed arguments and this context; the entry point builds
the context once, so databases, servers and the environment are shared and cleaned up
in one place.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.databases import Databases
from bench.loadgen import LoadGenerator
from bench.seed import Seeded, prepare_database
from bench.servers import Server, Servers


@dataclass
class Context:
    args: argparse.Namespace
    databases: Databases
    servers: Servers
    env: dict[str, str]
    loadgen: LoadGenerator
    machine: str
    _main: tuple[str, Seeded] | None = None

    def main_database(self) -> tuple[str, Seeded]:
        if self._main is None:
            self._main = prepare_database(
                self.databases, self.args.database, self.env, reuse=self.args.reuse,
                events=self.args.events, participants=self.args.participants,
                users=self.args.users,
            )  # fmt: skip
        return self._main


def api_server(url: str, ctx: Context, args: argparse.Namespace, name: str = "api") -> Server:
    """The API as deployed: the ASGI application (HTTP and WebSockets) under uvicorn."""
    return Server(name, "config.asgi:application", url, ctx.env, args.workers)


def wsgi_api_server(url: str, ctx: Context, args: argparse.Namespace) -> Server:
    """The same code through Django's WSGI handler, in uvicorn's thread pool."""
    return Server(
        "api-wsgi", "config.wsgi:application", url, ctx.env, args.workers, interface="wsgi"
    )  # fmt: skip

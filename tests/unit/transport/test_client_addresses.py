"""The client address the per-address limits key on cannot be picked by the client.

uvicorn, by default, replaces the client address with the last X-Forwarded-For entry
when the peer is 127.0.0.1, before Django sees the request: one header escaped the
sign-up limit. The README's production command turns that off; the application alone
derives the address, trusting X-Forwarded-For only as far as NUM_PROXIES says.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.live_server import ROOT, LiveServer, live_server

# Two sign-ups an hour per address, so the third shows whose address was counted.
LIMITED = {"REGISTRATION_THROTTLE_RATE": "2/hour"}


def _readme_server_options() -> list[str]:
    """The uvicorn options of the README's production command, minus where it listens."""
    readme = (ROOT / "README.md").read_text()
    line = next(
        line
        for line in readme.splitlines()
        if re.match(r"^\.venv/bin/uvicorn config\.asgi:application .*--workers", line)
    )
    words = shlex.split(line)[2:]
    options: list[str] = []
    skip_value = {"--host", "--port", "--workers"}
    index = 0
    while index < len(words):
        if words[index] in skip_value:
            index += 2
            continue
        options.append(words[index])
        index += 1
    return options


def _sign_up(server: LiveServer, forwarded_for: str | None = None) -> int:
    name = f"u{secrets.token_hex(4)}"
    body = {
        "username": name,
        "email": f"{name}@example.org",
        "password": f"Pw-{secrets.token_hex(12)}",
    }
    request = urllib.request.Request(
        f"{server.url}/api/register/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    if forwarded_for is not None:
        request.add_header("X-Forwarded-For", forwarded_for)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def production_server() -> Iterator[LiveServer]:
    with live_server(env=LIMITED, server_args=_readme_server_options()) as server:
        yield server


@pytest.fixture(scope="module")
def behind_one_proxy() -> Iterator[LiveServer]:
    env = {**LIMITED, "NUM_PROXIES": "1"}
    with live_server(env=env, server_args=_readme_server_options()) as server:
        yield server


def test_the_readme_command_keeps_uvicorn_from_rewriting_addresses() -> None:
    assert "--no-proxy-headers" in _readme_server_options()


def test_a_spoofed_forwarded_for_does_not_change_the_throttle_key(
    production_server: LiveServer,
) -> None:
    assert [_sign_up(production_server) for _ in range(2)] == [201, 201]

    assert _sign_up(production_server, forwarded_for="1.2.3.4") == 429
    assert _sign_up(production_server, forwarded_for="5.6.7.8, 9.9.9.9") == 429


def test_behind_one_trusted_proxy_the_real_client_address_is_used(
    behind_one_proxy: LiveServer,
) -> None:
    # The proxy appends the address it saw; each client is limited on its own.
    assert [_sign_up(behind_one_proxy, "203.0.113.7") for _ in range(2)] == [201, 201]
    assert _sign_up(behind_one_proxy, "203.0.113.7") == 429
    assert _sign_up(behind_one_proxy, "203.0.113.8") == 201
    # What a client writes before the proxy's entry changes nothing.
    assert _sign_up(behind_one_proxy, "198.51.100.1, 203.0.113.7") == 429


def test_without_the_option_uvicorn_lets_a_header_pick_the_address() -> None:
    """The finding, kept: uvicorn's default is what the README's option turns off."""
    with live_server(env=LIMITED) as server:
        assert [_sign_up(server) for _ in range(2)] == [201, 201]
        assert _sign_up(server) == 429

        assert _sign_up(server, forwarded_for="1.2.3.4") == 201

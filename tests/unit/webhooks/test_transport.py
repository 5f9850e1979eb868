"""Outgoing webhook HTTP (api/webhooks/transport.py): which addresses and URLs a webhook
may never reach, and what one POST does against a real receiver on loopback."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_django import Settings
from rest_framework.exceptions import ValidationError

from api.webhooks.transport import (
    URL_MAX_LENGTH,
    URL_PATTERN,
    Outcome,
    forbidden_address,
    post,
    validate_url,
)

# Long enough that a receiver dripping its answer byte by byte outlasts any deadline
# here several times over.
DRIP_INTERVAL = 0.1
SHORT_TIMEOUT = 0.5


@pytest.fixture(autouse=True)
def production(settings: Settings) -> None:
    """Every test starts from production's rules and lifts only what it is about."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 15.0


# --- Addresses ---------------------------------------------------------------------

FORBIDDEN_ADDRESSES = [
    pytest.param("127.0.0.1", "loopback", id="ipv4-loopback"),
    pytest.param("127.255.255.254", "loopback", id="ipv4-loopback-top"),
    pytest.param("0.0.0.0", "unspecified", id="ipv4-unspecified"),
    pytest.param("0.1.2.3", "this network", id="ipv4-this-network"),
    pytest.param("10.0.0.1", "private", id="rfc1918-10"),
    pytest.param("172.16.0.1", "private", id="rfc1918-172.16"),
    pytest.param("172.31.255.254", "private", id="rfc1918-172.31"),
    pytest.param("192.168.1.1", "private", id="rfc1918-192.168"),
    pytest.param("100.64.0.1", "shared address space", id="cgnat-100.64"),
    pytest.param("100.127.255.254", "shared address space", id="cgnat-top"),
    pytest.param("169.254.169.254", "link-local", id="cloud-metadata"),
    pytest.param("169.254.0.1", "link-local", id="ipv4-link-local"),
    pytest.param("224.0.0.1", "multicast", id="ipv4-multicast"),
    pytest.param("239.255.255.250", "multicast", id="ipv4-multicast-ssdp"),
    pytest.param("240.0.0.1", "reserved", id="ipv4-reserved-240"),
    pytest.param("255.255.255.255", "broadcast", id="ipv4-broadcast"),
    pytest.param("192.0.2.1", "documentation", id="test-net-1"),
    pytest.param("198.51.100.1", "documentation", id="test-net-2"),
    pytest.param("203.0.113.1", "documentation", id="test-net-3"),
    pytest.param("198.18.0.1", "benchmarking", id="benchmarking"),
    pytest.param("192.0.0.8", "reserved", id="ietf-protocol-dummy"),
    pytest.param("192.0.0.9", "reserved", id="ietf-protocol-pcp-anycast"),
    pytest.param("::1", "loopback", id="ipv6-loopback"),
    pytest.param("::", "unspecified", id="ipv6-unspecified"),
    pytest.param("fc00::1", "private", id="unique-local-fc"),
    pytest.param("fd12:3456::1", "private", id="unique-local-fd"),
    pytest.param("fe80::1", "link-local", id="ipv6-link-local"),
    pytest.param("febf::1", "link-local", id="ipv6-link-local-top"),
    pytest.param("fec0::1", "site-local", id="ipv6-site-local"),
    pytest.param("ff02::1", "multicast", id="ipv6-multicast-link"),
    pytest.param("ff0e::1", "multicast", id="ipv6-multicast-global"),
    pytest.param("2001:db8::1", "documentation", id="ipv6-documentation"),
    pytest.param("3fff::1", "documentation", id="ipv6-documentation-rfc9637"),
    pytest.param("100::1", "reserved", id="ipv6-discard"),
    pytest.param("2001::1", "reserved", id="teredo"),
    pytest.param("5f00::1", "reserved", id="outside-global-unicast"),
    pytest.param("::ffff:127.0.0.1", "loopback", id="mapped-loopback"),
    pytest.param("::ffff:10.0.0.1", "private", id="mapped-private"),
    pytest.param("::ffff:169.254.169.254", "link-local", id="mapped-metadata"),
    pytest.param("::127.0.0.1", "loopback", id="compatible-loopback"),
    pytest.param("::8.8.8.8", "reserved", id="compatible-public-deprecated"),
    pytest.param("64:ff9b::7f00:1", "loopback", id="nat64-loopback"),
    pytest.param("64:ff9b::a9fe:a9fe", "link-local", id="nat64-metadata"),
    pytest.param("64:ff9b:1::1", "reserved", id="nat64-local-use"),
    pytest.param("2002:7f00:1::", "loopback", id="6to4-loopback"),
    pytest.param("2002:a00:1::", "private", id="6to4-private"),
    pytest.param("2002:a9fe:a9fe::", "link-local", id="6to4-metadata"),
]

PUBLIC_ADDRESSES = [
    pytest.param("8.8.8.8", id="google-dns"),
    pytest.param("1.1.1.1", id="cloudflare-dns"),
    pytest.param("2606:4700:4700::1111", id="cloudflare-dns-v6"),
    pytest.param("2001:4860:4860::8888", id="google-dns-v6"),
    pytest.param("::ffff:8.8.8.8", id="mapped-public"),
    pytest.param("64:ff9b::808:808", id="nat64-public"),
    pytest.param("2002:808:808::", id="6to4-public"),
]


@pytest.mark.parametrize(("address", "reason"), FORBIDDEN_ADDRESSES)
def test_forbidden_address_names_why(address: str, reason: str) -> None:
    assert forbidden_address(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_address_is_allowed(address: str) -> None:
    assert forbidden_address(ipaddress.ip_address(address)) is None


# --- URLs --------------------------------------------------------------------------

ACCEPTED_URLS = [
    pytest.param("https://example.com", id="bare-host"),
    pytest.param("https://example.com/", id="root"),
    pytest.param("https://hooks.example.com/in/events?token=abc&x=1", id="path-and-query"),
    pytest.param("https://example.com?only=query", id="query-without-path"),
    pytest.param("https://EXAMPLE.com/Hook", id="upper-case-host"),
    pytest.param("https://example.com:8443/hook", id="port"),
    pytest.param("https://example.com:1/", id="port-1"),
    pytest.param("https://example.com:65535/", id="port-65535"),
    pytest.param("https://xn--mnchen-3ya.de/hook", id="punycode-host"),
    pytest.param("https://a-b.c-d.example/", id="hyphens-inside-labels"),
    pytest.param("https://1.2.3.4.example.com/", id="numeric-labels-under-a-name"),
    pytest.param(f"https://{'a' * 63}.example/", id="label-of-63"),
    pytest.param(f"https://{'a.' * 123}example/", id="name-of-253"),
    pytest.param("https://localhost/", id="names-are-not-resolved-here"),
    pytest.param("https://example.com/a%20b/c:d@e", id="escapes-colon-and-at-in-path"),
    pytest.param("https://8.8.8.8/hook", id="public-ipv4"),
    pytest.param("https://[2606:4700:4700::1111]/hook", id="public-ipv6"),
    pytest.param("https://[2606:4700:4700::1111]:8443/", id="public-ipv6-port"),
    pytest.param("https://[::ffff:8.8.8.8]/", id="mapped-public-ipv6"),
    pytest.param("https://example.com/" + "a" * (URL_MAX_LENGTH - 20), id="max-length"),
]

PRIVATE_LITERALS = [
    pytest.param("https://127.0.0.1/", id="ipv4-loopback"),
    pytest.param("https://[::1]/", id="ipv6-loopback"),
    pytest.param("https://[::ffff:127.0.0.1]/", id="mapped-loopback"),
    pytest.param("https://[::127.0.0.1]/", id="compatible-loopback"),
    pytest.param("https://169.254.169.254/latest/meta-data/", id="cloud-metadata"),
    pytest.param("https://[64:ff9b::a9fe:a9fe]/", id="nat64-metadata"),
    pytest.param("https://[2002:a9fe:a9fe::]/", id="6to4-metadata"),
    pytest.param("https://10.0.0.1:8443/", id="rfc1918-port"),
    pytest.param("https://100.64.0.1/", id="cgnat"),
    pytest.param("https://0.0.0.0/", id="ipv4-unspecified"),
    pytest.param("https://[::]/", id="ipv6-unspecified"),
    pytest.param("https://[fd00::1]/", id="unique-local"),
    pytest.param("https://[FE80::1]/", id="link-local-upper-case"),
]

REFUSED_URLS = [
    pytest.param("https://example.com/" + "a" * URL_MAX_LENGTH, "max_length", id="overlong"),
    pytest.param(" https://example.com/", "invalid", id="leading-space"),
    pytest.param("https://exa mple.com/", "invalid", id="space-in-host"),
    pytest.param("https://example.com/a b", "invalid", id="space-in-path"),
    pytest.param("https://example.com/\n", "invalid", id="trailing-newline"),
    pytest.param("https://example.com/\r\nX-Injected: 1", "invalid", id="header-injection"),
    pytest.param("https://example.com/\t", "invalid", id="tab"),
    pytest.param("https://example.com/\x00", "invalid", id="nul"),
    pytest.param("https://example.com/\u200b", "invalid", id="zero-width-space"),
    pytest.param("https://example.com/\u202e", "invalid", id="bidi-override"),
    pytest.param("https://example.com/\u00a0", "invalid", id="no-break-space"),
    pytest.param("http://example.com/", "invalid_scheme", id="plain-http"),
    pytest.param("ftp://example.com/", "invalid_scheme", id="ftp"),
    pytest.param("HTTPS://example.com/", "invalid_scheme", id="upper-case-scheme"),
    pytest.param("javascript:alert(1)", "invalid_scheme", id="javascript"),
    pytest.param("file:///etc/passwd", "invalid_scheme", id="file"),
    pytest.param("example.com/hook", "invalid_scheme", id="no-scheme"),
    pytest.param("//example.com/hook", "invalid_scheme", id="scheme-relative"),
    pytest.param("https:example.com", "no_host", id="no-slashes"),
    pytest.param("https:///hook", "no_host", id="empty-host"),
    pytest.param("https://:443/", "no_host", id="port-without-host"),
    pytest.param("https://user:pass@example.com/", "userinfo", id="user-and-password"),
    pytest.param("https://user@example.com/", "userinfo", id="user"),
    pytest.param("https://example.com@127.0.0.1/", "userinfo", id="at-sign-confusion"),
    pytest.param("https://münchen.de/", "idn", id="unicode-host"),
    pytest.param("https://ex\u0430mple.com/", "idn", id="cyrillic-look-alike"),
    pytest.param("https://example\u3002com/", "idn", id="ideographic-full-stop"),
    pytest.param("https://-example.com/", "invalid", id="label-starts-with-hyphen"),
    pytest.param("https://example-.com/", "invalid", id="label-ends-with-hyphen"),
    pytest.param("https://exa_mple.com/", "invalid", id="underscore"),
    pytest.param("https://example..com/", "invalid", id="empty-label"),
    pytest.param("https://example.com./", "invalid", id="trailing-dot"),
    pytest.param("https://example.com\\@evil.example/", "userinfo", id="backslash-at"),
    pytest.param("https://exam\\ple.com/", "invalid", id="backslash-in-host"),
    pytest.param(f"https://{'a' * 64}.example/", "invalid", id="label-of-64"),
    pytest.param(f"https://{'a.' * 124}exampl/", "invalid", id="name-of-254"),
    pytest.param("https://127.1/", "invalid", id="short-ipv4"),
    pytest.param("https://2130706433/", "invalid", id="decimal-ipv4"),
    pytest.param("https://0x7f000001/", "invalid", id="hex-ipv4"),
    pytest.param("https://0177.0.0.1/", "invalid", id="octal-ipv4"),
    pytest.param("https://1.2.3.256/", "invalid", id="octet-over-255"),
    pytest.param("https://::1/", "invalid", id="ipv6-without-brackets"),
    pytest.param("https://[::1/", "invalid", id="ipv6-unclosed"),
    pytest.param("https://[fe80::1%25eth0]/", "invalid", id="ipv6-zone"),
    pytest.param("https://[::1]x/", "invalid", id="junk-after-ipv6"),
    pytest.param("https://[example.com]/", "invalid", id="name-in-brackets"),
    pytest.param("https://[1:2:3:4:5:6:7:8:9]/", "invalid", id="ipv6-too-long"),
    pytest.param("https://[1::2::3]/", "invalid", id="ipv6-two-gaps"),
    pytest.param("https://[127.0.0.1]/", "invalid", id="ipv4-in-brackets"),
    pytest.param("https://example.com:0/", "invalid_port", id="port-0"),
    pytest.param("https://example.com:65536/", "invalid_port", id="port-65536"),
    pytest.param("https://example.com:abc/", "invalid_port", id="port-abc"),
    pytest.param("https://example.com:/", "invalid_port", id="port-empty"),
    pytest.param("https://example.com:0443/", "invalid_port", id="port-leading-zero"),
    pytest.param("https://example.com:-1/", "invalid_port", id="port-negative"),
    pytest.param("https://[2606:4700:4700::1111]:99999/", "invalid_port", id="ipv6-port-high"),
    pytest.param("https://example.com/#frag", "fragment", id="fragment"),
    pytest.param("https://example.com#", "fragment", id="empty-fragment"),
    pytest.param("https://example.com/é", "invalid", id="non-ascii-path"),
    *(
        pytest.param(url.values[0], "private_address", id=f"private-{url.id}")
        for url in PRIVATE_LITERALS
    ),
]


def refusal(url: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_url(url)
    return caught.value


@pytest.mark.parametrize("url", ACCEPTED_URLS)
def test_url_is_accepted_unchanged(url: str) -> None:
    assert validate_url(url) == url


@pytest.mark.parametrize(("url", "code"), REFUSED_URLS)
def test_url_is_refused_with_one_message_and_its_code(url: str, code: str) -> None:
    error = refusal(url)
    assert isinstance(error.detail, list)
    assert len(error.detail) == 1
    assert error.get_codes() == [code]


def test_private_address_message_names_the_reason() -> None:
    message = str(refusal("https://[::ffff:169.254.169.254]/").detail[0])  # type: ignore[index]
    assert "link-local" in message


def test_idn_message_asks_for_the_punycode_form() -> None:
    message = str(refusal("https://münchen.de/").detail[0])  # type: ignore[index]
    assert "xn--" in message
    assert "punycode" in message


@pytest.mark.parametrize("url", PRIVATE_LITERALS)
def test_private_literal_is_accepted_when_private_networks_are_allowed(
    url: str, settings: Settings
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    assert validate_url(url) == url


def test_plain_http_is_accepted_only_when_allowed(settings: Settings) -> None:
    settings.WEBHOOKS_ALLOW_HTTP = True
    assert validate_url("http://example.com:8080/hook") == "http://example.com:8080/hook"
    assert refusal("ftp://example.com/").get_codes() == ["invalid_scheme"]


# --- The schema's pattern agrees with the validator --------------------------------


def schema_accepts(url: str) -> bool:
    # OpenAPI (JSON Schema) validators search for the pattern; maxLength is apart.
    return len(url) <= URL_MAX_LENGTH and re.search(URL_PATTERN, url) is not None


@pytest.mark.parametrize("url", ACCEPTED_URLS)
def test_pattern_matches_every_accepted_url(url: str) -> None:
    assert schema_accepts(url)


@pytest.mark.parametrize(("url", "code"), REFUSED_URLS)
def test_pattern_refuses_what_only_the_validator_could_not(url: str, code: str) -> None:
    """A schema-valid URL is refused only for what a schema cannot say: the address."""
    assert schema_accepts(url) == (code == "private_address")


@hypothesis_settings(
    max_examples=200,
    deadline=None,
    database=None,
    # The settings fixture is the same for every example.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(url=st.from_regex(URL_PATTERN))
def test_every_url_the_pattern_generates_is_accepted_or_a_private_literal(url: str) -> None:
    if len(url) > URL_MAX_LENGTH:
        return
    try:
        validate_url(url)
    except ValidationError as error:
        codes = error.get_codes()
    else:
        codes = []
    assert codes in ([], ["private_address"]), url


# --- A real receiver ---------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"received"
    # Declared Content-Length; the body's own length when None.
    length: int | None = None
    # "before": answer nothing until released; "after": answer, then keep the
    # connection open without ending it.
    hold: str | None = None
    # "head" or "body": send that part one byte per DRIP_INTERVAL.
    drip: str | None = None
    # Bytes sent instead of an HTTP response.
    raw: bytes | None = None


class ScriptedReceiver:
    """A loopback server that records what arrives and answers as told, down to the
    byte: unlike tests/webhook_receiver.py it can drip, cut an answer short, speak TLS,
    answer with something that is not HTTP, and record the GET a followed redirect
    would send."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.reply = Reply()
        self.seen: list[Seen] = []
        self.server_names: list[str | None] = []
        # Set at teardown: every held or dripping handler returns at once.
        self.released = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.receiver = self  # type: ignore[attr-defined]
        if tls is not None:
            tls.sni_callback = self._record_server_name
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def _record_server_name(self, _: Any, server_name: str | None, __: Any) -> None:
        self.server_names.append(server_name)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hook", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.seen]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        receiver: ScriptedReceiver = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        receiver.seen.append(Seen(self.command, self.path, list(self.headers.items()), body))
        # OSError: the client gave up first, as the timeout tests want.
        with contextlib.suppress(OSError):
            self._answer(receiver, receiver.reply)

    do_GET = do_POST

    def _answer(self, receiver: ScriptedReceiver, reply: Reply) -> None:
        if reply.hold == "before" and receiver.released.wait():
            return
        if reply.raw is not None:
            self.wfile.write(reply.raw)
            return
        length = len(reply.body) if reply.length is None else reply.length
        head = f"HTTP/1.1 {reply.status} Answer\r\nContent-Length: {length}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in reply.headers.items())
        for part, data in (("head", f"{head}\r\n".encode()), ("body", reply.body)):
            if reply.drip == part:
                for byte in data:
                    if receiver.released.wait(DRIP_INTERVAL):
                        return
                    self.wfile.write(bytes([byte]))
            else:
                self.wfile.write(data)
        if reply.hold == "after":
            receiver.released.wait()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(receiver: ScriptedReceiver) -> Iterator[ScriptedReceiver]:
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        receiver.server.shutdown()
        receiver.server.server_close()
        receiver.thread.join()


@pytest.fixture
def scripted() -> Iterator[ScriptedReceiver]:
    yield from _serve(ScriptedReceiver())


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name localhost only (not for 127.0.0.1)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    options = "req -x509 -nodes -days 1 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
    names = "-subj /CN=localhost -addext subjectAltName=DNS:localhost"
    subprocess.run(
        [openssl, *options.split(), *names.split(), "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_receiver(certificate: tuple[Path, Path]) -> Iterator[ScriptedReceiver]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    yield from _serve(ScriptedReceiver(tls=context))


@pytest.fixture
def trusting_our_certificate(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verification as in production, with the test certificate as the only authority."""
    create = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda: create(cafile=certificate[0]))


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening, so a connection is refused and nobody takes it."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


def resolving(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[tuple[str, int]]:
    """Make every name resolve to ``addresses``; returns the lookups made."""
    lookups: list[tuple[str, int]] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        lookups.append((host, port))
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
            if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
            for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


WEBHOOK_HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "EventManagementAPI-Webhooks/test",
    "webhook-id": "msg_2fX9",
    "webhook-timestamp": "1767225600",
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,c2Vjb25k",
}
# Not valid UTF-8, and with a NUL: the bytes go as they are.
WEBHOOK_BODY = b'{"type":"webhook.ping","data":{"n":1}}\n\x00\xff'


# --- post(): what arrives and what comes back --------------------------------------


def test_post_delivers_the_exact_body_and_headers_and_records_the_answer(
    scripted: ScriptedReceiver, local_receivers: None
) -> None:
    scripted.reply = Reply(status=201, body=b"thanks")

    outcome = post(scripted.url("/hook?source=test"), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert outcome == Outcome(
        status=201, duration_ms=outcome.duration_ms, body="thanks", error="", retry_after=None
    )
    [seen] = scripted.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/hook?source=test", WEBHOOK_BODY)
    for name, value in WEBHOOK_HEADERS.items():
        assert seen.header(name) == [value]
    assert seen.header("Content-Length") == [str(len(WEBHOOK_BODY))]
    assert seen.header("Host") == [f"127.0.0.1:{scripted.port}"]


def test_content_length_comes_from_the_body(
    scripted: ScriptedReceiver, local_receivers: None
) -> None:
    post(scripted.url(), b"12345", {"content-length": "1"})

    [seen] = scripted.seen
    assert seen.header("Content-Length") == ["5"]
    assert seen.body == b"12345"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_recorded_not_followed(
    scripted: ScriptedReceiver, local_receivers: None, status: int
) -> None:
    scripted.reply = Reply(status=status, headers={"Location": scripted.url("/elsewhere")})

    outcome = post(scripted.url(), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (status, "")
    assert scripted.paths() == ["/hook"]


def test_response_body_is_kept_to_1024_characters(
    scripted: ScriptedReceiver, local_receivers: None
) -> None:
    scripted.reply = Reply(status=500, body="é".encode() * 3000)

    outcome = post(scripted.url(), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.body) == (500, "é" * 1024)


def test_response_body_that_is_not_utf8_is_decoded_with_replacements(
    scripted: ScriptedReceiver, local_receivers: None
) -> None:
    scripted.reply = Reply(body=b"bad \xff byte")

    assert post(scripted.url(), WEBHOOK_BODY, WEBHOOK_HEADERS).body == "bad \ufffd byte"


def test_at_most_64_kib_of_a_response_is_waited_for(
    scripted: ScriptedReceiver, local_receivers: None, settings: Settings
) -> None:
    """A receiver that promises a gigabyte and sends 64 KiB is not waited on for the rest."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 5.0
    scripted.reply = Reply(body=b"x" * (64 * 1024), length=2**30, hold="after")

    outcome = post(scripted.url(), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error, outcome.body) == (200, "", "x" * 1024)


def http_date(offset: timedelta) -> str:
    return format_datetime(datetime.now(UTC) + offset, usegmt=True)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("120", {120}, id="delta-seconds"),
        pytest.param("0", {0}, id="zero"),
        pytest.param("86400000", {86400}, id="large-capped-at-a-day"),
        pytest.param("9" * 400, {86400}, id="thousand-digits-capped"),
        pytest.param(lambda: http_date(timedelta(seconds=120)), {119, 120}, id="http-date"),
        pytest.param(lambda: http_date(timedelta(hours=-1)), {0}, id="http-date-past"),
        pytest.param("soon", {None}, id="unreadable"),
        pytest.param("-5", {None}, id="negative"),
        pytest.param("1.5", {None}, id="fraction"),
        pytest.param("Sun, 99 Nov 1994 08:49:37 GMT", {None}, id="impossible-date"),
        pytest.param(None, {None}, id="absent"),
    ],
)
def test_retry_after_is_read_as_seconds(
    scripted: ScriptedReceiver,
    local_receivers: None,
    header: str | Callable[[], str] | None,
    expected: set[int | None],
) -> None:
    value = header() if callable(header) else header
    scripted.reply = Reply(status=503, headers={} if value is None else {"Retry-After": value})

    outcome = post(scripted.url(), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert outcome.status == 503
    assert outcome.retry_after in expected


# --- post(): deadlines -------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply(hold="before"), id="no-answer"),
        pytest.param(Reply(body=b"", length=10, hold="after"), id="head-only"),
        pytest.param(Reply(body=b"part", length=10, hold="after"), id="body-cut-short"),
    ],
)
def test_an_answer_incomplete_at_the_deadline_is_a_timeout(
    scripted: ScriptedReceiver, local_receivers: None, settings: Settings, reply: Reply
) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = SHORT_TIMEOUT
    scripted.reply = reply

    outcome = post(scripted.url(), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (0, "timed out after 0.5 s")
    assert 500 <= outcome.duration_ms < 2000
    assert scripted.paths() == ["/hook"]


@pytest.mark.parametrize("part", ["head", "body"])
def test_a_receiver_dripping_bytes_cannot_stretch_the_deadline(
    scripted: ScriptedReceiver, local_receivers: None, settings: Settings, part: str
) -> None:
    """Each byte comes well within any per-read timeout; only the overall deadline
    stops it (the head or the body would take seconds)."""
    settings.WEBHOOK_TIMEOUT_SECONDS = SHORT_TIMEOUT
    scripted.reply = Reply(body=b"x" * 60, drip=part)

    outcome = post(scripted.url(), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (0, "timed out after 0.5 s")
    assert outcome.duration_ms < 2000


# --- post(): failures are outcomes -------------------------------------------------


def test_connection_refused_is_an_outcome(closed_port: int, local_receivers: None) -> None:
    outcome = post(f"http://127.0.0.1:{closed_port}/hook", WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error, outcome.body) == (0, "connection refused", "")


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        pytest.param(b"", "connection closed without a response", id="closed"),
        pytest.param(b"hello\r\n\r\n", "invalid HTTP response (BadStatusLine)", id="not-http"),
    ],
)
def test_an_answer_that_is_not_http_is_an_outcome(
    scripted: ScriptedReceiver, local_receivers: None, raw: bytes, error: str
) -> None:
    scripted.reply = Reply(raw=raw)

    outcome = post(scripted.url(), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (0, error)


def test_a_name_that_does_not_resolve_is_an_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    outcome = post("https://hooks.example.invalid/", WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (0, "name does not resolve")


# --- post(): what may be reached ---------------------------------------------------


def test_plain_http_is_refused_unless_allowed(
    scripted: ScriptedReceiver, settings: Settings
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True

    outcome = post(scripted.url(), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (0, "plain http is not allowed")
    assert scripted.seen == []


def test_a_url_validate_url_refuses_is_refused_at_delivery() -> None:
    outcome = post("https://user:secret@example.com/", WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert outcome.status == 0
    assert outcome.error.startswith("URL refused: The URL must not contain a user name")


def test_a_private_address_literal_is_refused_at_delivery(
    scripted: ScriptedReceiver, settings: Settings
) -> None:
    settings.WEBHOOKS_ALLOW_HTTP = True

    outcome = post(scripted.url(host="127.0.0.1"), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert outcome.status == 0
    assert "127.0.0.1 is not allowed (loopback)" in outcome.error
    assert scripted.seen == []


def test_localhost_is_refused_for_what_it_resolves_to(
    scripted: ScriptedReceiver, settings: Settings
) -> None:
    settings.WEBHOOKS_ALLOW_HTTP = True

    outcome = post(scripted.url(host="localhost"), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert outcome.status == 0
    assert re.fullmatch(
        r"name resolves to a private address \((127\.0\.0\.1|::1): loopback\)", outcome.error
    )
    assert scripted.seen == []


def test_localhost_is_reached_by_its_name_when_private_networks_are_allowed(
    scripted: ScriptedReceiver, local_receivers: None
) -> None:
    outcome = post(scripted.url(host="localhost"), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (200, "")
    assert scripted.seen[0].header("Host") == [f"localhost:{scripted.port}"]


def test_a_name_is_refused_if_any_of_its_addresses_is_forbidden(
    scripted: ScriptedReceiver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.WEBHOOKS_ALLOW_HTTP = True
    # Were only the first answer checked, the attempt to reach 8.8.8.8 would end soon.
    settings.WEBHOOK_TIMEOUT_SECONDS = SHORT_TIMEOUT
    resolving(monkeypatch, "8.8.8.8", "127.0.0.1")

    outcome = post(scripted.url(host="hooks.example.com"), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (
        0,
        "name resolves to a private address (127.0.0.1: loopback)",
    )
    assert scripted.seen == []


def test_the_checked_address_is_connected_to_without_resolving_again(
    scripted: ScriptedReceiver, local_receivers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pinning: the name is looked up once, and only Host (and SNI) still carry it.
    A second lookup could answer differently (DNS rebinding)."""
    lookups = resolving(monkeypatch, "127.0.0.1")

    outcome = post(scripted.url(host="hooks.example.com"), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (200, "")
    assert lookups == [("hooks.example.com", scripted.port)]
    assert scripted.seen[0].header("Host") == [f"hooks.example.com:{scripted.port}"]


def test_the_next_checked_address_is_tried_when_one_refuses(
    scripted: ScriptedReceiver, local_receivers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for localhost: an IPv6 and an IPv4 address, the receiver on the IPv4 one only."""
    resolving(monkeypatch, "::1", "127.0.0.1")

    outcome = post(scripted.url(host="hooks.example.com"), WEBHOOK_BODY, WEBHOOK_HEADERS)

    assert (outcome.status, outcome.error) == (200, "")


# --- post(): TLS -------------------------------------------------------------------


def test_tls_uses_the_name_for_sni_and_the_certificate_while_connecting_to_the_address(
    tls_receiver: ScriptedReceiver, trusting_our_certificate: None, settings: Settings
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True

    outcome = post(
        tls_receiver.url(host="localhost", scheme="https"), WEBHOOK_BODY, WEBHOOK_HEADERS
    )

    assert (outcome.status, outcome.error) == (200, "")
    assert tls_receiver.server_names == ["localhost"]
    assert tls_receiver.seen[0].body == WEBHOOK_BODY


def test_tls_certificate_not_for_the_host_is_refused(
    tls_receiver: ScriptedReceiver, trusting_our_certificate: None, settings: Settings
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True

    outcome = post(
        tls_receiver.url(host="127.0.0.1", scheme="https"), WEBHOOK_BODY, WEBHOOK_HEADERS
    )

    assert outcome.status == 0
    assert outcome.error.startswith("TLS: certificate verify failed: IP address mismatch")
    assert tls_receiver.seen == []


def test_tls_certificate_from_an_unknown_authority_is_refused(
    tls_receiver: ScriptedReceiver, settings: Settings
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True

    outcome = post(
        tls_receiver.url(host="localhost", scheme="https"), WEBHOOK_BODY, WEBHOOK_HEADERS
    )

    assert outcome.status == 0
    assert outcome.error.startswith("TLS: certificate verify failed: self")
    assert tls_receiver.seen == []

"""Outgoing HTTP for webhooks, guarded against server-side request forgery.

A webhook URL is chosen by a user but requested from inside our network, where it could
otherwise reach the cloud metadata service (169.254.169.254), the database or anything
listening on loopback. So:

- ``validate_url`` refuses, when an endpoint is created or changed, what is wrong
  whatever DNS says: address literals in forbidden ranges, credentials in the URL,
  Unicode host names. Names are not resolved then: an answer at creation proves nothing
  about the answer at delivery.
- ``post`` resolves the name once, refuses if any answer is forbidden, and connects to
  the address it checked, so a name whose answer changes between check and connection
  (DNS rebinding) cannot swap it. TLS still verifies the certificate against the name.
  Redirects are never followed: one to an internal address would skip the check.
- One deadline bounds each attempt, so a receiver that drips its answer a byte at a
  time holds a worker no longer than one that does not answer.
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import math
import re
import socket
import ssl
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, cast

from django.conf import settings
from rest_framework.exceptions import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

URL_MAX_LENGTH = 2048
# Enough of a response to show the owner what the receiver said, not a download.
RESPONSE_READ_LIMIT = 64 * 1024
# The largest Retry-After reported: a day (callers wait less).
RETRY_AFTER_MAX = 86_400
RESPONSE_BODY_KEPT = 1024

# The syntax a webhook URL may have, as fragments shared by validate_url and
# URL_PATTERN, so the schema and the validator cannot drift apart. Written in the subset
# that Python's re and ECMA-262 (the dialect of OpenAPI's `pattern`) read alike.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# The last label starts with a letter, as every top-level domain does: a "name" such as
# 2130706433, 127.1 or 0x7f000001 is an address in disguise that resolvers read as
# 127.0.0.1.
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = rf"(?=[A-Za-z0-9.-]{{1,253}}(?![A-Za-z0-9.-]))(?:{_LABEL}\.)*{_TOP_LABEL}"
# No leading zeros: some resolvers read 0177.0.0.1 as octal, that is 127.0.0.1.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H16 = r"[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{_IPV4})"
# RFC 3986's IPv6address, one alternative per position of "::". Zone identifiers
# (fe80::1%25eth0) are left out: they name an interface of our host.
_IPV6 = (
    "(?:"
    + "|".join(
        [
            rf"(?:{_H16}:){{6}}{_LS32}",
            rf"::(?:{_H16}:){{5}}{_LS32}",
            rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
            rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
            rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
            rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
        ]
    )
    + ")"
)
# 1 to 65535, without leading zeros.
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# Printable ASCII but "#": a fragment is never sent, and anything else must be
# percent-encoded before it can go on the request line.
_PATH = r'(?:[/?][!"$-~]*)?'
# `$(?!\n)`: Python's `$` also matches before a final newline; ECMA-262's does not.
URL_PATTERN = rf"^https://(?:{_IPV4}|{_NAME}|\[{_IPV6}\])(?::{_PORT})?{_PATH}$(?!\n)"

_NAME_RE = re.compile(_NAME)
_IPV4_RE = re.compile(_IPV4)
_IPV6_RE = re.compile(_IPV6)
_PORT_RE = re.compile(_PORT)
_PATH_RE = re.compile(_PATH)
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")

_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_RFC1918 = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
# Carrier-grade NAT (RFC 6598): the provider's side of a NAT, often a cloud's internal
# network. Python counts it neither private nor global.
_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_IPV4_DOCUMENTATION = tuple(
    ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
_BENCHMARKING = ipaddress.IPv4Network("198.18.0.0/15")
# IETF protocol assignments (RFC 6890): Python 3.11 counts all but 192.0.0.0/29 and
# 192.0.0.170/31 as global; no receiver lives in any of it.
_IETF_PROTOCOL_ASSIGNMENTS = ipaddress.IPv4Network("192.0.0.0/24")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
# 3fff::/20 (RFC 9637, 2024) is newer than Python 3.11's tables, which call it global.
_IPV6_DOCUMENTATION = tuple(ipaddress.IPv6Network(n) for n in ("2001:db8::/32", "3fff::/20"))
# The well-known NAT64 prefix (RFC 6052): a translator forwards 64:ff9b::a.b.c.d to
# a.b.c.d, so the IPv4 address is the one reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# IPv4-compatible addresses (::a.b.c.d), deprecated by RFC 4291 since 2006.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def forbidden_address(address: IPAddress) -> str | None:
    """Why a webhook may never reach ``address`` ("loopback", "private", ...), or None.

    Only globally reachable unicast addresses are allowed. IPv6 forms that carry an
    IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the IPv4 address they
    lead to, which Python's ``is_global`` does not look at.
    """
    if isinstance(address, ipaddress.IPv4Address):
        return _ipv4_reason(address)
    if address.ipv4_mapped is not None:
        return _ipv4_reason(address.ipv4_mapped)
    if address in _NAT64:
        return _ipv4_reason(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
    if address.sixtofour is not None:
        return _ipv4_reason(address.sixtofour)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return _ipv4_reason(ipaddress.IPv4Address(int(address))) or "reserved"
    return _ipv6_reason(address)


def _ipv4_reason(address: ipaddress.IPv4Address) -> str | None:
    # Multicast is tested explicitly: Python counts 224.0.0.0/4 as global.
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "unspecified"),
        (address in _THIS_NETWORK, "this network"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address == _BROADCAST, "broadcast"),
        (address.is_reserved, "reserved"),
        (any(address in network for network in _RFC1918), "private"),
        (address in _SHARED_ADDRESS_SPACE, "shared address space"),
        (any(address in network for network in _IPV4_DOCUMENTATION), "documentation"),
        (address in _BENCHMARKING, "benchmarking"),
        (address in _IETF_PROTOCOL_ASSIGNMENTS or not address.is_global, "reserved"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _ipv6_reason(address: ipaddress.IPv6Address) -> str | None:
    # Multicast and the deprecated site-local fec0::/10 are tested explicitly: Python
    # 3.11 counts both as global.
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_multicast, "multicast"),
        (address.is_link_local, "link-local"),
        (address.is_site_local, "site-local"),
        (address in _UNIQUE_LOCAL, "private"),
        (any(address in network for network in _IPV6_DOCUMENTATION), "documentation"),
        (address.is_reserved or not address.is_global, "reserved"),
    )
    return next((reason for refused, reason in checks if refused), None)


@dataclass(frozen=True)
class _Target:
    """A URL that passed validate_url, in the pieces a request is made of."""

    tls: bool
    # As written, without brackets: what Host, SNI and the certificate check use.
    host: str
    port: int
    # The request target: path and query.
    path: str


def _refuse(code: str, message: str) -> NoReturn:
    raise ValidationError(message, code=code)


def validate_url(url: str) -> str:
    """Refuse a webhook URL that could never be delivered safely; returns it unchanged.

    Runs when an endpoint is created or changed, and again before each delivery.
    """
    _parse(url)
    return url


def _parse(url: str) -> _Target:
    if len(url) > URL_MAX_LENGTH:
        _refuse("max_length", f"Ensure this URL has at most {URL_MAX_LENGTH} characters.")
    if any(_is_space_or_control(character) for character in url):
        _refuse("invalid", "The URL must not contain whitespace or control characters.")
    scheme = _SCHEME_RE.match(url)
    allow_http = settings.WEBHOOKS_ALLOW_HTTP
    if scheme is None or scheme[0] not in (("https:", "http:") if allow_http else ("https:",)):
        if scheme is not None and scheme[0] == "http:":
            _refuse("invalid_scheme", "Plain http is not allowed; use https://.")
        also = " (or http:// here)" if allow_http else ""
        _refuse("invalid_scheme", f"The URL must start with https://{also}.")
    if "#" in url:
        _refuse("fragment", "The URL must not have a fragment (#...): it is never sent.")
    rest = url[scheme.end() :]
    if not rest.startswith("//"):
        _refuse("no_host", "The URL has no host.")
    authority, path = _split_at_path(rest[2:])
    if "@" in authority:
        _refuse(
            "userinfo",
            "The URL must not contain a user name or password (user:password@); "
            "the signature authenticates deliveries.",
        )
    host, port = _split_port(authority)
    if not host:
        _refuse("no_host", "The URL has no host.")
    if not host.isascii():
        # Unicode names are refused rather than converted so that the owner's list of
        # endpoints shows the name DNS is asked for, not a look-alike of another one.
        _refuse(
            "idn",
            "Write the host name in its ASCII xn-- (punycode) form; Unicode host names "
            "are refused so that look-alike names cannot hide among your endpoints.",
        )
    address = _host_address(host)
    if port is not None and not _PORT_RE.fullmatch(port):
        _refuse("invalid_port", "The port must be a number from 1 to 65535.")
    if not _PATH_RE.fullmatch(path):
        _refuse("invalid", "Percent-encode the characters outside ASCII in the path and query.")
    if address is not None and not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        reason = forbidden_address(address)
        if reason is not None:
            _refuse(
                "private_address",
                f"The address {address} is not allowed ({reason}); webhooks may only "
                "reach public internet addresses.",
            )
    tls = scheme[0] == "https:"
    return _Target(
        tls=tls,
        host=host.strip("[]"),
        port=int(port) if port is not None else (443 if tls else 80),
        path=path if path.startswith("/") else f"/{path}",
    )


def _is_space_or_control(character: str) -> bool:
    return character.isspace() or unicodedata.category(character).startswith("C")


def _split_at_path(after_slashes: str) -> tuple[str, str]:
    for index, character in enumerate(after_slashes):
        if character in "/?":
            return after_slashes[:index], after_slashes[index:]
    return after_slashes, ""


def _split_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end == -1:
            _refuse("invalid", "The IPv6 address is missing its closing bracket.")
        host, after = authority[: end + 1], authority[end + 1 :]
    else:
        host, colon, port = authority.partition(":")
        if ":" in port:
            _refuse("invalid", "Write an IPv6 address in brackets: https://[2001:db8::1]/.")
        after = colon + port
    if not after:
        return host, None
    if not after.startswith(":"):
        _refuse("invalid", "Only a port may follow the host.")
    return host, after[1:]


def _host_address(host: str) -> IPAddress | None:
    """The address when ``host`` is a literal, None for a name; refuses anything else."""
    if host.startswith("[") and _IPV6_RE.fullmatch(host[1:-1]):
        return ipaddress.IPv6Address(host[1:-1])
    if _IPV4_RE.fullmatch(host):
        return ipaddress.IPv4Address(host)
    if _NAME_RE.fullmatch(host):
        return None
    _refuse(
        "invalid",
        "The host must be a DNS name, an IPv4 address or an IPv6 address in brackets.",
    )


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to, as the delivery log records it."""

    # 0 when no complete HTTP response arrived.
    status: int
    duration_ms: int
    body: str = ""
    # "" when a response arrived; otherwise why none did.
    error: str = ""
    # Seconds the receiver asked us to wait (Retry-After), uncapped; None if it did not.
    retry_after: int | None = None


class _Refused(Exception):
    """The attempt was not made, for the reason in the message."""


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` once to ``url``; every failure is an Outcome, never an exception,
    so the worker records it and schedules the next attempt."""
    timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS)
    started = time.monotonic()
    deadline = started + timeout
    try:
        status, text, retry_after = _exchange(url, body, headers, deadline)
    except (_Refused, OSError, http.client.HTTPException, ValueError) as error:
        # OSError covers sockets, DNS and TLS; ValueError covers UnicodeError and what
        # http.client says of an odd port or header.
        return Outcome(status=0, duration_ms=_since(started), error=_describe(error, timeout))
    return Outcome(status=status, duration_ms=_since(started), body=text, retry_after=retry_after)


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(
    error: _Refused | OSError | http.client.HTTPException | ValueError, timeout: float
) -> str:
    # Order matters: the TLS and timeout errors are OSErrors too.
    if isinstance(error, _Refused):
        return str(error)
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(error, socket.gaierror):
        return "name does not resolve"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS: certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS: {error.reason.replace('_', ' ').lower() if error.reason else error}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, http.client.RemoteDisconnected):
        # Before ConnectionResetError, which it subclasses.
        return "connection closed without a response"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, http.client.HTTPException):
        return f"invalid HTTP response ({type(error).__name__})"
    if isinstance(error, OSError):
        return f"network error: {error.strerror or error}"
    return f"request failed: {type(error).__name__}: {error}"


def _exchange(
    url: str, body: bytes, headers: dict[str, str], deadline: float
) -> tuple[int, str, int | None]:
    if url.startswith("http:") and not settings.WEBHOOKS_ALLOW_HTTP:
        raise _Refused("plain http is not allowed")
    try:
        target = _parse(url)
    except ValidationError as refused:
        raise _Refused(f"URL refused: {_first_message(refused)}") from refused
    addresses = _resolve(target)
    connection_class = _PinnedHTTPSConnection if target.tls else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, addresses, deadline)
    try:
        # A length of the caller's own could desynchronise the connection.
        sent = {name: value for name, value in headers.items() if name.lower() != "content-length"}
        sent["Content-Length"] = str(len(body))
        connection.request("POST", target.path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read(RESPONSE_READ_LIMIT)
        retry_after = _retry_after(response.getheader("Retry-After"), datetime.now(UTC))
        text = data.decode("utf-8", errors="replace")[:RESPONSE_BODY_KEPT]
        return response.status, text, retry_after
    finally:
        connection.close()


def _first_message(error: ValidationError) -> str:
    detail: Any = error.detail
    return str(detail[0] if isinstance(detail, list) and detail else detail)


_Address = tuple[socket.AddressFamily, Any]


def _resolve(target: _Target) -> list[_Address]:
    """Every address the host resolves to, once; refused if any is forbidden, since
    which one a connection would use is not ours to choose."""
    resolved: list[_Address] = []
    infos = socket.getaddrinfo(
        target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6) or (family, sockaddr) in resolved:
            continue
        if not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
            address = ipaddress.ip_address(sockaddr[0])
            reason = forbidden_address(address)
            if reason is not None:
                raise _Refused(f"name resolves to a private address ({address}: {reason})")
        resolved.append((family, sockaddr))
    if not resolved:
        raise _Refused("name resolves to no IPv4 or IPv6 address")
    return resolved


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


class _DeadlineSocket(socket.socket):
    """Each blocking call may take only what is left of the attempt's time, so a
    receiver that sends one byte at a time cannot stretch the attempt."""

    deadline = 0.0

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0, /) -> int:
        self.settimeout(_remaining(self.deadline))
        return super().recv_into(buffer, nbytes, flags)

    def sendall(self, data: Any, flags: int = 0, /) -> None:
        # Since Python 3.5 the timeout bounds the whole sendall, not each piece.
        self.settimeout(_remaining(self.deadline))
        super().sendall(data, flags)


class _DeadlineSSLSocket(ssl.SSLSocket):
    """_DeadlineSocket's rule once TLS wraps it (SSLSocket.sendall calls send)."""

    deadline = 0.0

    def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
        self.settimeout(_remaining(self.deadline))
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: Any, flags: int = 0) -> int:
        self.settimeout(_remaining(self.deadline))
        return super().send(data, flags)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the addresses checked in _resolve, never to the name again, so a
    second DNS answer cannot replace a checked one; Host still carries the name."""

    def __init__(
        self, host: str, port: int, addresses: Sequence[_Address], deadline: float
    ) -> None:
        super().__init__(host, port)
        self._addresses = addresses
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = self._open()

    def _open(self) -> socket.socket:
        failure = OSError("no address to connect to")
        for family, sockaddr in self._addresses:
            sock = _DeadlineSocket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.deadline = self._deadline
            try:
                sock.settimeout(_remaining(self._deadline))
                sock.connect(sockaddr)
            except TimeoutError:
                sock.close()
                raise
            except OSError as error:
                # The next address may answer: a name with an IPv6 and an IPv4 address
                # served on one of them only.
                sock.close()
                failure = error
                continue
            return sock
        raise failure


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self) -> None:
        context = ssl.create_default_context()
        context.sslsocket_class = _DeadlineSSLSocket
        self.sock = self._open()
        # The name, not the address, for SNI and the certificate check.
        tls = cast(
            _DeadlineSSLSocket,
            context.wrap_socket(
                self.sock, server_hostname=self.host, do_handshake_on_connect=False
            ),
        )
        self.sock = tls
        tls.deadline = self._deadline
        tls.settimeout(_remaining(self._deadline))
        tls.do_handshake()


def _retry_after(value: str | None, now: datetime) -> int | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110
    10.2.3); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]+", value):
        # Capped here, so a thousand-digit value neither costs a conversion nor
        # overflows the timedelta it becomes; callers cap it lower still.
        return (
            RETRY_AFTER_MAX
            if len(value) > len(str(RETRY_AFTER_MAX))
            else min(int(value), RETRY_AFTER_MAX)
        )
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        # HTTP-dates are always GMT; "-0000" parses as naive.
        when = when.replace(tzinfo=UTC)
    return min(max(0, math.ceil((when - now).total_seconds())), RETRY_AFTER_MAX)

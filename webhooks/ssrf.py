"""Refuse webhook targets inside the network (SSRF): every resolved address must be public.

A host listed in WEBHOOK_ALLOWED_HOSTS may resolve anywhere (a receiver on the same machine in
development and tests). Deliveries connect to the address that was checked, so a DNS answer that
changes between check and connect (rebinding) cannot smuggle a private address in.

IPv6 addresses that carry an IPv4 address to a tunnel (6to4 2002::/16, Teredo 2001::/32) are refused
outright, and NAT64 (64:ff9b::/96) is judged by the IPv4 address inside. A refusal never says what a
name resolved to, nor whether it resolved at all: registering webhooks must not map the internal
network. The detail goes to the log for the operator.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from hockeyhub.errors import Refused

log = logging.getLogger("hockeyhub.webhooks")
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class UnsafeTarget(Refused):
    """The URL may not be called; `message` says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the vetted IP to connect to


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.sixtofour is not None or address.teredo is not None:
            return True  # a tunnel to an IPv4 address we would have to judge, and cannot reach safely
        if any(address in net for net in NAT64):
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        elif address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def not_public(host: str) -> UnsafeTarget:
    """One answer for every refused host, so the message cannot tell what an internal name is."""
    return UnsafeTarget(
        f"{host} is not a public address webhooks may call (private, loopback, link-local, a 6to4 or "
        "Teredo tunnel, or a name that does not resolve); use a public host, or ask the admin to "
        "list it in WEBHOOK_ALLOWED_HOSTS"
    )


def check_url(url: str, *, resolve: bool = True) -> Target:
    """Return the target of a webhook URL after checking scheme, host and every resolved address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("the URL must start with https:// (or http://)")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("the URL must not carry credentials")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    allowed = host in {h.lower() for h in settings.WEBHOOK_ALLOWED_HOSTS}
    if not resolve:
        return Target(parts.scheme, host, port, path, "")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        log.info("webhook target %s refused: does not resolve (%s)", host, exc)
        raise not_public(host) from None
    addresses = []
    for info in infos:
        raw = info[4][0].split("%", 1)[0]  # drop an IPv6 zone id
        addresses.append(ipaddress.ip_address(raw))
    if not addresses:
        log.info("webhook target %s refused: no addresses", host)
        raise not_public(host)
    if not allowed:
        for address in addresses:
            if _is_internal(address):
                log.info("webhook target %s refused: resolves to %s", host, address)
                raise not_public(host)
    return Target(parts.scheme, host, port, path, str(addresses[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def pinned_connection(target: Target, *, timeout: float) -> http.client.HTTPConnection:
    """A connection to the vetted address of `check_url` (TLS still checks the host name)."""
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    return cls(target, timeout=timeout)

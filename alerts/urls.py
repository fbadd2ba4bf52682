"""Where a webhook may go: the rules of contract §3.4 and issue 10's SSRF safety.

- `https://` to a public address; `http://` only to a host the operator lists in
  AI_USAGE_WEBHOOK_ALLOW_HOSTS (tests use 127.0.0.1). A listed host may be private
  (an operator's own receiver); any other host must resolve only to public addresses:
  loopback, private, link-local, multicast, reserved and unspecified ones are refused.
- check_url() is called when the URL is stored (PUT, 400 naming `webhookUrl`) and
  resolve_for_delivery() again at every delivery: a name that re-resolves to a private
  address since (DNS rebinding) is refused then, and the delivery connects to the
  address it checked, never to a second lookup's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL = 2000
Resolver = Callable[[str, int], list[str]]


class BadWebhookUrl(ValueError):
    """The URL may not receive webhooks; the message says why (English, as API errors are)."""


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to `address`, send Host/SNI `host`."""

    scheme: str
    host: str
    port: int
    address: str
    path: str  # path and query, as sent in the request line


def allow_hosts(raw: str) -> frozenset[str]:
    """AI_USAGE_WEBHOOK_ALLOW_HOSTS: host names or addresses, comma or space separated."""
    return frozenset(h.strip().lower().strip("[]") for h in raw.replace(",", " ").split() if h.strip())


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _split(url: str, allowed: Collection[str]) -> tuple[str, str, int, str]:
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise BadWebhookUrl(f"a webhook URL is a text of 1 to {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise BadWebhookUrl("a webhook URL has no spaces or control characters")
    if not url.isascii():
        # The request line is ASCII (http.client could never send it: every delivery would fail),
        # a lone surrogate cannot even be stored, and a bidi control would disguise the URL shown.
        raise BadWebhookUrl(
            "a webhook URL is written in ASCII: percent-encode other characters in its path and "
            "give a host's international name in its xn-- form"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise BadWebhookUrl(f"not a valid URL: {e}") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("https", "http") or not host:
        raise BadWebhookUrl("a webhook URL starts with https:// and names a host")
    if parts.username is not None or parts.password is not None:
        raise BadWebhookUrl("a webhook URL carries no user name or password")
    if scheme == "http" and host not in allowed:
        raise BadWebhookUrl("http:// is allowed only to hosts listed in AI_USAGE_WEBHOOK_ALLOW_HOSTS; use https://")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve_for_delivery(url: str, allowed: Collection[str], resolver: Resolver = system_resolver) -> Target:
    """The checked destination of url now; BadWebhookUrl if it may not be reached."""
    scheme, host, port, path = _split(url, allowed)
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as e:
        raise BadWebhookUrl(f"the host {host!r} does not resolve: {e}") from None
    if not addresses:
        raise BadWebhookUrl(f"the host {host!r} does not resolve")
    if host not in allowed:
        bad = [a for a in addresses if not is_public(a)]
        if bad:
            raise BadWebhookUrl(
                f"the host {host!r} resolves to a non-public address ({bad[0]}); "
                "list it in AI_USAGE_WEBHOOK_ALLOW_HOSTS if it is your own receiver"
            )
    return Target(scheme, host, port, addresses[0], path)


def check_url(url: str, allowed: Collection[str], resolver: Resolver = system_resolver) -> str:
    """url if it may receive webhooks now, else BadWebhookUrl; the stored form is the text given."""
    resolve_for_delivery(url, allowed, resolver)
    return url

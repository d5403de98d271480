"""The client's address: the socket peer, unless a proxy we trust says otherwise.

Uvicorn's own proxy handling is off (`s7 serve` passes `proxy_headers=False`): with
`forwarded_allow_ips="*"` it believed any peer and took the *left-most* `X-Forwarded-For`
entry, which the client writes itself, so one header dodged every per-address limit.

Here, `FORWARDED_ALLOW_IPS` (comma-separated addresses or CIDRs) names the proxies in front:

- the peer is not a trusted proxy (or the setting is empty, the default): the client is the
  peer, whatever the headers say;
- the peer is trusted: walk `X-Forwarded-For` from the right (each proxy *appends* the address
  it saw) and the client is the first entry that is not itself a trusted proxy;
- `*` (Railway: its edge appends the real client and the app cannot know the edge's addresses):
  the peer is trusted and the client is the right-most entry only, never one further left.

An entry that is not an address ends the walk at the last address we could believe. The
resolved address replaces `scope["client"]`, so everything after this middleware (login
throttling, the audit, logs) sees one answer. `X-Forwarded-Proto` from a trusted peer sets the
scheme (https behind the edge).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from starlette.types import ASGIApp, Receive, Scope, Send

from s7.config import get_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    everyone: bool
    networks: tuple[Network, ...]

    def trusts(self, address: str | None) -> bool:
        if self.everyone:
            return True
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)


@lru_cache(maxsize=8)
def parse_trusted(spec: str) -> TrustedProxies:
    """`"10.0.0.0/8, 192.0.2.7"` → networks; `"*"` → trust any peer (right-most entry only).
    Raises ValueError on an entry that is neither (the setting is validated at start-up)."""
    items = [item.strip() for item in (spec or "").split(",") if item.strip()]
    if "*" in items:
        return TrustedProxies(True, ())
    return TrustedProxies(False, tuple(ipaddress.ip_network(item, strict=False) for item in items))


def _address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as a proxy may write it: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`, `::1`."""
    if not value:
        return None
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def resolve_client(peer: str | None, forwarded_for: list[str], trusted: TrustedProxies) -> str | None:
    """The client address for a request from `peer` carrying these `X-Forwarded-For` values."""
    if peer is None or not trusted.trusts(peer):
        return peer
    entries = [entry.strip() for value in forwarded_for for entry in value.split(",") if entry.strip()]
    client = peer
    for entry in reversed(entries):
        parsed = _address(entry)
        if parsed is None:
            break  # garbage where a proxy should have written an address: believe no further
        client = str(parsed)
        if trusted.everyone or not trusted.trusts(client):
            break  # `*`: only the right-most entry; else the first address not of a proxy
    return client


class ClientAddressMiddleware:
    """Pure ASGI: put the resolved client address on `scope["client"]` (HTTP and websocket)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            trusted = parse_trusted(get_settings().FORWARDED_ALLOW_IPS)
            peer_host, peer_port = scope.get("client") or (None, 0)
            if trusted.trusts(peer_host):
                forwarded: list[str] = []
                proto: str | None = None
                for name, value in scope.get("headers", []):
                    if name == b"x-forwarded-for":
                        forwarded.append(value.decode("latin-1"))
                    elif name == b"x-forwarded-proto":
                        proto = value.decode("latin-1").split(",")[-1].strip().lower()
                client = resolve_client(peer_host, forwarded, trusted)
                scope = dict(scope)
                scope["client"] = (client, peer_port if client == peer_host else 0)
                if proto in ("http", "https"):
                    websocket = scope["type"] == "websocket"
                    scope["scheme"] = {"http": "ws", "https": "wss"}[proto] if websocket else proto
        await self.app(scope, receive, send)

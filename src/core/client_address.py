"""The client's address: the socket's peer, or what a trusted proxy says it forwarded.

`X-Forwarded-For` is believed only when the peer is listed in `TRUSTED_PROXIES`; the address
taken is the right-most entry that is not itself a trusted proxy (each proxy appends the peer it
saw, so entries further left were written by the client and prove nothing).
"""

import ipaddress
from functools import lru_cache
from typing import Any

from src.core.config import get_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(spec: str) -> tuple[Network, ...]:
    """Parse `TRUSTED_PROXIES` (addresses or CIDRs, comma-separated); a typo fails at start-up."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


# Parsing an address is most of what finding the client costs, and every limited request does it
# (two or three times behind a proxy); the same few addresses come back again and again.
@lru_cache(maxsize=4096)
def _parsed(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _canonical(address: str) -> str | None:
    ip = _parsed(address)
    return str(ip) if ip is not None else None


@lru_cache(maxsize=4096)
def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    ip = _parsed(address)
    return ip is not None and any(ip in net for net in networks)


def client_address(scope: Any) -> str:
    client = scope.get("client")
    peer = client[0] if client else ""
    networks = trusted_networks(get_settings().trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"]
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            # Garbage from the client side of the proxy: fall back to the proxy.
            return _canonical(hop) or peer
    return hops[0] if hops else peer

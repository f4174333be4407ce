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


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


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
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the client side of the proxy: fall back to the proxy
    return hops[0] if hops else peer

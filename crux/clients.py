"""Who is asking: the client address every throttle keys on (log-in, API, password reset).

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, each of which appends the address it received
the request from to ``X-Forwarded-For``, the client is the N-th address from the right: the
entries to the left of it were written by the client itself and prove nothing. With no trusted
proxy (the default), the client is the peer, ``REMOTE_ADDR``, and ``X-Forwarded-For`` is
ignored whatever it says.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# One IPv6 client usually holds a whole /64, so its addresses count as one client.
IPV6_CLIENT_PREFIX = 64


def client_address(request: HttpRequest) -> str | None:
    """The client's address (an IPv6 client's /64 network address); None if unknown."""
    meta = request.META
    trusted = settings.TRUSTED_PROXY_COUNT
    chosen = meta.get("REMOTE_ADDR")
    if trusted > 0:
        forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            # Fewer entries than proxies: the request entered after the first proxy, and
            # every entry there is still one a trusted proxy wrote.
            chosen = forwarded[-trusted] if len(forwarded) >= trusted else forwarded[0]
    return _normalised(chosen) or _normalised(meta.get("REMOTE_ADDR"))


def _normalised(raw: str | None) -> str | None:
    try:
        address = ipaddress.ip_address((raw or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)
        return str(network.network_address)
    return str(address)

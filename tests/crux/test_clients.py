"""The client address every throttle keys on."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from crux.clients import client_address


def _address(remote: str, forwarded: str | None = None) -> str | None:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_without_trusted_proxies_the_client_is_the_peer() -> None:
    assert _address("203.0.113.9", "198.51.100.1") == "203.0.113.9"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # what the client wrote is ignored
        (2, "1.2.3.4, 198.51.100.1, 10.0.0.1", "198.51.100.1"),
        (2, "198.51.100.1", "198.51.100.1"),  # it came in past the outer proxy
        (1, "", "10.0.0.2"),  # no header: the peer
        (1, "not-an-address", "10.0.0.2"),
    ],
)
def test_behind_trusted_proxies_the_client_is_counted_from_the_right(
    count: int, forwarded: str, expected: str
) -> None:
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert _address("10.0.0.2", forwarded) == expected


def test_an_ipv6_client_is_its_64_network() -> None:
    assert _address("2001:db8:1:2:aaaa::1") == _address("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::"
    assert _address("::ffff:203.0.113.9") == "203.0.113.9"

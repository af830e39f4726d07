"""An account that cannot be reached is named, quickly, with a hint when it is on this machine."""

from __future__ import annotations

import pytest

from batch.zoom.client import ClientConfig, _timeout
from batch.zoom.errors import AccountUnreachable


@pytest.mark.parametrize(
    ("api_url", "connect_s"),
    [
        ("http://127.0.0.1:8080/v2", 5.0),
        ("http://localhost:8080/v2", 5.0),
        ("https://api.zoom.us/v2", 30.0),
    ],
    ids=["loopback-ip", "localhost", "zoom"],
)
def test_connect_timeout_is_short_on_this_machine(api_url: str, connect_s: float) -> None:
    """A served sandbox gets 5 s to accept the connection; Zoom gets the whole timeout."""
    config = ClientConfig(api_url, api_url.replace("/v2", "/oauth/token"), None, timeout_s=30.0)
    timeout = _timeout(config)
    assert (timeout.connect, timeout.read) == (connect_s, 30.0)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9/oauth/token",
         "cannot reach http://127.0.0.1:9/oauth/token: refused; is `batch sandbox serve` running?"),
        ("https://zoom.us/oauth/token",
         "cannot reach Zoom at https://zoom.us/oauth/token: refused"),
    ],
    ids=["loopback", "zoom"],
)  # fmt: skip
def test_unreachable_message_names_the_url(url: str, message: str) -> None:
    """The error names the URL; on this machine it asks whether the sandbox is served."""
    assert str(AccountUnreachable(url, "refused")) == message

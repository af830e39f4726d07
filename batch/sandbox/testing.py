"""Test helpers: a small account, a clock tests move by hand, a client already holding a token.

For our tests and for anyone testing a client against the sandbox:

>>> sandbox, client, clock = logged_in()
>>> client.get("/users/lic@example.com").json()["type"]
2
"""

from __future__ import annotations

import copy
from typing import Any

import httpx

from batch.sandbox import Faults, Sandbox

SMALL_ACCOUNT: dict[str, Any] = {
    "account": {"id": "acct1", "plan": "business", "on_prem_user_type": False},
    "plans": {
        "base": {"hosts": 4},
        "large_meeting": {"500": 1},
        "webinar": {"500": 2, "1000": 1},
        "zoom_events": {"500": 1},
    },
    "users": [
        {"email": "lic@example.com", "first_name": "Li", "last_name": "Cens", "dept": "Sales",
         "type": "Licensed", "status": "active", "id": "LIC1",
         "large_meeting": None, "webinar": 500, "zoom_events": None},
        {"email": "basic@example.com", "first_name": "Ba", "last_name": "Sic", "dept": "IT",
         "type": "Basic", "status": "active",
         "large_meeting": None, "webinar": None, "zoom_events": None},
        {"email": "pend@example.com", "first_name": "Pe", "last_name": "Nding", "dept": "HR",
         "type": "Licensed", "status": "pending",
         "large_meeting": 500, "webinar": None, "zoom_events": None},
        {"email": "off@example.com", "first_name": "Of", "last_name": "F", "dept": "HR",
         "type": "Licensed", "status": "inactive",
         "large_meeting": None, "webinar": None, "zoom_events": None},
    ],
}  # fmt: skip


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def account(**changes: Any) -> dict[str, Any]:
    """A deep copy of SMALL_ACCOUNT with top-level keys replaced."""
    data = copy.deepcopy(SMALL_ACCOUNT)
    data.update(copy.deepcopy(changes))
    return data


def get_token(client: httpx.Client) -> str:
    """Fetch an access token the way the Zoom client does."""
    response = client.post(
        "https://zoom.us/oauth/token",
        data={"grant_type": "account_credentials", "account_id": "acct1"},
        auth=("client", "secret"),
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def logged_in(
    data: dict[str, Any] | None = None, *, faults: Faults | None = None, clock: Clock | None = None
) -> tuple[Sandbox, httpx.Client, Clock]:
    """A sandbox of `data` (default the small account) and a client holding a valid token."""
    clock = clock or Clock()
    sandbox = Sandbox.from_dict(data or account(), faults=faults, clock=clock)
    client = httpx.Client(transport=sandbox.transport(), base_url="https://api.zoom.us/v2")
    client.headers["Authorization"] = f"Bearer {get_token(client)}"
    return sandbox, client, clock

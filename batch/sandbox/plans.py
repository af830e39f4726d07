"""The emulated plan endpoint: GET /accounts/{accountId}/plans/usage.

Where Zoom is silent we chose (docs/zoom-api.md §9): `usage` counts every user holding the
license, `pending` the pending ones among them, `active_hosts` the active Licensed/On-prem
users; an add-on list is absent when the account has no plan of that add-on. The free plan ->
400 200 "Only available for paid account.".
"""

from __future__ import annotations

from typing import Any

from batch.sandbox.account import BASE
from batch.sandbox.calls import Call, Result, State, ZoomError
from batch.vocabulary import ADDONS, Kind


def plans_usage(state: State, call: Call) -> Result:
    """GET /accounts/{accountId}/plans/usage: seats bought and used per plan."""
    account = state.account
    account_id = call.params["accountId"]
    if account_id not in ("me", account.id):
        raise ZoomError(404, 2001, f"Account does not exist: {account_id}.")
    if account.plan == "free":
        raise ZoomError(400, 200, "Only available for paid account.")
    base_type = "monthly" if account.plan == "pro" else f"{account.plan}_monthly"
    active_hosts = sum(u.paid and u.status == "active" for u in account.users)
    payload: dict[str, Any] = {
        "plan_base": {
            "hosts": account.purchased.get(BASE, 0),
            "type": base_type,
            "usage": account.usage[BASE],
            "active_hosts": active_hosts,
            "pending": account.pending[BASE],
        }
    }
    prefixes = {
        Kind.LARGE_MEETING: "large",
        Kind.WEBINAR: "webinar",
        Kind.ZOOM_EVENTS: "zoomevents",
    }
    for kind in ADDONS:
        sizes = sorted(s for (k, s) in account.purchased if k is kind and s is not None)
        if sizes:
            payload[f"plan_{kind.value}"] = [
                {
                    "hosts": account.purchased[(kind, size)],
                    "type": f"{prefixes[kind]}{size}_monthly",
                    "usage": account.usage[(kind, size)],
                    "pending": account.pending[(kind, size)],
                }
                for size in sizes
            ]
    return Result(200, payload)

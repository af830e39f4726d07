"""The one builder of sandbox account data (the README's `batch sandbox` JSON) for tests.

    account([user("a@example.com", "Basic"), ...], hosts=5, plans={"webinar": {"500": 1}})
    numbered("user{:03d}@example.com", 120, "Basic")    120 users named from a pattern
    write_account(path, account(...))                    the JSON file `--sandbox` reads

`account` fills what a test does not care about: a business plan, no on-prem type, every user
active unless said otherwise, base seats for every user who holds a paid type, no credentials
(any accepted) and the sandbox's own rate limits unless `limits` is given (FAST_LIMITS keeps the
client's pacing out of a test's time).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

# Rate limits high enough that the client's pacing does not slow the tests (it adopts the
# sandbox's X-RateLimit-Limit after the first answer of each category).
FAST_LIMITS: Final[dict[str, int]] = {"light": 10000, "medium": 10000, "heavy": 10000}
PAID: Final = ("Licensed", "On-Prem")


def user(
    email: str,
    type_: str = "Licensed",
    status: str = "active",
    *,
    first_name: str = "F",
    last_name: str = "L",
    **fields: Any,
) -> dict[str, Any]:
    """One user: no add-ons unless given (`webinar=500`), other fields (`dept=`) as given."""
    return {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "type": type_,
        "status": status,
        "large_meeting": None,
        "webinar": None,
        "zoom_events": None,
        **fields,
    }


def numbered(pattern: str, count: int, type_: str = "Basic", **fields: Any) -> list[dict[str, Any]]:
    """`count` users whose emails are `pattern.format(i)`; last name `i`, the rest as `user`."""
    return [user(pattern.format(i), type_, **{"last_name": str(i), **fields}) for i in range(count)]


def account(
    users: Iterable[Mapping[str, Any]],
    *,
    hosts: int | None = None,
    plans: Mapping[str, Mapping[str, int]] | None = None,
    limits: Mapping[str, Any] | None = None,
    credentials: Mapping[str, str] | None = None,
    on_prem: bool = False,
    account_id: str = "sandbox",
    plan: str = "business",
) -> dict[str, Any]:
    """Account data: these users (active unless their `status` says), seats and add-on plans.

    `hosts` (base seats) defaults to the number of users holding a paid type; `plans` adds
    add-on pools, e.g. {"webinar": {"500": 2}}.
    """
    members = [{"status": "active", **u} for u in users]
    seats = sum(u["type"] in PAID for u in members) if hosts is None else hosts
    data: dict[str, Any] = {
        "account": {"id": account_id, "plan": plan, "on_prem_user_type": on_prem},
        "plans": {"base": {"hosts": seats}, **(plans or {})},
        "users": members,
    }
    if limits is not None:
        data["limits"] = dict(limits)
    if credentials is not None:
        data["credentials"] = dict(credentials)
    return data


def write_account(path: Path, data: Mapping[str, Any]) -> Path:
    """Write account data where `--sandbox PATH` reads it; returns `path`."""
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path

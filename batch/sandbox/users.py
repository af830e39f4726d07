"""The emulated user endpoints: GET /users (paged), GET /users/summary, GET and PATCH a user.

Where Zoom is silent we chose (docs/zoom-api.md §9):

- PATCH /users/{userId} works for pending and inactive users too (their type changes and they
  keep holding the seat; the planner refuses them anyway as `user-not-active`). Types 1, 2, 3
  only; anything else -> 400 300 "Validation Failed." with `errors`. first_name, last_name,
  dept and cost_center may be changed as well; other fields are ignored.
- Users summary: licensed/basic/on_prem counts are of non-pending users; pending users are
  counted in pending_users_count; total_users_count counts everyone. The client never asks
  for it; the rate-limit tests use it as a second Medium endpoint beside GET /users.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from typing import Any, Final

from batch.sandbox.account import BASE, User
from batch.sandbox.calls import (
    FIXED_TIME,
    Call,
    Change,
    Page,
    Result,
    State,
    ZoomError,
    invalid_field,
)
from batch.vocabulary import USER_TYPE_BY_CODE, USER_TYPE_CODES, UserType

PAGE_TOKEN_TTL_S: Final = 15 * 60
DEFAULT_PAGE_SIZE: Final = 30
MAX_PAGE_SIZE: Final = 300


def user_json(state: State, user: User, *, detail: bool = False) -> dict[str, Any]:
    """A user object as GET /users lists it; `detail` adds the fields of GET /users/{userId}."""
    pending = user.status == "pending"
    data: dict[str, Any] = {} if pending else {"id": user.id}
    data |= {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": f"{user.first_name} {user.last_name}".strip(),
        "type": USER_TYPE_CODES[user.type],
        "pmi": 1_000_000_000 + int.from_bytes(user.id.encode()[:8], "big") % 8_999_999_999,
        "timezone": "Europe/Amsterdam",
        "verified": 0 if pending else 1,
        "dept": user.dept,
        "user_created_at": FIXED_TIME,
        "created_at": FIXED_TIME,
        "language": "en-US",
        "status": user.status,
        "role_id": "2",
        "group_ids": [],
    }
    if not pending:
        data["last_login_time"] = FIXED_TIME
        data["last_client_version"] = "6.4.3.12345(mac)"
    if detail:
        data |= {
            "role_name": "Member",
            "account_id": state.account.id,
            "account_number": 10000001,
            "cost_center": user.cost_center or "",
            "job_title": "",
            "company": "",
            "location": "",
            "login_types": [100],
            "use_pmi": False,
            "cluster": "us06",
            "zoom_one_type": 0,
        }
    return data | user.extra


def list_users(state: State, call: Call) -> Result:
    """GET /users: one page of the users of one status."""
    query = call.request.url.params
    now = state.clock()
    token = query.get("next_page_token", "")
    if token:
        page = state.pages.get(token)
        if page is None or now >= page.expires_at:
            raise ZoomError(400, 300, "The next page token is invalid or expired.")
        status, size, offset = page.status, page.size, page.offset
    else:
        status = query.get("status", "active")
        if status not in ("active", "inactive", "pending"):
            raise invalid_field("status")
        size_text = query.get("page_size", str(DEFAULT_PAGE_SIZE))
        if not size_text.isdigit() or int(size_text) < 1:
            raise invalid_field("page_size")
        size, offset = min(int(size_text), MAX_PAGE_SIZE), 0
    users = _users_with_status(state, status)
    next_token = ""
    if offset + size < len(users):
        state.pages = {t: p for t, p in state.pages.items() if p.expires_at > now}
        next_token = secrets.token_urlsafe(24)
        state.pages[next_token] = Page(status, size, offset + size, now + PAGE_TOKEN_TTL_S)
    return Result(
        200,
        {
            "next_page_token": next_token,
            "page_count": math.ceil(len(users) / size),
            "page_number": offset // size + 1,
            "page_size": size,
            "total_records": len(users),
            "users": [user_json(state, u) for u in users[offset : offset + size]],
        },
    )


def _users_with_status(state: State, status: str) -> list[User]:
    """The account's users of one status, kept until the account changes (paging is hot)."""
    cached = state.by_status.get(status)
    if cached is None or cached[0] != state.version:
        cached = (state.version, [u for u in state.account.users if u.status == status])
        state.by_status[status] = cached
    return cached[1]


def summary(state: State, call: Call) -> Result:
    """GET /users/summary: how many users of each type and status."""
    users = state.account.users
    settled = Counter(u.type for u in users if u.status != "pending")
    return Result(
        200,
        {
            "licensed_users_count": settled[UserType.LICENSED],
            "basic_users_count": settled[UserType.BASIC],
            "on_prem_users_count": settled[UserType.ON_PREM],
            "room_users_count": 0,
            "pending_users_count": sum(u.status == "pending" for u in users),
            "join_only_users_count": 0,
            "total_users_count": len(users),
        },
    )


def get_user(state: State, call: Call) -> Result:
    """GET /users/{userId}: one user with the detail fields."""
    return Result(200, user_json(state, state.find(call.params["userId"]), detail=True))


def patch_user(state: State, call: Call) -> Result:
    """PATCH /users/{userId}: the user type and profile fields."""
    body = call.body or {}
    user = state.find(call.params["userId"])
    new_type: UserType | None = None
    if "type" in body:
        code = body["type"]
        if isinstance(code, bool) or code not in USER_TYPE_BY_CODE:
            raise invalid_field("type")
        new_type = USER_TYPE_BY_CODE[code]
    profile = {k: body[k] for k in ("first_name", "last_name", "dept", "cost_center") if k in body}
    for name, value in profile.items():
        if not isinstance(value, str):
            raise invalid_field(name)
    if new_type is not None and new_type is not user.type:
        if new_type is UserType.ON_PREM and not state.account.on_prem:
            raise ZoomError(400, 300, "Your account can't set user type as On-prem.")
        if new_type is not UserType.BASIC and not user.paid and state.account.free(BASE) < 1:
            raise ZoomError(400, 3412, _no_paid_seat(new_type, state.account.purchased[BASE]))
    changes: list[Change] = []
    if new_type is not None and new_type is not user.type:
        changes += [(user.email, *c) for c in state.account.set_type(user, new_type)]
    for name, value in profile.items():
        if getattr(user, name) != value:
            changes.append((user.email, *state.account.set_profile(user, name, value)))
    return Result(204, None, changes)


def _no_paid_seat(new_type: UserType, hosts: int) -> str:
    """Zoom's 3412 message for a Basic user made paying when every paid seat is taken."""
    return (
        f'Your request to convert the user type of a "Basic" user to a "{new_type}" user was not '
        f"approved at this time because your account has reached the permitted maximum number of "
        f'"{hosts}" paying users. Please purchase additional licenses or remove existing paying '
        f"user(s) before trying again."
    )

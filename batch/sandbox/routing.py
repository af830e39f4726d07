"""Which emulated endpoint answers a request: the route table, method + path -> handler.

Each route names Zoom's path template, its rate-limit category and the function that answers
it (a `Handler`, never a name looked up at run time). A path matching no route, or a method a
path does not have, gets Zoom's 404 2300 from the sandbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from batch.sandbox import plans, settings, users
from batch.sandbox.calls import Handler
from batch.zoom.limits import Category


@dataclass(frozen=True)
class Route:
    """One emulated endpoint."""

    method: str
    template: str  # "GET /users/{userId}", as counted in the sandbox's stats
    category: Category
    handler: Handler
    pattern: re.Pattern[str]


def route(method: str, path: str, category: Category, handler: Handler) -> Route:
    """A route for `method` on Zoom's path template `path` (under /v2)."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, f"{method} {path}", category, handler, re.compile(f"^/v2{regex}$"))


ROUTES: Final = (
    route("GET", "/users", Category.MEDIUM, users.list_users),
    route("GET", "/users/summary", Category.MEDIUM, users.summary),
    route("GET", "/users/{userId}", Category.LIGHT, users.get_user),
    route("PATCH", "/users/{userId}", Category.LIGHT, users.patch_user),
    route("GET", "/users/{userId}/settings", Category.MEDIUM, settings.get_settings),
    route("PATCH", "/users/{userId}/settings", Category.MEDIUM, settings.patch_settings),
    route("GET", "/accounts/{accountId}/plans/usage", Category.HEAVY, plans.plans_usage),
)
# Fixed paths that a {userId} pattern would take for a user id.
_STATIC_PATHS: Final = frozenset({"/v2/users/summary"})


def match(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    """The route answering `method path`, with its path parameters; (None, {}) for none."""
    for candidate in ROUTES:
        if candidate.method != method:
            continue
        found = candidate.pattern.match(path)
        if found is None:
            continue
        params = found.groupdict()
        if "userId" in params and path in _STATIC_PATHS:
            continue
        return candidate, params
    return None, {}

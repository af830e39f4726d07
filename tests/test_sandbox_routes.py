"""The sandbox's route table: which endpoint answers a method and path, in which rate category."""

from __future__ import annotations

import pytest

from batch.sandbox import routing, users
from batch.zoom.limits import Category


@pytest.mark.parametrize(
    ("method", "path", "template", "category", "params"),
    [
        ("GET", "/v2/users", "GET /users", Category.MEDIUM, {}),
        ("GET", "/v2/users/summary", "GET /users/summary", Category.MEDIUM, {}),
        ("GET", "/v2/users/ann@x.com", "GET /users/{userId}", Category.LIGHT,
         {"userId": "ann@x.com"}),
        ("PATCH", "/v2/users/ID1", "PATCH /users/{userId}", Category.LIGHT, {"userId": "ID1"}),
        ("GET", "/v2/users/ID1/settings", "GET /users/{userId}/settings", Category.MEDIUM,
         {"userId": "ID1"}),
        ("PATCH", "/v2/users/ID1/settings", "PATCH /users/{userId}/settings", Category.MEDIUM,
         {"userId": "ID1"}),
        ("GET", "/v2/accounts/me/plans/usage", "GET /accounts/{accountId}/plans/usage",
         Category.HEAVY, {"accountId": "me"}),
    ],
    ids=["list", "summary", "user", "patch-user", "settings", "patch-settings", "plans"],
)  # fmt: skip
def test_route_for_each_emulated_endpoint(
    method: str, path: str, template: str, category: Category, params: dict[str, str]
) -> None:
    """Each emulated endpoint has one route, with Zoom's rate-limit category and its parameters."""
    route, found = routing.match(method, path)
    assert route is not None
    assert (route.template, route.category, found) == (template, category, params)
    assert callable(route.handler)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/users/features"),
        ("DELETE", "/v2/users/ID1"),
        ("PATCH", "/v2/users/summary"),
        ("GET", "/v2/users/ID1/settings/extra"),
        ("GET", "/users"),
    ],
    ids=["bulk-features", "delete-user", "patch-summary", "deeper-path", "no-v2"],
)
def test_no_route(method: str, path: str) -> None:
    """A method or path the sandbox does not emulate matches no route (the sandbox's 404 2300)."""
    assert routing.match(method, path) == (None, {})


def test_summary_is_not_taken_for_a_user_id() -> None:
    """GET /users/summary is the summary endpoint, never the user with id `summary`."""
    route, _ = routing.match("GET", "/v2/users/summary")
    assert route is not None and route.handler is users.summary

"""Contract tests of the sandbox endpoints: status codes and bodies exactly as Zoom's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch.sandbox import Faults, Sandbox
from batch.sandbox.testing import Clock, account, get_token, logged_in

TOKEN_URL = "https://zoom.us/oauth/token"
INVALID_CLIENT = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
CREDENTIALS = {"account_id": "acct1", "client_id": "client", "client_secret": "secret"}


# -- OAuth ------------------------------------------------------------------------------------


def test_token_success_shape() -> None:
    """A token answer carries the S2S fields, a bearer type and a one-hour lifetime."""
    sandbox = Sandbox.from_dict(account(credentials=CREDENTIALS))
    client = httpx.Client(transport=sandbox.transport())
    body = client.post(
        TOKEN_URL,
        data={"grant_type": "account_credentials", "account_id": "acct1"},
        auth=("client", "secret"),
    ).json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "api_url"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    assert "user:update:settings:admin" in body["scope"].split(" ")


@pytest.mark.parametrize(
    ("auth", "form", "expected"),
    [
        (None, {"grant_type": "account_credentials", "account_id": "acct1"}, INVALID_CLIENT),
        (("client", "wrong"), {"grant_type": "account_credentials", "account_id": "acct1"},
         INVALID_CLIENT),
        (("client", "secret"), {"grant_type": "client_credentials", "account_id": "acct1"},
         {"reason": "unsupported grant type", "error": "unsupported_grant_type"}),
        (("client", "secret"), {"grant_type": "account_credentials", "account_id": "other"},
         {"reason": "Invalid account_id", "error": "invalid_request"}),
    ],
    ids=["no-basic-auth", "wrong-secret", "wrong-grant", "wrong-account"],
)  # fmt: skip
def test_token_refusals(
    auth: tuple[str, str] | None, form: dict[str, str], expected: dict[str, str]
) -> None:
    """Bad token requests get 400 with Zoom's OAuth-style body and no token."""
    sandbox = Sandbox.from_dict(account(credentials=CREDENTIALS))
    client = httpx.Client(transport=sandbox.transport())
    response = client.post(TOKEN_URL, data=form, auth=auth)
    assert (response.status_code, response.json()) == (400, expected)


def test_any_credentials_accepted_without_credentials_block() -> None:
    """An account JSON without `credentials` accepts whatever client id and secret are sent."""
    sandbox = Sandbox.from_dict(account())
    client = httpx.Client(transport=sandbox.transport())
    response = client.post(
        TOKEN_URL,
        data={"grant_type": "account_credentials", "account_id": "x"},
        auth=("anyone", "anything"),
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("header", "advance", "ttl", "message"),
    [
        (None, 0, None, "Invalid access token."),
        ("Bearer not-a-token", 0, None, "Invalid access token."),
        ("valid", 3600, None, "Access token is expired."),
        ("valid", 5, 5.0, "Access token is expired."),
    ],
    ids=["missing", "unknown", "expired-after-an-hour", "expired-by-fault-ttl"],
)
def test_bearer_refusals(
    header: str | None, advance: float, ttl: float | None, message: str
) -> None:
    """A missing, unknown or expired bearer token gets 401 code 124."""
    clock = Clock()
    sandbox = Sandbox.from_dict(account(), faults=Faults(token_ttl_s=ttl), clock=clock)
    client = httpx.Client(transport=sandbox.transport(), base_url="https://api.zoom.us/v2")
    token = get_token(client)
    headers = (
        {}
        if header is None
        else {"Authorization": f"Bearer {token}" if header == "valid" else header}
    )
    clock.advance(advance)
    response = client.get("/users", headers=headers)
    assert (response.status_code, response.json()) == (401, {"code": 124, "message": message})


def test_token_valid_just_before_expiry() -> None:
    """A token still works one second before its hour is up."""
    _, client, clock = logged_in()
    clock.advance(3599)
    assert client.get("/users").status_code == 200


# -- users ------------------------------------------------------------------------------------


def _many_users(count: int) -> dict[str, Any]:
    users = [
        {"email": f"u{i:04d}@example.com", "type": "Basic", "status": "active"}
        for i in range(count)
    ]
    return account(users=users)


def test_pagination_to_last_page() -> None:
    """1,000 users at page_size 300 come in 4 pages, the last with an empty token."""
    _, client, _ = logged_in(_many_users(1000))
    pages: list[tuple[int, int, int, bool]] = []
    params: dict[str, Any] = {"page_size": 300}
    emails: list[str] = []
    while True:
        body = client.get("/users", params=params).json()
        pages.append((body["page_number"], body["page_count"], len(body["users"]),
                      body["next_page_token"] == ""))  # fmt: skip
        emails += [u["email"] for u in body["users"]]
        if not body["next_page_token"]:
            break
        params = {"page_size": 300, "next_page_token": body["next_page_token"]}
    assert pages == [(1, 4, 300, False), (2, 4, 300, False), (3, 4, 300, False), (4, 4, 100, True)]
    assert emails == [f"u{i:04d}@example.com" for i in range(1000)]


@pytest.mark.parametrize(
    ("params", "page_size", "count"),
    [({}, 30, 30), ({"page_size": 5000}, 300, 300), ({"page_size": 7}, 7, 7)],
    ids=["default-30", "clamped-to-300", "as-asked"],
)
def test_page_size(params: dict[str, int], page_size: int, count: int) -> None:
    """page_size defaults to 30 and is clamped to 300."""
    _, client, _ = logged_in(_many_users(400))
    body = client.get("/users", params=params).json()
    assert (body["page_size"], len(body["users"]), body["total_records"]) == (page_size, count, 400)


@pytest.mark.parametrize(
    ("advance", "token", "status"),
    [(899, "real", 200), (901, "real", 400), (0, "made-up", 400)],
    ids=["within-15-minutes", "expired", "unknown"],
)
def test_page_token_expiry(advance: float, token: str, status: int) -> None:
    """A next_page_token lives 15 minutes; an expired or unknown one gets 400 code 300."""
    _, client, clock = logged_in(_many_users(50))
    real = client.get("/users", params={"page_size": 10}).json()["next_page_token"]
    clock.advance(advance)
    response = client.get("/users", params={"next_page_token": real if token == "real" else token})
    assert response.status_code == status
    if status == 400:
        assert response.json() == {
            "code": 300,
            "message": "The next page token is invalid or expired.",
        }


@pytest.mark.parametrize(
    ("status", "emails", "with_id"),
    [
        ("active", ["lic@example.com", "basic@example.com"], True),
        ("pending", ["pend@example.com"], False),
        ("inactive", ["off@example.com"], True),
    ],
    ids=["active-default", "pending-no-id", "inactive"],
)
def test_list_by_status(status: str, emails: list[str], with_id: bool) -> None:
    """The status filter selects users; pending users have no id; type is Zoom's number."""
    _, client, _ = logged_in()
    params = {} if status == "active" else {"status": status}
    users = client.get("/users", params=params).json()["users"]
    assert [u["email"] for u in users] == emails
    assert all(("id" in u) is with_id for u in users)
    assert all(isinstance(u["type"], int) for u in users)


@pytest.mark.parametrize(
    "user_id", ["LIC1", "lic@example.com", "LIC@Example.COM"], ids=["id", "email", "email-case"]
)
def test_get_user(user_id: str) -> None:
    """A user is found by id or by email, case-insensitively."""
    _, client, _ = logged_in()
    body = client.get(f"/users/{user_id}").json()
    assert (body["id"], body["email"], body["type"], body["dept"]) == (
        "LIC1", "lic@example.com", 2, "Sales",
    )  # fmt: skip


def test_unknown_user() -> None:
    """An unknown user gets 404 code 1001 naming the id as sent."""
    _, client, _ = logged_in()
    response = client.get("/users/nobody@example.com")
    assert (response.status_code, response.json()) == (
        404, {"code": 1001, "message": "User does not exist: nobody@example.com."},
    )  # fmt: skip


NO_PAID_SEAT = (
    'Your request to convert the user type of a "Basic" user to a "Licensed" user was not '
    'approved at this time because your account has reached the permitted maximum number of "3" '
    "paying users. Please purchase additional licenses or remove existing paying user(s) before "
    "trying again."
)


@pytest.mark.parametrize(
    ("hosts", "user", "body", "status", "answer", "type_after"),
    [
        (4, "basic@example.com", {"type": 2}, 204, None, "Licensed"),
        (3, "basic@example.com", {"type": 2}, 400, {"code": 3412, "message": NO_PAID_SEAT},
         "Basic"),
        (4, "basic@example.com", {"type": 3}, 400,
         {"code": 300, "message": "Your account can't set user type as On-prem."}, "Basic"),
        (3, "lic@example.com", {"type": 1}, 204, None, "Basic"),
        (3, "lic@example.com", {"type": 2}, 204, None, "Licensed"),
        (4, "basic@example.com", {"type": 4}, 400,
         {"code": 300, "message": "Validation Failed.",
          "errors": [{"field": "type", "message": "Invalid field."}]}, "Basic"),
        (4, "off@example.com", {"type": 1}, 204, None, "Basic"),
    ],
    ids=["upgrade", "no-free-seat-3412", "on-prem-unavailable", "downgrade", "same-type",
         "unsupported-type", "inactive-user-changes"],
)  # fmt: skip
def test_patch_user_type(
    hosts: int,
    user: str,
    body: dict[str, int],
    status: int,
    answer: dict[str, Any] | None,
    type_after: str,
) -> None:
    """PATCH /users changes the type when a base seat is free, else refuses as Zoom does."""
    data = account()
    data["plans"]["base"]["hosts"] = hosts
    sandbox, client, _ = logged_in(data)
    response = client.patch(f"/users/{user}", json=body)
    assert response.status_code == status
    assert (response.json() if response.content else None) == answer
    held = {u["email"]: u["type"] for u in sandbox.to_dict()["users"]}
    assert held[user] == type_after


def test_downgrade_removes_addons() -> None:
    """Downgrading to Basic removes the user's add-ons and frees their seats."""
    sandbox, client, _ = logged_in()
    assert client.patch("/users/lic@example.com", json={"type": 1}).status_code == 204
    assert sandbox.stats.changes == [
        ("lic@example.com", "type", "Licensed", "Basic"),
        ("lic@example.com", "webinar", 500, None),
    ]
    usage = client.get("/accounts/me/plans/usage").json()
    assert [p["usage"] for p in usage["plan_webinar"]] == [0, 0]
    assert usage["plan_base"]["usage"] == 2


def test_on_prem_allowed_when_account_offers_it() -> None:
    """On an account with the On-prem type, type 3 is accepted and uses a base seat."""
    data = account()
    data["account"]["on_prem_user_type"] = True
    _, client, _ = logged_in(data)
    assert client.patch("/users/basic@example.com", json={"type": 3}).status_code == 204
    assert client.get("/users/basic@example.com").json()["type"] == 3
    assert client.get("/accounts/me/plans/usage").json()["plan_base"]["usage"] == 4


@pytest.mark.parametrize(
    "content", [b"{not json", b"[1, 2]", b""], ids=["broken", "array", "empty"]
)
def test_bad_json_body(content: bytes) -> None:
    """A body that is not a JSON object gets 400 code 300."""
    _, client, _ = logged_in()
    response = client.patch("/users/lic@example.com", content=content)
    assert (response.status_code, response.json()) == (
        400, {"code": 300, "message": "Request Body should be a valid JSON object."},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v2/meetings"), ("DELETE", "/v2/users/lic@example.com"), ("GET", "/v2/users/x/y")],
    ids=["unknown-path", "unknown-method", "too-deep"],
)
def test_unknown_route(method: str, path: str) -> None:
    """An endpoint the sandbox does not have gets 404 code 2300."""
    _, client, _ = logged_in()
    response = client.request(method, f"https://api.zoom.us{path}")
    assert (response.status_code, response.json()) == (
        404, {"code": 2300, "message": "This API endpoint is not recognized."},
    )  # fmt: skip


NOT_PAID = {
    1108: "Only Licensed or On-prem users can enable the large meeting feature.",
    1122: "Webinar feature can only be enabled for Licensed or On-prem users.",
    1206: "You can only enable the Zoom Events feature for Licensed or On-prem users.",
}


# -- settings (add-ons) -----------------------------------------------------------------------


def test_get_settings_feature() -> None:
    """The feature object shows held add-ons with their capacity, absent ones as false."""
    _, client, _ = logged_in()
    feature = client.get("/users/lic@example.com/settings").json()["feature"]
    assert (feature["webinar"], feature["webinar_capacity"]) == (True, 500)
    assert (feature["large_meeting"], feature["zoom_events"]) == (False, False)
    assert "large_meeting_capacity" not in feature


PENDING = {
    "code": 1000,
    "message": "You can not access settings of users that are still in pending state.",
}


@pytest.mark.parametrize("method", ["GET", "PATCH"], ids=["get", "patch"])
def test_settings_of_pending_user(method: str) -> None:
    """Settings of a pending user cannot be read or changed: 400 code 1000."""
    _, client, _ = logged_in()
    response = client.request(method, "/users/pend@example.com/settings", json={"feature": {}})
    assert (response.status_code, response.json()) == (400, PENDING)


@pytest.mark.parametrize(
    ("user", "feature", "status", "answer", "held_after"),
    [
        ("lic@example.com", {"webinar": True, "webinar_capacity": 1000}, 204, None,
         (None, 1000, None)),
        ("lic@example.com", {"webinar": False}, 204, None, (None, None, None)),
        ("lic@example.com", {"zoom_events": True, "zoom_events_capacity": 500}, 204, None,
         (None, 500, 500)),
        ("lic@example.com", {"zoom_events": True}, 204, None, (None, 500, 500)),
        ("basic@example.com", {"large_meeting": True, "large_meeting_capacity": 500}, 400,
         {"code": 1108, "message": NOT_PAID[1108]},
         (None, None, None)),
        ("basic@example.com", {"webinar": True, "webinar_capacity": 500}, 400,
         {"code": 1122, "message": NOT_PAID[1122]},
         (None, None, None)),
        ("basic@example.com", {"zoom_events": True, "zoom_events_capacity": 500}, 400,
         {"code": 1206, "message": NOT_PAID[1206]},
         (None, None, None)),
        ("lic@example.com", {"large_meeting": True, "large_meeting_capacity": 500}, 400,
         {"code": 200, "message": "You can add max 1 Large 500 users."}, (None, 500, None)),
        ("lic@example.com", {"webinar": True, "webinar_capacity": 3000}, 400,
         {"code": 300, "message": "The webinar plan you want to assign does not exist."},
         (None, 500, None)),
        ("lic@example.com", {"zoom_events": True, "zoom_events_capacity": 1000}, 400,
         {"code": 300, "message": "The events plan you want to assign does not exist."},
         (None, 500, None)),
        ("lic@example.com", {"large_meeting": True, "large_meeting_capacity": 1000}, 400,
         {"code": 300, "message": "The large meeting plan you want to assign does not exist."},
         (None, 500, None)),
        ("lic@example.com", {"webinar_capacity": 501}, 400,
         {"code": 300, "message": "Validation Failed.",
          "errors": [{"field": "feature.webinar_capacity", "message": "Invalid field."}]},
         (None, 500, None)),
        ("lic@example.com", {"webinar": True, "webinar_capacity": 1000, "large_meeting": True,
                             "large_meeting_capacity": 500}, 400,
         {"code": 200, "message": "You can add max 1 Large 500 users."}, (None, 500, None)),
        ("basic@example.com", {"webinar": False}, 204, None, (None, None, None)),
    ],
    ids=["resize", "remove", "events-beside-webinar", "events-default-size", "basic-large-1108",
         "basic-webinar-1122", "basic-events-1206", "no-seat-200", "no-webinar-plan",
         "no-events-plan", "no-large-plan", "unknown-capacity", "all-or-nothing",
         "remove-not-held"],
)  # fmt: skip
def test_patch_settings(
    user: str,
    feature: dict[str, Any],
    status: int,
    answer: dict[str, Any] | None,
    held_after: tuple[int | None, int | None, int | None],
) -> None:
    """PATCH settings gives, resizes or removes add-ons, all or nothing, refusing as Zoom does."""
    sandbox, client, _ = logged_in()
    response = client.patch(f"/users/{user}/settings", json={"feature": feature})
    assert response.status_code == status
    assert (response.json() if response.content else None) == answer
    held = next(u for u in sandbox.to_dict()["users"] if u["email"] == user)
    assert (held["large_meeting"], held["webinar"], held["zoom_events"]) == held_after


def test_resize_frees_old_seat() -> None:
    """Changing Webinar 500 to 1000 frees the 500 seat and takes a 1000 seat."""
    _, client, _ = logged_in()
    client.patch("/users/lic@example.com/settings", json={"feature": {"webinar_capacity": 1000}})
    usage = client.get("/accounts/me/plans/usage").json()["plan_webinar"]
    assert [(p["type"], p["usage"]) for p in usage] == [
        ("webinar500_monthly", 0), ("webinar1000_monthly", 1),
    ]  # fmt: skip


# -- endpoints the client never calls -----------------------------------------------------------


def test_bulk_features_not_emulated() -> None:
    """POST /users/features (which batch never sends) gets Zoom's 404 2300 unknown endpoint."""
    sandbox, client, _ = logged_in()
    body = {"feature_type": "webinar", "feature_value": "0", "users": [{"email": "lic@x.com"}]}
    response = client.post("/users/features", json=body)
    assert (response.status_code, response.json()["code"]) == (404, 2300)
    assert sandbox.stats.changes == []


# -- account ----------------------------------------------------------------------------------


def test_plans_usage() -> None:
    """Plan usage counts every holder (pending ones also in `pending`) against purchased hosts."""
    _, client, _ = logged_in()
    for path in ("/accounts/me/plans/usage", "/accounts/acct1/plans/usage"):
        assert client.get(path).json() == {
            "plan_base": {"hosts": 4, "type": "business_monthly", "usage": 3, "active_hosts": 1,
                          "pending": 1},
            "plan_large_meeting": [{"hosts": 1, "type": "large500_monthly", "usage": 1,
                                    "pending": 1}],
            "plan_webinar": [
                {"hosts": 2, "type": "webinar500_monthly", "usage": 1, "pending": 0},
                {"hosts": 1, "type": "webinar1000_monthly", "usage": 0, "pending": 0},
            ],
            "plan_zoom_events": [{"hosts": 1, "type": "zoomevents500_monthly", "usage": 0,
                                  "pending": 0}],
        }  # fmt: skip


def test_plans_usage_free_account() -> None:
    """A free account has no plan usage: 400 code 200."""
    data = account()
    data["account"]["plan"] = "free"
    _, client, _ = logged_in(data)
    response = client.get("/accounts/me/plans/usage")
    assert (response.status_code, response.json()) == (
        400, {"code": 200, "message": "Only available for paid account."},
    )  # fmt: skip


def test_users_summary() -> None:
    """The summary counts users by type, pending users apart."""
    _, client, _ = logged_in()
    assert client.get("/users/summary").json() == {
        "licensed_users_count": 2, "basic_users_count": 1, "on_prem_users_count": 0,
        "room_users_count": 0, "pending_users_count": 1, "join_only_users_count": 0,
        "total_users_count": 4,
    }  # fmt: skip


def test_async_client() -> None:
    """The same transport serves an httpx.AsyncClient."""
    import asyncio

    sandbox, sync_client, _ = logged_in()

    async def run() -> int:
        async with httpx.AsyncClient(
            transport=sandbox.transport(),
            base_url="https://api.zoom.us/v2",
            headers={"Authorization": sync_client.headers["Authorization"]},
        ) as client:
            response = await client.patch("/users/basic@example.com", json={"type": 2})
            return response.status_code

    assert asyncio.run(run()) == 204
    assert sandbox.stats.writes == 1

"""The Zoom emulator: routing, OAuth, the user/settings/feature/plan endpoints, Zoom error bodies.

`Sandbox.handle(httpx.Request) -> httpx.Response` is the whole server; `transport()` wraps it
for httpx clients and `serve()` (server.py) puts it on 127.0.0.1. Shapes, status codes and
bodies follow docs/zoom-api.md sections 1-7 and its section 9 decisions. Where Zoom is
silent we chose:

- Token: `expires_in` always says 3600; Faults.token_ttl_s makes the real life shorter (to force
  expiry mid-run). Unknown bearer -> 401 124 "Invalid access token.", expired -> 401 124
  "Access token is expired.". Token parameters may come in the form body or the query string.
  Wrong account_id (when the account JSON has credentials) -> 400
  {"reason": "Invalid account_id", "error": "invalid_request"}.
- PATCH /users/{userId} works for pending and inactive users too (their type changes and they
  keep holding the seat; the planner refuses them anyway as `user-not-active`). Types 1, 2, 3
  only; anything else -> 400 300 "Validation Failed." with `errors`. first_name, last_name,
  dept and cost_center may be changed as well; other fields are ignored.
- GET and PATCH /users/{userId}/settings for a pending user -> 400 1000 "You can not access
  settings of users that are still in pending state.".
- Settings `feature`: a held add-on reads `"webinar": true, "webinar_capacity": 500`; one not
  held reads `"webinar": false` with no capacity key. PATCH with `webinar: true` and no capacity
  keeps the held size, else takes the smallest size the account has a plan of. A capacity that is
  not a known size of that add-on -> 400 300 "Validation Failed.". Seat messages (code 200):
  "You can add max N Large 500 users." / "... Webinar 500 users." / "... Zoom Events 500 users."
  (N = purchased seats of that size). No plan of that size (code 300): "The large meeting plan
  you want to assign does not exist." / "The webinar plan ..." / "The events plan ...".
- POST /users/features: more than 30 users -> 400 300 "You can only update up to 30 users at
  a time."; a value whose size the account has no plan of -> 400 200 "Current account does not
  enable this feature."; an add-on for a pending user fails as "Users not found" (settings of
  pending users cannot be touched); success_user_ids hold ids (the email for pending users, who
  have no id). Every call (also a refused one) starts the 10-second window.
- Plans usage: `usage` counts every user holding the license, `pending` the pending ones among
  them, `active_hosts` the active Licensed/On-prem users; an add-on list is absent when the
  account has no plan of that add-on. The free plan -> 400 200 "Only available for paid account.".
- Users summary: licensed/basic/on_prem counts are of non-pending users; pending users are
  counted in pending_users_count; total_users_count counts everyone.
- Unknown route (or a method a route does not have) -> 404 2300, without rate-limit headers.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import math
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

import anyio.to_thread
import httpx
import orjson

from batch.sandbox.account import (
    BASE,
    Account,
    AccountFile,
    NotSaved,
    User,
    parse_account,
    read_account,
)
from batch.sandbox.faults import ERROR_MESSAGES, FaultPlan, Faults
from batch.sandbox.ratelimit import DAILY_MESSAGE, QPS_MESSAGE, Category, RateLimiter
from batch.vocabulary import ADDON_SIZES, ADDONS, USER_TYPE_BY_CODE, USER_TYPE_CODES, Kind, UserType

log = logging.getLogger(__name__)

TOKEN_TTL_S: Final = 3600
PAGE_TOKEN_TTL_S: Final = 15 * 60
DEFAULT_PAGE_SIZE: Final = 30
MAX_PAGE_SIZE: Final = 300
FEATURES_MAX_USERS: Final = 30
FEATURES_WINDOW_S: Final = 10.0
SCOPES: Final = (
    "user:read:list_users:admin user:read:user:admin user:update:user:admin "
    "user:read:settings:admin user:update:settings:admin user:write:feature:admin "
    "user:read:summary:admin billing:read:plan_usage:admin"
)
FIXED_TIME: Final = "2024-01-15T09:00:00Z"
JSON_TYPE: Final = "application/json;charset=UTF-8"

NOT_PAID_ERRORS: Final = {
    Kind.LARGE_MEETING: (
        1108,
        "Only Licensed or On-prem users can enable the large meeting feature.",
    ),
    Kind.WEBINAR: (1122, "Webinar feature can only be enabled for Licensed or On-prem users."),
    Kind.ZOOM_EVENTS: (
        1206,
        "You can only enable the Zoom Events feature for Licensed or On-prem users.",
    ),
}
SEAT_NAMES: Final = {
    Kind.LARGE_MEETING: "Large",
    Kind.WEBINAR: "Webinar",
    Kind.ZOOM_EVENTS: "Zoom Events",
}
NO_PLAN_MESSAGES: Final = {
    Kind.LARGE_MEETING: "The large meeting plan you want to assign does not exist.",
    Kind.WEBINAR: "The webinar plan you want to assign does not exist.",
    Kind.ZOOM_EVENTS: "The events plan you want to assign does not exist.",
}
PENDING_SETTINGS: Final = "You can not access settings of users that are still in pending state."
# POST /users/features feature_value codes (reference section 5): value -> size, 0 = off.
FEATURE_VALUES: Final[dict[Kind, dict[str, int | None]]] = {
    Kind.LARGE_MEETING: {"128": 500, "256": 1000, "1024": 3000, "2048": 5000, "0": None},
    Kind.WEBINAR: {
        "16": 100,
        "1": 500,
        "64": 1000,
        "128": 3000,
        "256": 5000,
        "512": 10000,
        "1024": 20000,
        "2048": 30000,
        "4096": 40000,
        "8192": 50000,
        "0": None,
    },
    Kind.ZOOM_EVENTS: {str(size): size for size in ADDON_SIZES[Kind.ZOOM_EVENTS]} | {"0": None},
}
Change = tuple[str, str, object, object]


@dataclass
class SandboxStats:
    """What the sandbox saw: requests per route, state changes, rate limiting and faults."""

    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    writes: int = 0
    changes: list[Change] = field(default_factory=list)
    rate_limited: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    # writes answered 2xx that changed nothing: a client repeating a write it should have read
    # back first (our planner never sends a write that changes nothing)
    noop_writes: int = 0
    rollbacks: int = 0  # saves that failed (full disk): the account went back to the file


class ZoomError(Exception):
    """An error answer in Zoom's envelope: {"code": ..., "message": ...}."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"code": code, "message": message} | extra


def _invalid_field(name: str) -> ZoomError:
    return ZoomError(
        400, 300, "Validation Failed.", errors=[{"field": name, "message": "Invalid field."}]
    )


def _json_response(
    status: int, payload: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status,
        content=orjson.dumps(payload),
        headers={"Content-Type": JSON_TYPE} | (headers or {}),
    )


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    template: str
    category: Category
    handler: str


def _route(method: str, path: str, template: str, category: Category, handler: str) -> _Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return _Route(method, re.compile(f"^/v2{regex}$"), template, category, handler)


ROUTES: Final = (
    _route("GET", "/users", "GET /users", "Medium", "_list_users"),
    _route("GET", "/users/summary", "GET /users/summary", "Medium", "_summary"),
    _route("POST", "/users/features", "POST /users/features", "Medium", "_bulk_features"),
    _route("GET", "/users/{userId}", "GET /users/{userId}", "Light", "_get_user"),
    _route("PATCH", "/users/{userId}", "PATCH /users/{userId}", "Light", "_patch_user"),
    _route("GET", "/users/{userId}/settings", "GET /users/{userId}/settings", "Medium",
           "_get_settings"),
    _route("PATCH", "/users/{userId}/settings", "PATCH /users/{userId}/settings", "Medium",
           "_patch_settings"),
    _route(
        "GET",
        "/accounts/{accountId}/plans/usage",
        "GET /accounts/{accountId}/plans/usage",
        "Heavy",
        "_plans_usage",
    ),
)  # fmt: skip
_STATIC_PATHS: Final = {"/v2/users/summary", "/v2/users/features"}


@dataclass(frozen=True)
class _Page:
    status: str
    size: int
    offset: int
    expires_at: float


@dataclass
class _Result:
    status: int
    payload: Any = None
    changes: list[Change] = field(default_factory=list)


class _SandboxTransport(httpx.MockTransport):
    """MockTransport whose async side runs the handler in a worker thread (latency, locks)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        handler: Callable[[httpx.Request], httpx.Response] = self.handler  # type: ignore[assignment]  # ours is sync
        return await anyio.to_thread.run_sync(handler, request)


class Sandbox:
    """An emulated Zoom account answering the API endpoints `batch` uses.

    >>> sandbox = Sandbox.from_dict({"account": {"id": "a"}, "users": []})
    >>> client = httpx.Client(transport=sandbox.transport(), base_url="https://api.zoom.us/v2")
    """

    def __init__(
        self,
        account: Account,
        *,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.monotonic,
        path: Path | None = None,
    ) -> None:
        self._account = account
        self.faults = faults or Faults()
        self._fault_plan = FaultPlan(self.faults)
        self._clock = clock
        self._epoch = time.time() - clock()
        self._lock = threading.RLock()
        self._tokens: dict[str, float] = {}
        self._pages: dict[str, _Page] = {}
        self._features_at: float | None = None
        self._version = 0
        self._by_status: dict[str, tuple[int, list[Any]]] = {}
        self._limiter = RateLimiter.for_account(account.plan, account.limits, clock, self._utc)
        self._inflight = 0
        self._file = (
            AccountFile(path, self._snapshot, busy=lambda: self._inflight, restore=self._restore)
            if path is not None
            else None
        )
        self.stats = SandboxStats()

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        faults: Faults | None = None,
        persist: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> Sandbox:
        """The account stored in a section-5 JSON file; changes are saved to it when persist."""
        path = Path(path)
        account = read_account(path)
        return cls(account, faults=faults, clock=clock, path=path if persist else None)

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        *,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Sandbox:
        """An in-memory account from section-5 JSON data; never written anywhere."""
        return cls(parse_account(data, "account"), faults=faults, clock=clock)

    @property
    def path(self) -> Path | None:
        """The file the account is saved to, or None when in memory."""
        return self._file.path if self._file is not None else None

    def to_dict(self) -> dict[str, Any]:
        """The account now, in the section-5 JSON format."""
        with self._lock:
            return self._account.to_dict()

    def flush(self) -> None:
        """Make sure the file holds every change made so far (a no-op in memory)."""
        if self._file is not None:
            with self._lock:
                version = self._version
            with contextlib.suppress(NotSaved):  # undone in memory too: both hold the saved account
                self._file.committed(version)

    def _snapshot(self) -> tuple[int, bytes]:
        with self._lock:
            return self._version, self._account.to_json()

    def _restore(self, saved: bytes) -> int:
        """Put the account back to what the file holds (a save failed); the newest version
        undone."""
        with self._lock:
            self._account = parse_account(orjson.loads(saved), "the saved account")
            self._by_status.clear()
            self._pages.clear()
            self._features_at = None
            self.stats.rollbacks += 1
            return self._version

    @property
    def inflight(self) -> int:
        """Requests being answered right now (a slow answer counts until it is sent)."""
        with self._lock:
            return self._inflight

    def set_faults(self, faults: Faults) -> None:
        """Change what goes wrong from the next request on (a burst of errors, then calm)."""
        with self._lock:
            self.faults = faults
            self._fault_plan = FaultPlan(faults)

    def revoke_tokens(self) -> int:
        """Forget every access token issued (an admin revoking the app); returns how many."""
        with self._lock:
            revoked = len(self._tokens)
            self._tokens.clear()
            self.stats.faults["revoked"] += revoked
        return revoked

    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering from this sandbox, for Client and AsyncClient."""
        return _SandboxTransport(self.handle)

    def _utc(self, clock_value: float) -> datetime:
        return datetime.fromtimestamp(self._epoch + clock_value, UTC)

    # -- the request cycle ------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as Zoom would (thread-safe); may raise RemoteProtocolError (drop)."""
        with self._lock:
            self._inflight += 1
        try:
            return self._handle(request)
        finally:
            with self._lock:
                self._inflight -= 1

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        with self._lock:
            fault_plan = self._fault_plan
        decision = fault_plan.decide() if path.startswith("/v2/") else None
        kind = decision.kind if decision is not None else "none"
        if kind == "throttle":
            return self._throttled(request, path)
        if kind == "error" and decision is not None:
            self._count(request, path)
            with self._lock:
                self.stats.faults["error"] += 1
            response = _json_response(
                decision.status,
                {"code": decision.status, "message": ERROR_MESSAGES[decision.status]},
            )
        elif kind == "drop_before":
            self._count(request, path)
            with self._lock:
                self.stats.faults["drop_before"] += 1
            self._delay()
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        else:
            response, version = self._dispatch(request, path)
            if version and self._file is not None:
                try:
                    self._file.committed(version)
                except NotSaved as error:
                    log.error("sandbox: %s", error)
                    unsaved = "The change could not be saved; it was undone."
                    return _json_response(500, {"code": 500, "message": unsaved})
            if kind == "drop_after":
                with self._lock:
                    self.stats.faults["drop_after"] += 1
                self._delay()
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )
            if kind == "slow":
                with self._lock:
                    self.stats.faults["slow"] += 1
                time.sleep(fault_plan.faults.slow_s)
        self._delay()
        return response

    def _throttled(self, request: httpx.Request, path: str) -> httpx.Response:
        """An injected 429 of the per-second kind, with the category's real headers."""
        self._count(request, path)
        route, _ = self._match(request.method, path.rstrip("/"))
        with self._lock:
            self.stats.faults["throttle"] += 1
            headers = (
                self._limiter.check(route.category, consume=False).headers
                | {"X-RateLimit-Remaining": "0"}
                if route is not None
                else {}
            )
        self._delay()
        return _json_response(429, {"code": 429, "message": QPS_MESSAGE}, headers)

    def _delay(self) -> None:
        if self.faults.latency_s > 0:
            with self._lock:
                self.stats.faults["latency"] += 1
            time.sleep(self.faults.latency_s)

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        for route in ROUTES:
            if route.method != method:
                continue
            match = route.pattern.match(path)
            if match is None:
                continue
            if "userId" in match.groupdict() and path in _STATIC_PATHS:
                continue
            return route, match.groupdict()
        return None, {}

    def _count(self, request: httpx.Request, path: str) -> None:
        if request.method == "POST" and path == "/oauth/token":
            template = "POST /oauth/token"
        else:
            route, _ = self._match(request.method, path)
            template = route.template if route is not None else "unknown"
        with self._lock:
            self.stats.requests[(request.method, template)] += 1

    def _dispatch(self, request: httpx.Request, path: str) -> tuple[httpx.Response, int]:
        if request.method == "POST" and path == "/oauth/token":
            with self._lock:
                self.stats.requests[("POST", "POST /oauth/token")] += 1
                return self._issue_token(request), 0
        route, params = self._match(request.method, path.rstrip("/"))
        with self._lock:
            if route is None:
                self.stats.requests[(request.method, "unknown")] += 1
                unknown = {"code": 2300, "message": "This API endpoint is not recognized."}
                return _json_response(404, unknown), 0
            self.stats.requests[(request.method, route.template)] += 1
            refusal = self._authenticate(request)
            if refusal is not None:
                headers = self._limiter.check(route.category, consume=False).headers
                return _json_response(401, refusal.body, headers), 0
            verdict = self._limiter.check(route.category)
            if not verdict.allowed:
                self.stats.rate_limited[route.category] += 1
                message = DAILY_MESSAGE if verdict.daily else QPS_MESSAGE
                return _json_response(429, {"code": 429, "message": message}, verdict.headers), 0
            try:
                body = self._body(request) if request.method in ("PATCH", "POST") else None
                result: _Result = getattr(self, route.handler)(request, params, body)
            except ZoomError as error:
                if error.status == 429:
                    self.stats.rate_limited[route.category] += 1
                    headers = verdict.headers | {"X-RateLimit-Remaining": "0"}
                    return _json_response(429, error.body, headers), 0
                return _json_response(error.status, error.body, verdict.headers), 0
            version = 0
            if request.method != "GET" and result.status < 300 and not result.changes:
                self.stats.noop_writes += 1
            if result.changes:
                self._version += 1
                version = self._version
                self.stats.writes += 1
                self.stats.changes.extend(result.changes)
            if result.payload is None:
                return httpx.Response(result.status, headers=verdict.headers), version
            return _json_response(result.status, result.payload, verdict.headers), version

    @staticmethod
    def _body(request: httpx.Request) -> dict[str, Any]:
        try:
            data = orjson.loads(request.content or b"")
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise ZoomError(400, 300, "Request Body should be a valid JSON object.")
        return data

    # -- OAuth ------------------------------------------------------------------------------

    def _issue_token(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        content_type = request.headers.get("content-type", "")
        if request.content and "x-www-form-urlencoded" in content_type:
            params |= dict(parse_qsl(request.content.decode("utf-8", "replace")))
        invalid_client = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
        client = self._basic_credentials(request)
        if client is None:
            return _json_response(400, invalid_client)
        if params.get("grant_type") != "account_credentials":
            return _json_response(
                400, {"reason": "unsupported grant type", "error": "unsupported_grant_type"}
            )
        expected: dict[str, str] | None = self._account.credentials
        if expected is not None:
            if client != (expected["client_id"], expected["client_secret"]):
                return _json_response(400, invalid_client)
            if params.get("account_id") != expected["account_id"]:
                return _json_response(
                    400, {"reason": "Invalid account_id", "error": "invalid_request"}
                )
        token = secrets.token_urlsafe(32)
        ttl = self.faults.token_ttl_s or TOKEN_TTL_S
        now = self._clock()
        self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
        self._tokens[token] = now + ttl
        return _json_response(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": TOKEN_TTL_S,
                "scope": SCOPES,
                "api_url": f"{request.url.scheme}://{request.url.netloc.decode()}",
            },
        )

    @staticmethod
    def _basic_credentials(request: httpx.Request) -> tuple[str, str] | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            client_id, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return (client_id, secret) if sep and client_id else None

    def _authenticate(self, request: httpx.Request) -> ZoomError | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expires_at = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires_at is None:
            return ZoomError(401, 124, "Invalid access token.")
        if self._clock() >= expires_at:
            if self.faults.token_ttl_s is not None:
                self.stats.faults["token_expired"] += 1
            return ZoomError(401, 124, "Access token is expired.")
        return None

    # -- users ------------------------------------------------------------------------------

    def _find(self, user_id: str) -> User:
        user = self._account.find(user_id)
        if user is None:
            raise ZoomError(404, 1001, f"User does not exist: {user_id}.")
        return user

    def _user_json(self, user: User, *, detail: bool = False) -> dict[str, Any]:
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
                "account_id": self._account.id,
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

    def _list_users(self, request: httpx.Request, _: dict[str, str], __: None) -> _Result:
        query = request.url.params
        now = self._clock()
        token = query.get("next_page_token", "")
        if token:
            page = self._pages.get(token)
            if page is None or now >= page.expires_at:
                raise ZoomError(400, 300, "The next page token is invalid or expired.")
            status, size, offset = page.status, page.size, page.offset
        else:
            status = query.get("status", "active")
            if status not in ("active", "inactive", "pending"):
                raise _invalid_field("status")
            size_text = query.get("page_size", str(DEFAULT_PAGE_SIZE))
            if not size_text.isdigit() or int(size_text) < 1:
                raise _invalid_field("page_size")
            size, offset = min(int(size_text), MAX_PAGE_SIZE), 0
        users = self._users_with_status(status)
        next_token = ""
        if offset + size < len(users):
            self._pages = {t: p for t, p in self._pages.items() if p.expires_at > now}
            next_token = secrets.token_urlsafe(24)
            self._pages[next_token] = _Page(status, size, offset + size, now + PAGE_TOKEN_TTL_S)
        return _Result(
            200,
            {
                "next_page_token": next_token,
                "page_count": math.ceil(len(users) / size),
                "page_number": offset // size + 1,
                "page_size": size,
                "total_records": len(users),
                "users": [self._user_json(u) for u in users[offset : offset + size]],
            },
        )

    def _users_with_status(self, status: str) -> list[Any]:
        """The account's users of one status, kept until the account changes (paging is hot)."""
        cached = self._by_status.get(status)
        if cached is None or cached[0] != self._version:
            cached = (self._version, [u for u in self._account.users if u.status == status])
            self._by_status[status] = cached
        return cached[1]

    def _summary(self, request: httpx.Request, _: dict[str, str], __: None) -> _Result:
        users = self._account.users
        settled = Counter(u.type for u in users if u.status != "pending")
        return _Result(
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

    def _get_user(self, request: httpx.Request, params: dict[str, str], _: None) -> _Result:
        return _Result(200, self._user_json(self._find(params["userId"]), detail=True))

    def _patch_user(
        self, request: httpx.Request, params: dict[str, str], body: dict[str, Any]
    ) -> _Result:
        user = self._find(params["userId"])
        new_type: UserType | None = None
        if "type" in body:
            code = body["type"]
            if isinstance(code, bool) or code not in USER_TYPE_BY_CODE:
                raise _invalid_field("type")
            new_type = USER_TYPE_BY_CODE[code]
        profile = {
            k: body[k] for k in ("first_name", "last_name", "dept", "cost_center") if k in body
        }
        for name, value in profile.items():
            if not isinstance(value, str):
                raise _invalid_field(name)
        if new_type is not None and new_type is not user.type:
            if new_type is UserType.ON_PREM and not self._account.on_prem:
                raise ZoomError(400, 300, "Your account can't set user type as On-prem.")
            if new_type is not UserType.BASIC and not user.paid and self._account.free(BASE) < 1:
                raise ZoomError(400, 3412, _no_paid_seat(new_type, self._account.purchased[BASE]))
        changes: list[Change] = []
        if new_type is not None and new_type is not user.type:
            changes += [(user.email, *c) for c in self._account.set_type(user, new_type)]
        for name, value in profile.items():
            if getattr(user, name) != value:
                changes.append((user.email, *self._account.set_profile(user, name, value)))
        return _Result(204, None, changes)

    # -- settings (add-ons) -----------------------------------------------------------------

    def _settings_user(self, user_id: str) -> User:
        user = self._find(user_id)
        if user.status == "pending":
            raise ZoomError(400, 1000, PENDING_SETTINGS)
        return user

    def _get_settings(self, request: httpx.Request, params: dict[str, str], _: None) -> _Result:
        user = self._settings_user(params["userId"])
        feature: dict[str, Any] = {
            "meeting_capacity": 300 if user.paid else 100,
        }
        for kind in ADDONS:
            size = user.addon(kind)
            feature[kind.value] = size is not None
            if size is not None:
                feature[f"{kind.value}_capacity"] = size
        feature |= {
            "cn_meeting": False,
            "in_meeting": True,
            "zoom_phone": False,
            "concurrent_meeting": "None",
            "zoom_whiteboard": False,
            "zoom_clips_plus": False,
        }
        return _Result(
            200,
            {
                "feature": feature,
                "in_meeting": {"breakout_room": True, "chat": True, "co_host": True},
                "recording": {"local_recording": True, "cloud_recording": user.paid},
                "schedule_meeting": {"host_video": True, "participants_video": True},
            },
        )

    def _patch_settings(
        self, request: httpx.Request, params: dict[str, str], body: dict[str, Any]
    ) -> _Result:
        user = self._settings_user(params["userId"])
        feature = body.get("feature", {})
        if not isinstance(feature, dict):
            raise _invalid_field("feature")
        targets: dict[Kind, int | None] = {}
        for kind in ADDONS:
            flag_key, size_key = kind.value, f"{kind.value}_capacity"
            if flag_key not in feature and size_key not in feature:
                continue
            flag = feature.get(flag_key, True)
            if not isinstance(flag, bool):
                raise _invalid_field(f"feature.{flag_key}")
            size = feature.get(size_key)
            if size is not None and (isinstance(size, bool) or size not in ADDON_SIZES[kind]):
                raise _invalid_field(f"feature.{size_key}")
            targets[kind] = self._target_size(user, kind, size) if flag else None
        for kind, size in targets.items():
            if size is None or size == user.addon(kind):
                continue
            if not user.paid:
                raise ZoomError(400, *NOT_PAID_ERRORS[kind])
            if not self._account.owns(kind, size):
                raise ZoomError(400, 300, NO_PLAN_MESSAGES[kind])
            if self._account.free((kind, size)) < 1:
                seats = self._account.purchased[(kind, size)]
                raise ZoomError(
                    400, 200, f"You can add max {seats} {SEAT_NAMES[kind]} {size} users."
                )
        changes = [
            (user.email, *self._account.set_addon(user, kind, size))
            for kind, size in targets.items()
            if size != user.addon(kind)
        ]
        return _Result(204, None, changes)

    def _target_size(self, user: User, kind: Kind, size: int | None) -> int:
        if size is not None:
            return size
        held = user.addon(kind)
        if held is not None:
            return held
        owned = sorted(s for (k, s) in self._account.purchased if k is kind and s is not None)
        if not owned:
            raise ZoomError(400, 300, NO_PLAN_MESSAGES[kind])
        return owned[0]

    # -- bulk features ----------------------------------------------------------------------

    def _bulk_features(
        self, request: httpx.Request, _: dict[str, str], body: dict[str, Any]
    ) -> _Result:
        now = self._clock()
        if self._features_at is not None and now - self._features_at < FEATURES_WINDOW_S:
            raise ZoomError(429, 429, QPS_MESSAGE)
        self._features_at = now
        feature_type = body.get("feature_type")
        value = body.get("feature_value")
        entries = body.get("users")
        if feature_type not in ("user_type", *(k.value for k in ADDONS)):
            raise _invalid_field("feature_type")
        if not isinstance(entries, list) or not entries:
            raise _invalid_field("users")
        if len(entries) > FEATURES_MAX_USERS:
            raise ZoomError(400, 300, "You can only update up to 30 users at a time.")
        if not all(isinstance(e, dict) and (e.get("id") or e.get("email")) for e in entries):
            raise _invalid_field("users")
        kind = Kind.BASE if feature_type == "user_type" else Kind(feature_type)
        values: dict[str, Any] = (
            {"1": UserType.BASIC, "2": UserType.LICENSED}
            if kind is Kind.BASE
            else FEATURE_VALUES[kind]
        )
        if not isinstance(value, str) or value not in values:
            raise _invalid_field("feature_value")
        target = values[value]
        if kind is not Kind.BASE and target is not None and not self._account.owns(kind, target):
            raise ZoomError(400, 200, "Current account does not enable this feature.")
        succeeded: list[str] = []
        failed: dict[str, list[str]] = {}
        changes: list[Change] = []
        for entry in entries:
            given = str(entry.get("id") or entry.get("email"))
            user = self._account.find(given)
            reason = self._bulk_refusal(user, kind, target)
            if reason is not None or user is None:
                failed.setdefault(reason or "Users not found", []).append(given)
                continue
            if kind is Kind.BASE:
                changes += [(user.email, *c) for c in self._account.set_type(user, target)]
            else:
                changes.append((user.email, *self._account.set_addon(user, kind, target)))
            succeeded.append(user.email if user.status == "pending" else user.id)
        fail_details = [{"user_ids": ids, "reason": reason} for reason, ids in failed.items()]
        return _Result(201, {"success_user_ids": succeeded, "fail_details": fail_details}, changes)

    def _bulk_refusal(self, user: User | None, kind: Kind, target: Any) -> str | None:
        if user is None or (kind is not Kind.BASE and user.status == "pending"):
            return "Users not found"
        if kind is Kind.BASE:
            if target is user.type:
                return "No need to update"
            if target is not UserType.BASIC and not user.paid and self._account.free(BASE) < 1:
                return "Not enough seats"
            return None
        if target == user.addon(kind):
            return "No need to update"
        if target is not None and not user.paid:
            return "Unpaid user"
        if target is not None and self._account.free((kind, target)) < 1:
            return "Not enough seats"
        return None

    # -- plans ------------------------------------------------------------------------------

    def _plans_usage(self, request: httpx.Request, params: dict[str, str], _: None) -> _Result:
        account = self._account
        if params["accountId"] not in ("me", account.id):
            raise ZoomError(404, 2001, f"Account does not exist: {params['accountId']}.")
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
        return _Result(200, payload)


def _no_paid_seat(new_type: UserType, hosts: int) -> str:
    return (
        f'Your request to convert the user type of a "Basic" user to a "{new_type}" user was not '
        f"approved at this time because your account has reached the permitted maximum number of "
        f'"{hosts}" paying users. Please purchase additional licenses or remove existing paying '
        f"user(s) before trying again."
    )

"""The Zoom emulator: the request cycle of an emulated account (faults, auth, limits, saving).

`Sandbox.handle(httpx.Request) -> httpx.Response` is the whole server; `transport()` wraps it
for httpx clients and `serve()` (server.py) puts it on 127.0.0.1. What each endpoint answers
is in its own module: oauth.py (the token, the bearer check), users.py, settings.py (the
add-ons), plans.py; routing.py maps method + path to them. Shapes, status codes and bodies
follow docs/zoom-api.md sections 1-7 and its section 9 decisions.

A request passes, in order: the injected faults (faults.py), the route (unknown route or
method -> 404 2300, without rate-limit headers), the bearer token (401 124), the rate limits
(ratelimit.py: 429 with Zoom's headers), the handler, and for a change the save to the
account file (a failed save -> 500 and the change undone).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import orjson

from batch.sandbox import oauth, routing
from batch.sandbox.account import Account, AccountFile, NotSaved, parse_account, read_account
from batch.sandbox.calls import Call, Change, State, ZoomError, json_response
from batch.sandbox.faults import ERROR_MESSAGES, FaultPlan, Faults
from batch.sandbox.ratelimit import RateLimiter
from batch.zoom.limits import DAILY_MESSAGE, QPS_MESSAGE

log = logging.getLogger(__name__)


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
        self._state = State(account, clock)
        self.faults = faults or Faults()
        self._fault_plan = FaultPlan(self.faults)
        self._epoch = time.time() - clock()
        self._lock = threading.RLock()
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
            return self._state.account.to_dict()

    def head(self) -> dict[str, Any]:
        """The account now without its users: `account`, `plans`, `credentials`, `limits`."""
        with self._lock:
            return self._state.account.head()

    def flush(self) -> None:
        """Make sure the file holds every change made so far (a no-op in memory)."""
        if self._file is not None:
            with self._lock:
                version = self._state.version
            with contextlib.suppress(NotSaved):  # undone in memory too: both hold the saved account
                self._file.committed(version)

    def _snapshot(self) -> tuple[int, bytes]:
        with self._lock:
            return self._state.version, self._state.account.to_json()

    def _restore(self, saved: bytes) -> int:
        """Put the account back to what the file holds (a save failed); the newest version
        undone."""
        with self._lock:
            self._state.account = parse_account(orjson.loads(saved), "the saved account")
            self._state.forget_views()
            self.stats.rollbacks += 1
            return self._state.version

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
            revoked = len(self._state.tokens)
            self._state.tokens.clear()
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
            response = json_response(
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
                    return json_response(500, {"code": 500, "message": unsaved})
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
        route, _ = routing.match(request.method, path.rstrip("/"))
        with self._lock:
            self.stats.faults["throttle"] += 1
            headers = (
                self._limiter.check(route.category, consume=False).headers
                | {"X-RateLimit-Remaining": "0"}
                if route is not None
                else {}
            )
        self._delay()
        return json_response(429, {"code": 429, "message": QPS_MESSAGE}, headers)

    def _delay(self) -> None:
        if self.faults.latency_s > 0:
            with self._lock:
                self.stats.faults["latency"] += 1
            time.sleep(self.faults.latency_s)

    def _count(self, request: httpx.Request, path: str) -> None:
        if request.method == "POST" and path == oauth.TOKEN_URL_PATH:
            template = "POST /oauth/token"
        else:
            route, _ = routing.match(request.method, path)
            template = route.template if route is not None else "unknown"
        with self._lock:
            self.stats.requests[(request.method, template)] += 1

    def _dispatch(self, request: httpx.Request, path: str) -> tuple[httpx.Response, int]:
        if request.method == "POST" and path == oauth.TOKEN_URL_PATH:
            with self._lock:
                self.stats.requests[("POST", "POST /oauth/token")] += 1
                return oauth.issue_token(self._state, request, self.faults.token_ttl_s), 0
        route, params = routing.match(request.method, path.rstrip("/"))
        with self._lock:
            if route is None:
                self.stats.requests[(request.method, "unknown")] += 1
                unknown = {"code": 2300, "message": "This API endpoint is not recognized."}
                return json_response(404, unknown), 0
            self.stats.requests[(request.method, route.template)] += 1
            refusal = oauth.authenticate(self._state, request)
            if refusal is not None:
                if refusal.body["message"] == oauth.EXPIRED and self.faults.token_ttl_s is not None:
                    self.stats.faults["token_expired"] += 1
                headers = self._limiter.check(route.category, consume=False).headers
                return json_response(401, refusal.body, headers), 0
            verdict = self._limiter.check(route.category)
            if not verdict.allowed:
                self.stats.rate_limited[route.category] += 1
                message = DAILY_MESSAGE if verdict.daily else QPS_MESSAGE
                return json_response(429, {"code": 429, "message": message}, verdict.headers), 0
            try:
                body = self._body(request) if request.method in ("PATCH", "POST") else None
                result = route.handler(self._state, Call(request, params, body))
            except ZoomError as error:
                return json_response(error.status, error.body, verdict.headers), 0
            version = 0
            if request.method != "GET" and result.status < 300 and not result.changes:
                self.stats.noop_writes += 1
            if result.changes:
                self._state.version += 1
                version = self._state.version
                self.stats.writes += 1
                self.stats.changes.extend(result.changes)
            if result.payload is None:
                return httpx.Response(result.status, headers=verdict.headers), version
            return json_response(result.status, result.payload, verdict.headers), version

    @staticmethod
    def _body(request: httpx.Request) -> dict[str, Any]:
        try:
            data = orjson.loads(request.content or b"")
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise ZoomError(400, 300, "Request Body should be a valid JSON object.")
        return data

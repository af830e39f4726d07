"""The Zoom client against the real sandbox: in-process transport and over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from batch.errors import AccountError
from batch.model import Seats
from batch.sandbox import Faults, Sandbox, serve
from batch.settings import Credentials, Secret
from batch.vocabulary import EXIT_ACCOUNT, Code, Kind, UserType
from batch.zoom import (
    AccountUnreachable,
    ClientConfig,
    CredentialsRefused,
    DailyLimitReached,
    ZoomApiError,
    ZoomClient,
)
from tests.accounts import account, user

T = TypeVar("T")

HOW = ["transport", "served"]
FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.2}  # retries without slow sleeps


def many_users(count: int) -> list[dict[str, Any]]:
    """`count` users: most active, some inactive and pending, a tenth Licensed."""
    statuses = ["active"] * 8 + ["inactive", "pending"]
    return [
        user(f"u{i:05d}@example.com", "Licensed" if i % 10 == 0 else "Basic", statuses[i % 10])
        for i in range(count)
    ]


@contextlib.asynccontextmanager
async def connect(sandbox: Sandbox, how: str, **options: Any) -> AsyncIterator[ZoomClient]:
    """A client on the sandbox, in-process (`transport`) or over 127.0.0.1 (`served`)."""
    credentials = options.pop("credentials", None)
    if how == "transport":
        config = ClientConfig(
            "https://api.zoom.us/v2", "https://zoom.us/oauth/token", credentials,
            is_sandbox=True, **options,
        )  # fmt: skip
        async with ZoomClient(config, transport=sandbox.transport()) as zoom:
            yield zoom
        return
    with serve(sandbox) as base_url:
        config = ClientConfig(
            f"{base_url}/v2", f"{base_url}/oauth/token", credentials, is_sandbox=True, **options
        )
        async with ZoomClient(config) as zoom:
            yield zoom


def run(sandbox: Sandbox, how: str, job: Callable[[ZoomClient], Awaitable[T]], **options: Any) -> T:
    """Run one async job with a client on the sandbox."""

    async def main() -> T:
        async with connect(sandbox, how, **options) as zoom:
            return await job(zoom)

    return asyncio.run(main())


# ---------------------------------------------------------------------------------------------
# Reading


@pytest.mark.parametrize("how", HOW, ids=HOW)
def test_reads_every_user_of_a_10000_user_account(how: str) -> None:
    """Every user of every status comes back once, with its type and status, add-ons unread."""
    data = account(many_users(10_000), limits={"medium": 1000}, hosts=100)
    users = run(Sandbox.from_dict(data), how, lambda zoom: zoom.list_users())
    got = Counter((u.email, u.type, u.status, u.addons_known) for u in users)
    expected = Counter((u["email"], UserType(u["type"]), u["status"], False) for u in data["users"])
    assert got == expected
    assert all((u.id is None) == (u.status == "pending") for u in users)


@pytest.mark.parametrize("how", HOW, ids=HOW)
def test_snapshot_matches_the_account_json(how: str) -> None:
    """Seats purchased and used, users and the add-ons asked for match the account JSON."""
    users = [
        user("ann@example.com", large_meeting=500),
        user("bob@example.com", webinar=1000, zoom_events=500),
        user("cas@example.com", "Basic"),
        user("dee@example.com", status="pending", webinar=500),
        user("eve@example.com", "Basic", status="inactive"),
    ]
    plans = {"large_meeting": {"500": 2, "1000": 1}, "webinar": {"500": 1, "1000": 1},
             "zoom_events": {"500": 1}}  # fmt: skip
    sandbox = Sandbox.from_dict(account(users, hosts=5, plans=plans))
    emails = ["ANN@example.com", "bob@example.com", "dee@example.com", "nobody@example.com"]
    snap = run(sandbox, how, lambda zoom: zoom.snapshot(addons_for=emails))
    assert snap.seats == {
        (Kind.BASE, None): Seats(5, 3),
        (Kind.LARGE_MEETING, 500): Seats(2, 1),
        (Kind.LARGE_MEETING, 1000): Seats(1, 0),
        (Kind.WEBINAR, 500): Seats(1, 1),
        (Kind.WEBINAR, 1000): Seats(1, 1),
        (Kind.ZOOM_EVENTS, 500): Seats(1, 1),
    }
    rows = {
        (u.email, u.type, u.status, u.addons_known, u.large_meeting, u.webinar, u.zoom_events)
        for u in snap.users.values()
    }
    assert rows == {
        ("ann@example.com", UserType.LICENSED, "active", True, 500, None, None),
        ("bob@example.com", UserType.LICENSED, "active", True, None, 1000, 500),
        ("cas@example.com", UserType.BASIC, "active", False, None, None, None),
        ("dee@example.com", UserType.LICENSED, "pending", False, None, None, None),
        ("eve@example.com", UserType.BASIC, "inactive", False, None, None, None),
    }
    assert (snap.is_sandbox, snap.on_prem_available, snap.plan) == (True, False, "business")


def test_snapshot_sees_on_prem_through_its_users() -> None:
    """An account with an On-prem user offers the On-prem type."""
    sandbox = Sandbox.from_dict(
        account([user("op@example.com", "On-prem")], on_prem=True, hosts=100)
    )
    snap = run(sandbox, "transport", lambda zoom: zoom.snapshot())
    assert snap.on_prem_available is True


# ---------------------------------------------------------------------------------------------
# Writing


@pytest.mark.parametrize("how", HOW, ids=HOW)
def test_writes_change_the_account(how: str) -> None:
    """A type change and one settings update per user show in the account as asked."""
    users = [user("ann@example.com", "Basic"), user("bob@example.com", webinar=500)]
    plans = {"webinar": {"500": 1, "1000": 1}, "large_meeting": {"500": 1}}
    sandbox = Sandbox.from_dict(account(users, hosts=5, plans=plans))

    async def job(zoom: ZoomClient) -> dict[Kind, int | None]:
        await zoom.set_user_type("ann@example.com", UserType.LICENSED)
        await zoom.update_addons("bob@example.com", {Kind.WEBINAR: 1000, Kind.LARGE_MEETING: 500})
        await zoom.update_addons("ann@example.com", {Kind.WEBINAR: 500})
        await zoom.update_addons("ann@example.com", {Kind.WEBINAR: None})
        return await zoom.get_addons("bob@example.com")

    assert run(sandbox, how, job) == {
        Kind.LARGE_MEETING: 500, Kind.WEBINAR: 1000, Kind.ZOOM_EVENTS: None,
    }  # fmt: skip
    final = {
        u["email"]: (u["type"], u["webinar"], u["large_meeting"])
        for u in sandbox.to_dict()["users"]
    }
    assert final == {"ann@example.com": ("Licensed", None, None),
                     "bob@example.com": ("Licensed", 1000, 500)}  # fmt: skip


@pytest.mark.parametrize(
    ("action", "status", "code", "text"),
    [
        ("unknown-user", 404, 1001, "Zoom refused: 1001 User does not exist: ghost@example.com."),
        ("no-base-seat", 400, 3412, "Zoom refused: 3412 Your request to convert"),
        ("no-addon-seat", 400, 200, "Zoom refused: 200 You can add max 1 Webinar 500 users."),
    ],
    ids=["unknown-user-1001", "no-base-seat-3412", "no-addon-seat-200"],
)
def test_refusals_fail_one_item(action: str, status: int, code: int, text: str) -> None:
    """Zoom's refusal of one item is a ZoomApiError with its status, code and message."""
    users = [user("ann@example.com"), user("cas@example.com", "Basic"),
             user("bob@example.com", webinar=500)]  # fmt: skip
    sandbox = Sandbox.from_dict(account(users, hosts=2, plans={"webinar": {"500": 1}}))
    jobs = {
        "unknown-user": lambda zoom: zoom.get_user("ghost@example.com"),
        "no-base-seat": lambda zoom: zoom.set_user_type("cas@example.com", UserType.LICENSED),
        "no-addon-seat": lambda zoom: zoom.update_addons("ann@example.com", {Kind.WEBINAR: 500}),
    }
    with pytest.raises(ZoomApiError) as caught:
        run(sandbox, "transport", jobs[action])
    error = caught.value
    assert (error.status, error.code, error.outcome_code) == (status, code, Code.API_ERROR)
    assert str(error).startswith(text)


@pytest.mark.parametrize("how", HOW, ids=HOW)
def test_faults_apply_every_change_exactly_once(how: str) -> None:
    """With 10% 5xx, 2% dropped connections and a short token life, each change lands once."""
    count = 600  # 600 writes per category at 200 a second: ~2 s or more, so 1 s tokens expire
    users = [user(f"u{i:03d}@example.com", "Basic") for i in range(count)]
    plans = {"webinar": {"500": count}}
    faults = Faults(error_rate=0.1, drop_rate=0.02, token_ttl_s=1.0, seed=1)
    sandbox = Sandbox.from_dict(
        account(users, hosts=count, plans=plans, limits={"light": 200, "medium": 200}),
        faults=faults,
    )

    async def job(zoom: ZoomClient) -> None:
        writers = asyncio.Semaphore(20)  # as the applier's chunks: many, not all, at once

        async def one(email: str) -> None:
            async with writers:
                await zoom.set_user_type(email, UserType.LICENSED)
                await zoom.update_addons(email, {Kind.WEBINAR: 500})

        await asyncio.gather(*(one(u["email"]) for u in users))

    zoom_stats = run(sandbox, how, lambda zoom: _then(job(zoom), zoom.stats), **FAST)
    changes = Counter((email, field) for email, field, _old, _new in sandbox.stats.changes)
    assert changes == Counter({(u["email"], f): 1 for u in users for f in ("type", "webinar")})
    final = {(u["type"], u["webinar"]) for u in sandbox.to_dict()["users"]}
    assert final == {("Licensed", 500)}
    # the faults really happened: retries, read-backs of unanswered writes, renewed tokens
    assert zoom_stats.retries > 0
    assert zoom_stats.read_backs > 0
    assert zoom_stats.token_fetches > 1
    assert sandbox.stats.faults["error"] > 0
    assert sandbox.stats.faults["drop_before"] + sandbox.stats.faults["drop_after"] > 0


async def _then(job: Awaitable[Any], value: T) -> T:
    """Await a job, then return a value (its state after the job)."""
    await job
    return value


# ---------------------------------------------------------------------------------------------
# Rate limits


@pytest.mark.parametrize("how", HOW, ids=HOW)
def test_daily_limit_stops_at_once(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A used-up daily limit stops with DailyLimitReached naming category and reset, no sleep."""
    data = account(many_users(2000), limits={"medium": 1000, "daily": {"medium": 3}}, hosts=100)
    sandbox = Sandbox.from_dict(data)
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded(delay: float, *args: Any) -> Any:
        waits.append(delay)
        return await real_sleep(delay, *args)

    # the waits asked for; the wall time only loosely (2 s failed on a loaded machine), as the
    # pacer's own sleep is not asyncio.sleep looked up at call time
    monkeypatch.setattr(asyncio, "sleep", recorded)
    started = time.perf_counter()
    with pytest.raises(DailyLimitReached) as caught:
        run(sandbox, how, lambda zoom: zoom.list_users())
    assert max(waits, default=0.0) < 1.0, "no wait for the daily reset (nor a retry's)"
    assert time.perf_counter() - started < 60
    message = str(caught.value)
    assert message.startswith("Zoom's daily limit for Medium requests is used up until ")
    assert message.endswith("T00:00:00Z: stopping instead of waiting")
    assert caught.value.exit_code == EXIT_ACCOUNT


@pytest.mark.parametrize("how", HOW, ids=HOW)
def test_qps_429s_are_retried_and_the_reported_limit_adopted(how: str) -> None:
    """A lower per-second limit than the plan's: the client paces at the limit the answers
    report, the 429s met before the first answer came (as many as the timing gives, none
    included) are retried, and all reads succeed."""
    users = [user(f"u{i:02d}@example.com", webinar=500) for i in range(24)]
    data = account(users, plans={"webinar": {"500": 24}}, limits={"medium": 12}, hosts=100)
    sandbox = Sandbox.from_dict(data)

    async def job(zoom: ZoomClient) -> tuple[list[dict[Kind, int | None]], int, int, float]:
        held = await asyncio.gather(*(zoom.get_addons(u["email"]) for u in users))
        stats = zoom.stats
        return held, stats.rate_limited, stats.requests["Medium"], zoom.settings_reads_per_s()

    held, client_429s, requests, pace = run(sandbox, how, job, **FAST)
    assert all(h[Kind.WEBINAR] == 500 for h in held)
    assert pace == pytest.approx(12 * 0.95)
    assert client_429s == sandbox.stats.rate_limited["Medium"]
    assert requests == len(users) + client_429s


class RetryAfter(httpx.AsyncBaseTransport):
    """Answers the first request to the API with a 429 carrying a given Retry-After, then
    hands every request to the sandbox (Zoom may send seconds; the sandbox sends dates)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, header: Callable[[], str]) -> None:
        self.inner = inner
        self.header = header
        self.sent = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.sent and "/v2/" in request.url.path:
            self.sent = True
            body = {"code": 429, "message": "Too many requests."}
            return httpx.Response(429, json=body, headers={"Retry-After": self.header()})
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize(
    "header",
    [
        lambda: "0.4",
        lambda: (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 0.4))
            + f".{int((time.time() + 0.4) % 1 * 1000):03d}Z"
        ),
    ],
    ids=["seconds", "iso-date"],
)
def test_retry_after_is_honoured(header: Callable[[], str]) -> None:
    """A 429's Retry-After, in seconds or as an ISO date, is waited out before resending."""
    sandbox = Sandbox.from_dict(account([user("ann@example.com")], hosts=100))
    transport = RetryAfter(sandbox.transport(), header)
    config = ClientConfig("https://api.zoom.us/v2", "https://zoom.us/oauth/token", None)

    async def main() -> tuple[str, float, int]:
        async with ZoomClient(config, transport=transport) as zoom:
            started = time.perf_counter()
            found = await zoom.get_user("ann@example.com")
            return found.email, time.perf_counter() - started, zoom.stats.rate_limited

    email, seconds, rate_limited = asyncio.run(main())
    assert (email, rate_limited) == ("ann@example.com", 1)
    assert 0.3 <= seconds < 10.0  # waited the 0.4 s, not a misread minute (loaded machines)


class NamedCategory(httpx.AsyncBaseTransport):
    """Hands every request to the sandbox and rewrites its answers' rate-limit headers to name
    the Light category with a limit of 5 a second."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "X-RateLimit-Type" in response.headers:
            response.headers["X-RateLimit-Category"] = "Light"
            response.headers["X-RateLimit-Limit"] = "5"
            response.headers["X-RateLimit-Remaining"] = "0"
        return response


def test_rate_limit_headers_of_another_category_are_ignored() -> None:
    """Settings reads (Medium) answered with Light's headers keep Medium's pace: neither the
    limit nor the budget of another category is this one's."""
    sandbox = Sandbox.from_dict(account([user("ann@example.com", webinar=500)], hosts=100,
                                        plans={"webinar": {"500": 1}}))  # fmt: skip
    config = ClientConfig("https://api.zoom.us/v2", "https://zoom.us/oauth/token", None)

    async def main() -> float:
        async with ZoomClient(config, transport=NamedCategory(sandbox.transport())) as zoom:
            await zoom.get_addons("ann@example.com")
            return zoom.settings_reads_per_s()

    assert asyncio.run(main()) == pytest.approx(60 * 0.95)


# ---------------------------------------------------------------------------------------------
# The account cannot be used


@pytest.mark.parametrize("how", HOW, ids=HOW)
def test_bad_credentials_name_the_account_not_the_secret(how: str) -> None:
    """Refused credentials stop the run (exit 3) naming the account id, never the secret."""
    good = {"account_id": "acct-42", "client_id": "app", "client_secret": "right-secret"}
    sandbox = Sandbox.from_dict(account([user("ann@example.com")], credentials=good, hosts=100))
    bad = Credentials("acct-42", "app", Secret("wrong-secret-XYZ"))
    with pytest.raises(CredentialsRefused) as caught:
        run(sandbox, how, lambda zoom: zoom.list_users(), credentials=bad)
    error = caught.value
    assert isinstance(error, AccountError) and error.exit_code == EXIT_ACCOUNT
    assert "acct-42" in str(error)
    assert "wrong-secret-XYZ" not in f"{error!s} {error!r} {error.args}"


def test_good_credentials_are_accepted_and_kept_out_of_reprs() -> None:
    """The right credentials read the account; neither the config nor the client shows them."""
    good = {"account_id": "acct-42", "client_id": "app", "client_secret": "right-secret"}
    sandbox = Sandbox.from_dict(account([user("ann@example.com")], credentials=good, hosts=100))
    credentials = Credentials("acct-42", "app", Secret("right-secret"))

    async def job(zoom: ZoomClient) -> tuple[int, str]:
        users = await zoom.list_users()
        return len(users), f"{zoom!r} {zoom.config!r} {zoom.config!s}"

    count, shown = run(sandbox, "transport", job, credentials=credentials)
    assert count == 1
    assert "right-secret" not in shown


def test_unreachable_account_is_an_account_error() -> None:
    """Nothing listening on the port: AccountUnreachable (exit 3) after the retries."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    config = ClientConfig(f"{base}/v2", f"{base}/oauth/token", None, max_retries=2, **FAST)

    async def main() -> None:
        async with ZoomClient(config) as zoom:
            await zoom.list_users()

    with pytest.raises(AccountUnreachable) as caught:
        asyncio.run(main())
    assert caught.value.exit_code == EXIT_ACCOUNT
    assert f"127.0.0.1:{port}" in str(caught.value)

"""The Zoom client: the only code that talks HTTP to Zoom (or to the sandbox emulator).

Every request goes through `ZoomClient._send`, that is `sender.Sender.send`: it waits for its
category's pacer slot, adds the bearer token, sends, lets `errors.classify` say what the answer
means and `retry.RetryPolicy` what comes next: done, retry (429, 5xx, no answer), fresh token
and resend (401 code 124), fail this item (`ZoomApiError`), or stop the run (an `AccountError`).
A write that got no answer is read back before it is resent, so a change is never applied twice.

    async with ZoomClient(ClientConfig(api_url, oauth_url, credentials)) as zoom:
        snapshot = await zoom.snapshot(addons_for=["ann@example.com"])
        await zoom.update_addons("ann@example.com", {Kind.WEBINAR: 1000})
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from types import TracebackType
from typing import Any, Final, Self, TypeVar
from urllib.parse import quote

import httpx
import orjson

from batch.model import AccountSnapshot, AccountUser, SeatKey, Seats
from batch.settings import DEFAULT_TIMEOUT_S, Credentials
from batch.vocabulary import ADDONS, USER_TYPE_BY_CODE, USER_TYPE_CODES, Kind, UserType
from batch.zoom.auth import SANDBOX_CREDENTIALS, TokenCache
from batch.zoom.errors import (
    PAGE_TOKEN_CODE,
    PAGE_TOKEN_TEXT,
    ZoomApiError,
    is_loopback,
)
from batch.zoom.pacing import Category, Pacer, plan_limits
from batch.zoom.reading import AccountRead, all_or_cancel
from batch.zoom.retry import RetryPolicy
from batch.zoom.sender import ClientStats, Sender

log = logging.getLogger(__name__)

# GET /users: the largest page Zoom documents everywhere (docs/zoom-api.md §3)
PAGE_SIZE: Final = 300
USER_STATUSES: Final = ("active", "inactive", "pending")
MAX_LIST_RESTARTS: Final = 3  # a user stream whose next_page_token expired starts over this often
MAX_CONNECTIONS: Final = 100
OnRead = Callable[[int], None]  # progress while reading the account: n more users read
LOOPBACK_CONNECT_S: Final = 5.0  # connect timeout on this machine (a served sandbox)

# Plan-usage keys and the add-on kind they hold (docs/zoom-api.md §6).
PLAN_KEYS: Final[dict[str, Kind]] = {
    "plan_large_meeting": Kind.LARGE_MEETING,
    "plan_webinar": Kind.WEBINAR,
    "plan_zoom_events": Kind.ZOOM_EVENTS,
}
_PLAN_SIZE_RE: Final = re.compile(r"(\d+)")


@dataclass(frozen=True)
class ClientConfig:
    """How to reach Zoom and how patiently; frozen. `credentials` None means the sandbox."""

    api_url: str
    oauth_url: str
    credentials: Credentials | None
    _: KW_ONLY
    plan: str = "business"
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_wait_s: float = 120.0
    is_sandbox: bool = False
    account_id: str | None = None

    def __repr__(self) -> str:
        account = self.credentials.account_id if self.credentials else "sandbox"
        return f"ClientConfig(api_url={self.api_url!r}, account={account!r}, plan={self.plan!r})"


def _timeout(config: ClientConfig) -> httpx.Timeout:
    """The HTTP timeouts: `timeout_s`, but a connection on this machine is made in at most
    LOOPBACK_CONNECT_S or not at all (a served sandbox that is not running)."""
    connect = config.timeout_s
    if is_loopback(config.api_url) or is_loopback(config.oauth_url):
        connect = min(connect, LOOPBACK_CONNECT_S)
    return httpx.Timeout(config.timeout_s, connect=connect)


class ZoomClient:
    """An async Zoom API client for the license endpoints, paced, retried and typed."""

    def __init__(
        self, config: ClientConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.stats = ClientStats()
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=_timeout(config),
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            ),
        )
        self._api = config.api_url.rstrip("/")
        credentials = config.credentials or SANDBOX_CREDENTIALS
        self.account_id = config.account_id or credentials.account_id
        self._tokens = TokenCache(
            self._http,
            config.oauth_url,
            credentials,
            on_fetch=self.stats.count_token_fetch,
            backoff_base_s=config.backoff_base_s,
        )
        limits = plan_limits(config.plan)
        self._pacers = {category: Pacer(limit) for category, limit in limits.items()}
        policy = RetryPolicy(config.max_retries, config.backoff_base_s, config.backoff_max_s)
        sender = Sender(
            self._http, self._api, self._tokens, self._pacers, policy, self.stats, config.max_wait_s
        )
        # one request, paced and retried; None when a read-back showed a write done
        self._send = sender.send

    def __repr__(self) -> str:
        return f"ZoomClient({self.config!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    # -----------------------------------------------------------------------------------------
    # Users

    async def list_users(
        self,
        on_read: OnRead | None = None,
        *,
        on_page: Callable[[list[AccountUser]], None] | None = None,
    ) -> list[AccountUser]:
        """Every user of the account, of every status, add-ons not read (`addons_known=False`).

        The three statuses are read as three paged streams side by side, 300 users a page;
        `on_read(n)` is called with each page's number of users, `on_page(users)` with each
        page's users once they are converted (while the next page is on its way).
        """
        streams = await all_or_cancel(
            *(self._list_status(s, on_read, on_page) for s in USER_STATUSES)
        )
        return [user for stream in streams for user in stream]

    async def _list_status(
        self,
        status: str,
        on_read: OnRead | None = None,
        on_page: Callable[[list[AccountUser]], None] | None = None,
    ) -> list[AccountUser]:
        """All users of one status, following next_page_token; restarts if the token expires."""
        loop = asyncio.get_running_loop()
        for restart in range(MAX_LIST_RESTARTS + 1):
            pages = _Pages(status, on_page)
            page_token = ""
            try:
                while True:
                    params = {"status": status, "page_size": str(PAGE_SIZE)}
                    if page_token:
                        params["next_page_token"] = page_token
                    body = await self._get_json("/users", Category.MEDIUM, params=params)
                    pages.raw.append(body.get("users") or [])
                    if on_read is not None:
                        on_read(len(pages.raw[-1]))
                    page_token = str(body.get("next_page_token") or "")
                    if not page_token:
                        return pages.convert()
                    # Pages come one after the other: the next page's request claims its
                    # pacer slot first, then this one becomes AccountUsers (and `on_page` may
                    # start reads of its users) while the next one is on its way.
                    loop.call_soon(pages.convert)
            except ZoomApiError as error:
                expired = error.code == PAGE_TOKEN_CODE and PAGE_TOKEN_TEXT in error.message.lower()
                if not expired or restart == MAX_LIST_RESTARTS:
                    raise
                log.warning("the page token of the %s users expired: reading them again", status)
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_user(self, user: str) -> AccountUser:
        """One user by id or email (add-ons not read)."""
        body = await self._get_json(f"/users/{_segment(user)}", Category.LIGHT)
        return _user(body, str(body.get("status") or "active"))

    async def set_user_type(self, user: str, user_type: UserType) -> None:
        """Make a user Basic, Licensed or On-prem (PATCH /users/{user})."""

        async def done() -> bool:
            return (await self.get_user(user)).type is user_type

        path = f"/users/{_segment(user)}"
        payload = {"type": USER_TYPE_CODES[user_type]}
        await self._send("PATCH", path, Category.LIGHT, json=payload, read_back=done)

    # -----------------------------------------------------------------------------------------
    # Add-ons (settings.feature)

    async def get_addons(self, user: str) -> dict[Kind, int | None]:
        """The add-on sizes a user holds (None = not held), from their settings' `feature`."""
        body = await self._get_json(f"/users/{_segment(user)}/settings", Category.MEDIUM)
        feature = body.get("feature") or {}
        return {kind: _held_size(feature, kind) for kind in ADDONS}

    async def update_addons(self, user: str, addons: Mapping[Kind, int | None]) -> None:
        """Set a user's add-ons in ONE settings update: a size assigns or changes, None removes."""
        feature: dict[str, Any] = {}
        for kind, size in addons.items():
            if size is None:
                feature[kind.value] = False
            else:
                feature[kind.value] = True
                feature[f"{kind.value}_capacity"] = size
        if not feature:
            return

        async def done() -> bool:
            held = await self.get_addons(user)
            return all(held.get(kind) == size for kind, size in addons.items())

        path = f"/users/{_segment(user)}/settings"
        await self._send("PATCH", path, Category.MEDIUM, json={"feature": feature}, read_back=done)

    # -----------------------------------------------------------------------------------------
    # Seats and the whole account

    async def plan_usage(self) -> dict[SeatKey, Seats]:
        """Purchased and used seats per license and size; (Kind.BASE, None) for the base plan."""
        body = await self._get_json("/accounts/me/plans/usage", Category.HEAVY)
        seats: dict[SeatKey, Seats] = {}
        base = body.get("plan_base")
        if isinstance(base, dict):
            hosts, usage = int(base.get("hosts") or 0), int(base.get("usage") or 0)
            seats[(Kind.BASE, None)] = Seats(hosts, usage)
        for key, kind in PLAN_KEYS.items():
            for plan in body.get(key) or ():
                match = _PLAN_SIZE_RE.search(str(plan.get("type", "")))
                if match is None:
                    continue
                seat_key: SeatKey = (kind, int(match.group(1)))
                before = seats.get(seat_key, Seats(0, 0))
                seats[seat_key] = Seats(
                    before.purchased + int(plan.get("hosts") or 0),
                    before.used + int(plan.get("usage") or 0),
                )
        return seats

    async def snapshot(
        self,
        addons_for: Iterable[str] | Callable[[Mapping[str, AccountUser]], Iterable[str]] = (),
        on_read: OnRead | None = None,
        *,
        per_user: bool = False,
    ) -> AccountSnapshot:
        """The account now: every user, the seats, and the add-ons of the users asked for.

        Add-ons are read (concurrently, paced) only for the emails in `addons_for` that are
        users of the account and not pending; the others keep `addons_known=False`.
        `addons_for` may be a function of the users read (by email), so that one listing
        serves both to choose whose add-ons to read and for the snapshot; with `per_user` it
        decides each user on its own and is asked page by page, so that add-ons are read
        while the listing goes on (`AccountRead`). `on_read(n)` tells progress: the users of
        each page listed, then 1 per user whose add-ons were read.
        """
        if callable(addons_for):
            choose = addons_for
        else:
            emails = frozenset(addons_for)

            def choose(users: Mapping[str, AccountUser]) -> Iterable[str]:
                return emails

            per_user = True  # a fixed list decides each user on its own
        read = AccountRead(self, choose, per_user=per_user)
        try:
            await read.list_users(on_read)
            return await read.addons(on_read)
        finally:
            await read.aclose()

    def account_read(
        self,
        choose: Callable[[Mapping[str, AccountUser]], Iterable[str]] | None,
        *,
        per_user: bool,
    ) -> AccountRead:
        """A read of the account in steps (list, settle, add-ons), for a progress display;
        `choose` may come later (`AccountRead.choose`)."""
        return AccountRead(self, choose, per_user=per_user)

    @property
    def max_reads_in_flight(self) -> int:
        """At most this many add-on reads in flight: thousands of tasks let loose at once would
        all wait inside the connection pool, whose bookkeeping grows with its queue."""
        return MAX_CONNECTIONS

    def settings_reads_per_s(self) -> float:
        """How many add-on (settings) reads a second the client starts: Medium, as paced now."""
        pacer = self._pacers[Category.MEDIUM]
        return pacer.limit * pacer.share

    async def addons_or_none(self, user: AccountUser) -> dict[Kind, int | None] | None:
        """A user's add-ons, or None when Zoom refuses to tell (the user vanished meanwhile)."""
        try:
            return await self.get_addons(user.id or user.email)
        except ZoomApiError as error:
            log.warning("could not read the add-ons of a user: %s", error)
            return None

    # -----------------------------------------------------------------------------------------
    # Sending

    async def _get_json(
        self, path: str, category: Category, *, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """GET a path and return its JSON object."""
        response = await self._send("GET", path, category, params=params)
        assert response is not None  # only writes are settled by a read-back
        body: Any = orjson.loads(response.content) if response.content else {}
        return body if isinstance(body, dict) else {}


# ---------------------------------------------------------------------------------------------
# Running requests side by side

A = TypeVar("A")
B = TypeVar("B")


# ---------------------------------------------------------------------------------------------
# Reading Zoom's JSON


class _Pages:
    """The raw pages of one user stream, converted to AccountUsers in arrival order."""

    def __init__(
        self, status: str, on_page: Callable[[list[AccountUser]], None] | None = None
    ) -> None:
        self.status = status
        self.on_page = on_page
        self.raw: list[list[dict[str, Any]]] = []
        self.users: list[AccountUser] = []
        self._done = 0

    def convert(self) -> list[AccountUser]:
        """Convert the pages not converted yet; returns every user so far."""
        while self._done < len(self.raw):
            page = [_user(item, self.status) for item in self.raw[self._done]]
            self.users.extend(page)
            self.raw[self._done] = []
            self._done += 1
            if self.on_page is not None:
                self.on_page(page)
        return self.users


def _segment(user: str) -> str:
    """A user id or email as one URL path segment."""
    return quote(user.strip(), safe="@")


def _user(item: Mapping[str, Any], status: str) -> AccountUser:
    """An AccountUser from a user object of GET /users or GET /users/{id}."""
    code = item.get("type")
    user_status = str(item.get("status") or status)
    return AccountUser(
        id=item.get("id") or None,
        email=str(item.get("email", "")).strip().lower(),
        type=USER_TYPE_BY_CODE.get(code) if isinstance(code, int) else None,
        status=user_status if user_status in USER_STATUSES else status,  # type: ignore[arg-type]
        first_name=str(item.get("first_name") or ""),
        last_name=str(item.get("last_name") or ""),
        dept=str(item.get("dept") or ""),
        cost_center=str(item.get("cost_center") or ""),
        addons_known=False,
    )


def _held_size(feature: Mapping[str, Any], kind: Kind) -> int | None:
    """The held size of one add-on from settings.feature, or None when not held."""
    if not feature.get(kind.value):
        return None
    capacity = feature.get(f"{kind.value}_capacity")
    try:
        size = int(capacity) if capacity is not None else 0
    except (TypeError, ValueError):
        return None
    return size or None

"""Reading a whole account: the user list, the seats, and the add-ons of chosen users.

Zoom lists users one page after the other (each page's request needs the previous page's
`next_page_token`), and reading add-ons costs one settings GET per user; both are Medium. Read
one after the other, the pacer sits idle while each page is on its way. When the choice of users
is made user by user (`per_user`), the add-ons of a page's users are read while the next pages
are listed, so pages and settings reads share the Medium pace and the read takes about
(pages + settings reads) / paced rate, the least the rate limit allows.

    read = AccountRead(client, choose, per_user=True)
    try:
        listed = await read.list_users()  # users and seats; chosen users' add-ons under way
        wanted, done = read.settle()       # the final choice over every user
        snapshot = await read.addons()     # the listed snapshot with those add-ons
    finally:
        await read.aclose()

The listing may begin before the choice is known (`AccountRead(client, None, per_user=True)`,
`read.start()`, later `read.choose(choose)`): a run lists the account while its file is still
being loaded, and the users listed meanwhile are chosen from as soon as the choice comes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, TypeVar

import pandas as pd

from batch.model import AccountSnapshot, AccountUser, UserTable
from batch.vocabulary import ADDONS, Kind, UserType

T = TypeVar("T")

if TYPE_CHECKING:
    from batch.zoom.client import ZoomClient

Addons = dict[Kind, int | None]
Choose = Callable[[Mapping[str, AccountUser]], Iterable[str]]
OnRead = Callable[[int], None]
A = TypeVar("A")
B = TypeVar("B")

# A choice function is asked again about newly listed users no sooner than this many times its
# own last run time: an expensive one (a set built from a 100k-line file) then costs at most
# about a tenth of the listing's time, a cheap one is asked after every page.
CHOOSE_COST_FACTOR: Final = 10.0


class AccountRead:
    """One read of the account by `client`: users, seats, and the add-ons of chosen users.

    `choose(users)` names (by email) the users whose add-ons to read; pending users are never
    read (Zoom does not show their settings). With `per_user`, `choose` must decide each user
    on its own (its answer for a user does not depend on the other users): it is then asked
    about the users of each page as they arrive and their add-ons are read at once, while the
    listing goes on. Without it, `choose` is asked once, about every user, after the listing.
    `settle` asks it once more about every user in either case: that answer is the one that
    counts (reads started for users it leaves out are cancelled, missing ones started).
    """

    def __init__(
        self, client: ZoomClient, choose: Choose | None, *, per_user: bool = False
    ) -> None:
        self._client = client
        self._choose = choose  # None until `choose()`: the listed users wait for it
        self._per_user = per_user
        self._in_flight = asyncio.Semaphore(client.max_reads_in_flight)
        self._tasks: dict[str, asyncio.Task[Addons | None]] = {}
        self._dropped: list[asyncio.Task[Addons | None]] = []  # cancelled by `settle`
        self._waiting: dict[str, AccountUser] = {}  # listed, not yet shown to `choose`
        self._next_choice = 0.0  # time.monotonic() before which `choose` is not asked again
        self._listed: AccountSnapshot | None = None
        self._wanted: list[str] = []
        self._settled = False
        self._on_read: OnRead | None = None
        self._listing: asyncio.Task[AccountSnapshot] | None = None
        self._on_listed: OnRead | None = None  # `on_read` of list_users
        self._listed_count = 0  # users listed so far (told to `_on_listed` once it is given)
        self.done = 0  # add-on reads answered (or given up) so far

    def start(self) -> None:
        """Begin listing the users now; `list_users` waits for this listing."""
        if self._listing is None:
            self._listing = asyncio.ensure_future(self._list())

    def choose(self, choose: Choose) -> None:
        """Give the choice of users (for a read made without one); the users listed so far
        are chosen from at once."""
        self._choose = choose
        if self._per_user and self._waiting:
            self._next_choice = 0.0
            self._page([])

    async def list_users(self, on_read: OnRead | None = None) -> AccountSnapshot:
        """Users and seats (add-ons not merged yet); `on_read(n)` per page of n users (for a
        listing started earlier: at once for the users listed so far)."""
        self._on_listed = on_read
        if on_read is not None and self._listed_count:
            on_read(self._listed_count)
        self.start()
        assert self._listing is not None
        return await self._listing

    def _users_listed(self, count: int) -> None:
        self._listed_count += count
        if self._on_listed is not None:
            self._on_listed(count)

    async def _list(self) -> AccountSnapshot:
        read_at = datetime.now(UTC)
        client = self._client
        users_list, seats = await _both(
            client.list_users(self._users_listed, on_page=self._page if self._per_user else None),
            client.plan_usage(),
        )
        users = {user.email: user for user in users_list}
        self._listed = AccountSnapshot(
            account_id=client.account_id,
            plan=client.config.plan,
            on_prem_available=any(u.type is UserType.ON_PREM for u in users.values()),
            users=users,
            seats=seats,
            is_sandbox=client.config.is_sandbox,
            read_at=read_at,
        )
        return self._listed

    def settle(self) -> tuple[int, int]:
        """Ask `choose` about every user: (users whose add-ons are read, reads already done)."""
        assert self._listed is not None, "list_users() first"
        assert self._choose is not None, "choose() first"
        users = self._listed.users
        wanted = set(_readable(users, self._choose(users)))
        for email in list(self._tasks):
            if email not in wanted:
                dropped = self._tasks.pop(email)
                dropped.cancel()
                self._dropped.append(dropped)
        for user in self._listed.user_table.pick(sorted(wanted - self._tasks.keys())):
            self._start(user)  # (the users not asked about while listed: made alone)
        self._wanted = sorted(wanted)
        self._settled = True
        done = sum(1 for e in self._wanted if self._tasks[e].done())
        return len(self._wanted), done

    async def addons(self, on_read: OnRead | None = None) -> AccountSnapshot:
        """The listed snapshot with the chosen users' add-ons; `on_read(1)` per read finished
        (at once for the reads finished while the users were listed)."""
        if self._listed is None:
            await self.list_users()
        if not self._settled:
            self.settle()
        assert self._listed is not None
        tasks = [self._tasks[email] for email in self._wanted]
        finished = sum(1 for task in tasks if task.done())
        self._on_read = on_read
        if on_read is not None:
            for _ in range(finished):
                on_read(1)
        held = await all_or_cancel(*tasks)
        read = [(e, a) for e, a in zip(self._wanted, held, strict=True) if a is not None]
        if not read:
            return self._listed
        # the add-ons go into the users' columns: no object made per user of the account
        frame = self._listed.user_table.frame.copy()
        emails = [email for email, _ in read]
        for kind in ADDONS:
            frame.loc[emails, kind.value] = pd.array([a[kind] for _, a in read], dtype="Int64")
        frame.loc[emails, "addons_known"] = True
        return replace(self._listed, users=UserTable(frame))

    async def aclose(self) -> None:
        """Cancel the reads still under way (after an error) and wait for them."""
        listing = [self._listing] if self._listing is not None else []
        tasks = [*listing, *self._tasks.values(), *self._dropped]
        for task in tasks:
            task.cancel()
        # every task's outcome is fetched, so none is logged as "never retrieved"
        await asyncio.gather(*tasks, return_exceptions=True)

    def _page(self, users: list[AccountUser]) -> None:
        """A page of users arrived: ask `choose` about the ones waiting, when it is time."""
        for user in users:
            self._waiting[user.email] = user
        now = time.monotonic()
        if not self._waiting or now < self._next_choice or self._choose is None:
            return
        batch, self._waiting = self._waiting, {}
        try:
            chosen = _readable(batch, self._choose(batch))
        except Exception:
            # Raised here, in a loop callback, it would only be logged: `settle` asks again
            # about every user and raises it where the caller sees it.
            self._next_choice = math.inf
            return
        spent = time.monotonic() - now
        self._next_choice = now + CHOOSE_COST_FACTOR * spent
        for email in chosen:
            if email not in self._tasks:
                self._start(batch[email])

    def _start(self, user: AccountUser) -> None:
        """Start reading one user's add-ons (paced with every other Medium request)."""
        self._tasks[user.email] = asyncio.ensure_future(self._read(user))

    async def _read(self, user: AccountUser) -> Addons | None:
        async with self._in_flight:
            held = await self._client.addons_or_none(user)
        self.done += 1
        if self._on_read is not None:
            self._on_read(1)
        return held


def _readable(users: Mapping[str, AccountUser], emails: Iterable[str]) -> list[str]:
    """The emails (lower-cased) of `users` among `emails` whose add-ons Zoom shows."""
    chosen = {email.strip().lower() for email in emails}
    if isinstance(users, UserTable):  # the whole account: its columns, no user objects
        frame = users.frame
        found = frame.index.isin(list(chosen)) & (frame["status"] != "pending").to_numpy(bool)
        return sorted(frame.index[found])
    return sorted(e for e in chosen if (u := users.get(e)) is not None and u.status != "pending")


async def all_or_cancel(*jobs: Awaitable[T]) -> list[T]:
    """Run jobs (coroutines or tasks) concurrently; when one fails, cancel the others and wait
    for them, then raise that one error (asyncio.gather would leave the others running;
    TaskGroup would wrap the error in an ExceptionGroup)."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Two jobs side by side; when one fails, the other is cancelled and awaited."""
    one, two = asyncio.ensure_future(first), asyncio.ensure_future(second)
    try:
        return await one, await two
    except BaseException:
        for task in (one, two):
            task.cancel()
        await asyncio.gather(one, two, return_exceptions=True)
        raise

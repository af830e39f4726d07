"""Reading the account: add-ons read while the user list is still coming in, the same result."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx
import pytest

from batch.errors import AccountError
from batch.model import AccountSnapshot, AccountUser
from batch.sandbox import Sandbox
from batch.vocabulary import UserType
from batch.zoom import ClientConfig, ZoomClient
from batch.zoom.reading import AccountRead
from tests.test_zoom_client import account, many_users, user

FAST_MEDIUM = {"medium": 2000}  # the client follows the limit the sandbox reports: short tests
Choose = Callable[[Mapping[str, AccountUser]], Iterable[str]]


class Recording(httpx.AsyncBaseTransport):
    """The sandbox's transport, noting each request's path (and status filter) in order."""

    def __init__(self, sandbox: Sandbox, *, refuse_settings: bool = False) -> None:
        self._inner = sandbox.transport()
        self._refuse_settings = refuse_settings
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        status = request.url.params.get("status")
        self.paths.append(request.url.path + (f"?{status}" if status else ""))
        if self._refuse_settings and request.url.path.endswith("/settings"):
            return httpx.Response(403, json={"code": 4711, "message": "No permission."})
        return await self._inner.handle_async_request(request)


def read(
    sandbox: Sandbox, choose: Choose, *, per_user: bool, refuse_settings: bool = False
) -> tuple[AccountSnapshot, list[str]]:
    """Read the sandbox's account in steps; the snapshot and the request paths in order."""
    transport = Recording(sandbox, refuse_settings=refuse_settings)
    config = ClientConfig("https://api.zoom.us/v2", "https://zoom.us/oauth/token", None,
                          is_sandbox=True)  # fmt: skip

    async def main() -> AccountSnapshot:
        async with ZoomClient(config, transport=transport) as zoom:
            reading = AccountRead(zoom, choose, per_user=per_user)
            try:
                await reading.list_users()
                reading.settle()
                return await reading.addons()
            finally:
                await reading.aclose()

    return asyncio.run(main()), transport.paths


def licensed_of_file(named: set[str]) -> Choose:
    """The pipeline's choice: the file's users that are Licensed (decided user by user)."""

    def choose(users: Mapping[str, AccountUser]) -> set[str]:
        return {
            e
            for e in named
            if (u := users.get(e)) is not None and u.type not in (None, UserType.BASIC)
        }

    return choose


def known(snapshot: AccountSnapshot) -> dict[str, int | None]:
    """Email -> Webinar size of the users whose add-ons were read."""
    return {e: u.webinar for e, u in snapshot.users.items() if u.addons_known}


def account_with_webinars(count: int) -> dict[str, Any]:
    """`count` users (a tenth Licensed), the Licensed active ones holding Webinar 500."""
    users = many_users(count)
    for row in users:
        if row["type"] == "Licensed" and row["status"] == "active":
            row["webinar"] = 500
    return account(users, hosts=count, plans={"webinar": {"500": count}}, limits=FAST_MEDIUM)


@pytest.mark.parametrize("per_user", [True, False], ids=["while-listing", "after-listing"])
def test_reads_the_chosen_users_add_ons_either_way(per_user: bool) -> None:
    """Read page by page or after the listing, the same users' add-ons are known, and right."""
    data = account_with_webinars(2_000)
    named = {f"u{i:05d}@example.com" for i in range(0, 2_000, 7)}
    snapshot, paths = read(Sandbox.from_dict(data), licensed_of_file(named), per_user=per_user)
    expected = {
        row["email"]: 500
        for row in data["users"]
        if row["email"] in named and row["type"] == "Licensed" and row["status"] == "active"
    }
    expected |= {
        row["email"]: None
        for row in data["users"]
        if row["email"] in named and row["type"] == "Licensed" and row["status"] == "inactive"
    }
    assert known(snapshot) == expected
    assert len(snapshot.users) == 2_000
    assert sum(p.endswith("/settings") for p in paths) == len(expected)


def test_add_ons_are_read_before_the_last_page_is_asked_for() -> None:
    """With a choice made user by user, settings reads start while pages are still listed."""
    data = account_with_webinars(3_000)  # ten pages of active users
    named = {row["email"] for row in data["users"]}
    _, paths = read(Sandbox.from_dict(data), licensed_of_file(named), per_user=True)
    last_page = max(i for i, p in enumerate(paths) if p.endswith("/users?active"))
    first_read = min(i for i, p in enumerate(paths) if p.endswith("/settings"))
    assert first_read < last_page


def test_a_choice_that_looks_at_every_user_is_asked_once_at_the_end() -> None:
    """Without `per_user`, a choice depending on all users (the first three) reads just those."""
    data = account_with_webinars(1_000)

    def first_three(users: Mapping[str, AccountUser]) -> list[str]:
        return sorted(e for e, u in users.items() if u.type is UserType.LICENSED)[:3]

    snapshot, paths = read(Sandbox.from_dict(data), first_three, per_user=False)
    assert sorted(known(snapshot)) == ["u00000@example.com", "u00010@example.com",
                                       "u00020@example.com"]  # fmt: skip
    assert sum(p.endswith("/settings") for p in paths) == 3
    first_read = min(i for i, p in enumerate(paths) if p.endswith("/settings"))
    assert all(not p.startswith("/v2/users?") for p in paths[first_read:])


def test_the_final_choice_counts_when_early_answers_differ() -> None:
    """Users named page by page but left out of the final choice end up not read."""
    data = account(
        [user(f"u{i:04d}@example.com", webinar=500) for i in range(900)],
        hosts=900,
        plans={"webinar": {"500": 900}},
        limits=FAST_MEDIUM,
    )
    calls: list[int] = []

    def shifting(users: Mapping[str, AccountUser]) -> list[str]:
        calls.append(len(users))
        # early (a page): everyone on it; at the end (every user): the first two only
        return sorted(users)[:2] if len(users) == 900 else list(users)

    snapshot, _ = read(Sandbox.from_dict(data), shifting, per_user=True)
    assert sorted(known(snapshot)) == ["u0000@example.com", "u0001@example.com"]
    assert calls[-1] == 900


def test_a_refused_read_stops_the_read_and_leaves_no_read_running(
    recwarn: pytest.WarningsRecorder,
) -> None:
    """When Zoom refuses settings reads outright (403), that error comes out, once, cleanly."""
    data = account([user(f"u{i:04d}@example.com") for i in range(900)], hosts=900,
                   limits=FAST_MEDIUM)  # fmt: skip
    with pytest.raises(AccountError, match="403"):
        read(Sandbox.from_dict(data), lambda users: list(users), per_user=True,
             refuse_settings=True)  # fmt: skip
    assert not [w for w in recwarn if "never" in str(w.message)]


def test_a_failing_choice_is_raised_to_the_caller() -> None:
    """A choice that fails on a page is not swallowed by the event loop: the read raises it."""
    data = account(many_users(900), hosts=900, limits=FAST_MEDIUM)

    def broken(users: Mapping[str, AccountUser]) -> list[str]:
        raise ValueError("the choice broke")

    with pytest.raises(ValueError, match="the choice broke"):
        read(Sandbox.from_dict(data), broken, per_user=True)


def test_a_listing_begun_before_the_choice_reads_the_users_listed_meanwhile() -> None:
    """A run lists the account while its file loads: the users listed before the choice came
    are chosen from when it comes, the reads still overlap the pages to come, and the
    progress counts every listed user once."""
    data = account_with_webinars(3_000)  # ten pages of active users
    named = {f"u{i:05d}@example.com" for i in range(0, 3_000, 3)}
    transport = Recording(Sandbox.from_dict(data))
    config = ClientConfig("https://api.zoom.us/v2", "https://zoom.us/oauth/token", None,
                          is_sandbox=True)  # fmt: skip
    progress: list[int] = []

    async def main() -> tuple[AccountSnapshot, int]:
        async with ZoomClient(config, transport=transport) as zoom:
            reading = AccountRead(zoom, None, per_user=True)
            reading.start()
            while sum(p.endswith("/users?active") for p in transport.paths) < 3:
                await asyncio.sleep(0.001)  # (the file is loading)
            reads_before_choice = sum(p.endswith("/settings") for p in transport.paths)
            reading.choose(licensed_of_file(named))
            try:
                await reading.list_users(on_read=progress.append)
                reading.settle()
                return await reading.addons(), reads_before_choice
            finally:
                await reading.aclose()

    snapshot, reads_before_choice = asyncio.run(main())
    expected = {
        row["email"]: 500 if row["status"] == "active" else None
        for row in data["users"]
        if row["email"] in named and row["type"] == "Licensed" and row["status"] != "pending"
    }
    assert reads_before_choice == 0
    assert known(snapshot) == expected
    assert sum(progress) == 3_000
    paths = transport.paths
    last_page = max(i for i, p in enumerate(paths) if p.endswith("/users?active"))
    first_read = min(i for i, p in enumerate(paths) if p.endswith("/settings"))
    assert first_read < last_page
    assert sum(p.endswith("/settings") for p in paths) == len(expected)

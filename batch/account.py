"""Which account a run talks to: Zoom, a served sandbox, or the sandbox file in-process.

    credentials (env or config)          -> Zoom at settings.api_url (a real account)
    --api-url without credentials        -> a served sandbox (`batch sandbox serve`)
    neither (or --sandbox PATH)          -> the sandbox JSON file, emulated in this process

Every command that reads the account prints `account_announcement` first, so nobody mistakes
a sandbox run for a real one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from batch.model import AccountSnapshot, AccountUser, readable_holders
from batch.settings import DEFAULT_API_URL, DEFAULT_SANDBOX_PATH, Credentials, Secret, Settings
from batch.zoom import ClientConfig, ZoomClient

if TYPE_CHECKING:
    from batch.output import Output
    from batch.zoom.reading import AccountRead

# The in-process sandbox answers any host; these only name it in logs.
IN_PROCESS_API_URL: Final = "http://sandbox.invalid/v2"
IN_PROCESS_OAUTH_URL: Final = "http://sandbox.invalid/oauth/token"


def sandbox_path(settings: Settings) -> Path:
    """The sandbox file a run without credentials uses."""
    return settings.sandbox_path or DEFAULT_SANDBOX_PATH


def served_sandbox(settings: Settings) -> bool:
    """True when the run talks over HTTP to a sandbox served elsewhere (`--api-url`)."""
    return settings.uses_sandbox and settings.api_url != DEFAULT_API_URL


def account_announcement(settings: Settings) -> str:
    """The first output line: which account this run reads and changes."""
    if not settings.uses_sandbox:
        assert settings.credentials is not None
        return f"Using Zoom account {settings.credentials.account_id} at {settings.api_url}."
    if served_sandbox(settings):
        return f"Using the SANDBOX served at {settings.api_url}: no real Zoom account is touched."
    return (
        f"Using the SANDBOX account in {sandbox_path(settings)}: no real Zoom account is touched."
    )


@asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[ZoomClient]:
    """A Zoom client for the run's account; an in-process sandbox is saved when it closes."""
    plan = settings.zoom_plan or "business"
    if not settings.uses_sandbox or served_sandbox(settings):
        config = ClientConfig(
            settings.api_url,
            settings.oauth_url,
            settings.credentials,
            plan=plan,
            timeout_s=settings.timeout_s,
            is_sandbox=settings.uses_sandbox,
        )
        async with ZoomClient(config) as client:
            yield client
        return
    # the emulator is imported only for a run on the sandbox file: Zoom and served-sandbox
    # runs (and `batch validate`) do without its ~0.3 s of imports
    from batch.sandbox import Sandbox, init_account

    path = sandbox_path(settings)
    if not path.exists():
        init_account(path)
    sandbox = Sandbox.from_file(path)
    account = sandbox.head()  # (not to_dict: that would write out every user)
    config = ClientConfig(
        IN_PROCESS_API_URL,
        IN_PROCESS_OAUTH_URL,
        _sandbox_credentials(account),
        plan=str(account.get("account", {}).get("plan", plan)),
        timeout_s=settings.timeout_s,
        is_sandbox=True,
    )
    try:
        async with ZoomClient(config, transport=sandbox.transport()) as client:
            yield client
    finally:
        sandbox.flush()


def _sandbox_credentials(account: dict[str, object]) -> Credentials:
    """The credentials the sandbox file accepts: its own block, else any (named by its id)."""
    block = account.get("credentials")
    if isinstance(block, dict):
        return Credentials(
            str(block.get("account_id", "")),
            str(block.get("client_id", "")),
            Secret(str(block.get("client_secret", ""))),
        )
    info = account.get("account")
    account_id = str(info.get("id", "sandbox")) if isinstance(info, dict) else "sandbox"
    return Credentials(account_id, "sandbox", Secret("sandbox", public=True))


def read_time_s(users: int, reads_per_s: float) -> float:
    """Seconds to read the add-ons of `users` users at the paced rate (one request each)."""
    return users / reads_per_s if reads_per_s > 0 else 0.0


def duration_text(seconds: float) -> str:
    """`45 s`, `12 min`, `2.8 h`: how long a read takes, for a progress line."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


async def read_account(
    client: ZoomClient,
    settings: Settings,
    output: Output,
    addons_for: Callable[[Mapping[str, AccountUser]], Iterable[str]] = lambda users: (),
    *,
    full_account: bool = False,
    stage: str = "Reading the account",
    begun: AccountRead | None = None,
) -> AccountSnapshot:
    """The account: users and seats, and the add-ons of `addons_for(users)` (with
    `full_account`, of every Licensed and On-prem user). On-prem availability per `zoom.onprem`.
    `begun`: a read whose listing `begin_read` started earlier, to go on with.

    `addons_for` must decide each user on its own (whether a user is in it does not depend on
    the other users): it is asked page by page while the users are listed, and the add-ons of
    the users it names are read at once, sharing the Medium pace with the pages still to come.
    When the listing ends, a progress bar says how long the reads left take at the account's
    rate limit.
    """

    def wanted(users: Mapping[str, AccountUser]) -> set[str]:
        chosen = set(addons_for(users))
        return chosen | readable_holders(users) if full_account else chosen

    read = begun if begun is not None else client.account_read(None, per_user=True)
    read.choose(wanted)
    try:
        with output.stage(stage, total=None) as advance:
            await read.list_users(on_read=advance)
        count, done = read.settle()
        if not count:
            return with_onprem(await read.addons(), settings.onprem)
        rate = client.settings_reads_per_s()
        seconds = read_time_s(count - done, rate)
        output.event(
            "reading_addons", users=count, per_s=round(rate, 1), estimate_s=round(seconds, 1)
        )
        name = (
            f"Reading the add-ons of {count:,} users "
            f"(about {duration_text(seconds)} at {rate:.0f} a second)"
        )
        with output.stage(name, total=count) as advance:
            state = await read.addons(on_read=advance)
    finally:
        await read.aclose()
    return with_onprem(state, settings.onprem)


def begin_read(client: ZoomClient) -> AccountRead:
    """Start listing the account's users now, before the choice of whose add-ons to read is
    known: give the read to `read_account` (which makes the choice), or `aclose` it."""
    read = client.account_read(None, per_user=True)
    read.start()
    return read


def with_onprem(state: AccountSnapshot, onprem: str) -> AccountSnapshot:
    """`zoom.onprem`: "auto" keeps what the account shows (an On-prem user exists); "true" and
    "false" say it outright."""
    if onprem == "auto":
        return state
    return replace(state, on_prem_available=onprem == "true")


def read_account_now(
    settings: Settings,
    output: Output,
    addons_for: Callable[[Mapping[str, AccountUser]], Iterable[str]] = lambda users: (),
    *,
    full_account: bool = False,
) -> AccountSnapshot:
    """`read_account` for the commands that only look (export, show, template)."""
    import asyncio

    async def read() -> AccountSnapshot:
        async with open_client(settings) as client:
            return await read_account(
                client, settings, output, addons_for, full_account=full_account
            )

    return asyncio.run(read())

"""Which account a run talks to: Zoom, a served sandbox, or the sandbox file in-process.

    credentials (env or config)          -> Zoom at settings.api_url (a real account)
    --api-url without credentials        -> a served sandbox (`batch sandbox serve`)
    neither (or --sandbox PATH)          -> the sandbox JSON file, emulated in this process

Every command that reads the account prints `account_announcement` first, so nobody mistakes
a sandbox run for a real one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from batch.sandbox import Sandbox, init_account
from batch.settings import DEFAULT_API_URL, DEFAULT_SANDBOX_PATH, Credentials, Secret, Settings
from batch.zoom import ClientConfig, ZoomClient

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
    path = sandbox_path(settings)
    if not path.exists():
        init_account(path)
    sandbox = Sandbox.from_file(path)
    account = sandbox.to_dict()
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

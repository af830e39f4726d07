"""Apply a license file to a sandbox the way `batch apply` does, minus the report.

Used in-process by the apply tests (`apply_file`) and as a subprocess by the crash test, which
kills it at many points:

    python tests/crash_driver.py FILE JOURNAL BASE_URL [--chunk-size N]

It loads the file, applies the file rules, reads the account, plans, marks the lines done by
earlier runs (from the journal), starts a run and applies it. Exit 0 when the run finished.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pandas as pd

from batch.applying import ChunkProgress, apply_operations, mark_done_earlier
from batch.journal import Journal
from batch.loading import load
from batch.model import AccountSnapshot
from batch.planning import Plan, addons_needed, plan
from batch.rules import check_file
from batch.vocabulary import Mode
from batch.zoom import ClientConfig, ZoomClient

API_URL = "https://api.zoom.us/v2"
OAUTH_URL = "https://zoom.us/oauth/token"


@dataclass(frozen=True)
class Applied:
    """What one run did: its plan, the account before it, and the final results."""

    run_id: int
    plan: Plan
    before: AccountSnapshot
    results: pd.DataFrame


def client_for(
    base_url: str | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> ZoomClient:
    """A client of a served sandbox (base_url) or an in-process one (transport)."""
    api, oauth = (f"{base_url}/v2", f"{base_url}/oauth/token") if base_url else (API_URL, OAUTH_URL)
    config = ClientConfig(api, oauth, None, plan="business", is_sandbox=True, max_wait_s=5.0)
    return ZoomClient(config, transport=transport)


async def apply_file(
    path: Path,
    client: ZoomClient,
    journal: Journal,
    *,
    chunk_size: int = 200,
    on_chunk: Callable[[ChunkProgress], None] | None = None,
    on_answer: Callable[[], None] | None = None,
) -> Applied:
    """Load, check, read the account, plan and apply one file; the run is finished on success."""
    loaded = load(path)
    file_results = check_file(loaded.requests)
    users = await client.list_users()
    needed = addons_needed(loaded.requests, {u.email: u for u in users}, Mode.APPLY)
    before = await client.snapshot(addons_for=needed)
    the_plan = plan(loaded.requests, file_results, before, mode=Mode.APPLY)
    results = mark_done_earlier(the_plan.results, journal.applied_earlier(loaded.sha256))
    the_plan = replace(the_plan, results=results)
    run_id = journal.start_run(loaded.name, loaded.sha256, "apply", Mode.APPLY.value)
    journal.record_plan(run_id, the_plan.operations)
    results = await apply_operations(
        the_plan, client, journal, run_id, chunk_size=chunk_size, on_chunk=on_chunk,
        on_answer=on_answer,
    )  # fmt: skip
    journal.finish_run(run_id, "finished")
    return Applied(run_id, the_plan, before, results)


async def _main(args: argparse.Namespace) -> None:
    with Journal(args.journal) as journal:
        async with client_for(args.base_url) as client:
            await apply_file(args.file, client, journal, chunk_size=args.chunk_size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("journal", type=Path)
    parser.add_argument("base_url")
    parser.add_argument("--chunk-size", type=int, default=200)
    asyncio.run(_main(parser.parse_args()))
    sys.exit(0)

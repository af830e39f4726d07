"""Progress moves from the first request: per user page and add-on read, per answered request."""

from __future__ import annotations

import asyncio
from pathlib import Path

from batch.applying import ChunkProgress
from batch.sandbox import Sandbox
from tests.crash_driver import client_for
from tests.test_applying import _many_users, account, csv_file, run_file


def test_apply_progress_moves_with_every_answered_request(tmp_path: Path) -> None:
    """With one chunk for all 12 upgrades, the bar hears 12 answers before the chunk ends."""
    sandbox = Sandbox.from_dict(account(_many_users(12), hosts=30))
    path = csv_file(tmp_path, [f"u{i:03d}@x.com,Licensed," for i in range(12)])
    heard: list[str] = []

    def on_chunk(chunk: ChunkProgress) -> None:
        heard.append(f"chunk of {chunk.done}")

    asyncio.run(
        run_file(
            sandbox, path, tmp_path / "j.sqlite", chunk_size=100, on_chunk=on_chunk,
            on_answer=lambda: heard.append("answer"),
        )
    )  # fmt: skip
    assert heard == ["answer"] * 12 + ["chunk of 12"]


def test_reading_the_account_reports_each_page_and_each_add_on_read(tmp_path: Path) -> None:
    """Listing 1,400 users reports them page by page (300 a page), then one per add-on read."""
    sandbox = Sandbox.from_dict(account(_many_users(700), hosts=800))  # 700 Basic, 700 Licensed
    heard: list[int] = []

    async def read() -> None:
        async with client_for(transport=sandbox.transport()) as client:
            await client.snapshot(addons_for=["u000@x.com", "u001@x.com"], on_read=heard.append)

    asyncio.run(read())
    pages, addons = heard[:-2], heard[-2:]
    # five pages of active users (the last of 200), one empty page each of inactive and pending
    assert sorted(pages) == [0, 0, 200, 300, 300, 300, 300]
    assert addons == [1, 1]

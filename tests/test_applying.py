"""The apply step against the sandbox in-process: result lines, account state, journal, faults."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from batch.applying import ChunkProgress, apply_operations, partial_results
from batch.errors import ApplyStopped
from batch.journal import Journal
from batch.loading import load
from batch.model import AccountSnapshot
from batch.planning import apply_to_snapshot, plan
from batch.rules import check_file
from batch.sandbox import Faults, Sandbox
from batch.vocabulary import UserType
from batch.zoom import DailyLimitReached, ZoomClient
from tests.accounts import account
from tests.crash_driver import Applied, apply_file, client_for

FAST = {"light": 2000, "medium": 2000, "heavy": 400}  # keep the tests quick; pacing is adopted


def csv_file(tmp_path: Path, lines: list[str], name: str = "licenses.csv") -> Path:
    """A long-layout license file (email, license, action); row 2 is the first line."""
    path = tmp_path / name
    path.write_text("email,license,action\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def state(
    snapshot: AccountSnapshot, like: AccountSnapshot | None = None
) -> dict[str, tuple[object, ...]]:
    """What the tests compare of an account: each user's type and add-on sizes, and the seats.

    Add-ons count only for users whose add-ons `like` (default: the snapshot itself) knows.
    """
    known = like or snapshot
    users: dict[str, tuple[object, ...]] = {
        email: (u.type, u.large_meeting, u.webinar, u.zoom_events)
        if known.users[email].addons_known
        else (u.type,)
        for email, u in snapshot.users.items()
    }
    seats = {f"{k[0]}:{k[1]}": (s.purchased, s.used) for k, s in snapshot.seats.items()}
    return {**users, **{key: value for key, value in seats.items()}}


async def read_all(client: ZoomClient) -> AccountSnapshot:
    """The account with every user's add-ons read."""
    users = await client.list_users()
    return await client.snapshot(addons_for=[u.email for u in users])


def lines(results: pd.DataFrame) -> list[tuple[object, ...]]:
    """The result lines as (row, email, license, outcome, code)."""
    table = results[["row", "email", "license", "outcome", "code"]]
    return [(int(r), e, lic, o, c) for r, e, lic, o, c in table.itertuples(index=False)]


async def run_file(
    sandbox: Sandbox, path: Path, journal_path: Path, **kwargs: Any
) -> tuple[Applied, AccountSnapshot]:
    """Apply a file to the in-process sandbox; returns the run and the account after it."""
    with Journal(journal_path) as journal:
        async with client_for(transport=sandbox.transport()) as client:
            applied = await apply_file(path, client, journal, **kwargs)
            after = await read_all(client)
    return applied, after


USERS = [
    {"email": "ann@x.com", "type": "Basic"},
    {"email": "bob@x.com", "type": "Licensed", "webinar": 500},
    {"email": "cy@x.com", "type": "Licensed"},
    {"email": "dan@x.com", "type": "Licensed", "large_meeting": 500},
    {"email": "eve@x.com", "type": "Basic"},
    {"email": "zed@x.com", "type": "Basic"},
]
PLANS = {"large_meeting": {"500": 2}, "webinar": {"500": 2, "1000": 1}}


def test_apply_reports_each_line_and_leaves_the_predicted_account(tmp_path: Path) -> None:
    """Every planned line ends applied and the account equals apply_to_snapshot's prediction."""
    sandbox = Sandbox.from_dict(account(USERS, hosts=5, plans=PLANS, limits=FAST))
    path = csv_file(tmp_path, [
        "ann@x.com,Licensed,",
        "ann@x.com,Webinar 500,",
        "bob@x.com,Webinar 1000,",
        "cy@x.com,Large Meeting 500,",
        "dan@x.com,Basic,",
        "cy@x.com,Licensed,",
    ])  # fmt: skip
    applied, after = asyncio.run(run_file(sandbox, path, tmp_path / "j.sqlite"))
    assert lines(applied.results) == [
        (2, "ann@x.com", "Licensed", "applied", ""),
        (3, "ann@x.com", "Webinar 500", "applied", ""),
        (4, "bob@x.com", "Webinar 1000", "applied", ""),
        (5, "cy@x.com", "Large Meeting 500", "applied", ""),
        (6, "dan@x.com", "Basic", "applied", ""),
        (6, "dan@x.com", "Large Meeting 500", "applied", ""),
        (7, "cy@x.com", "Licensed", "unchanged", ""),
    ]
    predicted = apply_to_snapshot(applied.before, applied.plan.operations)
    assert state(after, predicted) == state(predicted)
    assert state(after)["dan@x.com"] == (UserType.BASIC, None, None, None)
    assert sandbox.stats.writes == len(applied.plan.operations)


def test_a_refused_upgrade_skips_the_users_addons(tmp_path: Path) -> None:
    """When Zoom refuses an upgrade (a seat taken meanwhile), its add-on is dependency-failed."""
    sandbox = Sandbox.from_dict(account(USERS, hosts=4, plans=PLANS, limits=FAST))
    path = csv_file(tmp_path, ["cy@x.com,Large Meeting 500,", "ann@x.com,Licensed,",
                               "ann@x.com,Webinar 500,"])  # fmt: skip

    async def scenario() -> tuple[pd.DataFrame, dict[str, str]]:
        with Journal(tmp_path / "j.sqlite") as journal:
            async with client_for(transport=sandbox.transport()) as client:
                loaded = load(path)
                before = await read_all(client)
                the_plan = plan(loaded.requests, check_file(loaded.requests), before)
                # someone takes the last free seat between our read and our apply
                await client.set_user_type("zed@x.com", UserType.LICENSED)
                run_id = journal.start_run(loaded.name, loaded.sha256, "apply", "apply")
                journal.record_plan(run_id, the_plan.operations)
                results = await apply_operations(the_plan, client, journal, run_id)
                return results, dict(journal.op_states(run_id))

    results, states = asyncio.run(scenario())
    assert lines(results) == [
        (2, "cy@x.com", "Large Meeting 500", "applied", ""),
        (3, "ann@x.com", "Licensed", "failed", "api-error"),
        (4, "ann@x.com", "Webinar 500", "skipped", "dependency-failed"),
    ]
    messages = results["message"].tolist()
    assert messages[1].startswith("Zoom refused: 3412 ")
    assert messages[2] == "not attempted: the Licensed upgrade on row 3 failed"
    assert states == {
        "cy@x.com|addons": "applied",
        "ann@x.com|type": "failed",
        "ann@x.com|addons": "skipped",
    }


def test_a_seat_freed_by_a_size_change_is_granted_in_the_same_run(tmp_path: Path) -> None:
    """Bob's Webinar 500 -> 1000 frees the only free 500 seat's twin, which Cy gets in the run."""
    users = [*USERS, {"email": "fay@x.com", "type": "Licensed", "webinar": 500}]
    sandbox = Sandbox.from_dict(account(users, hosts=6, plans=PLANS, limits=FAST))
    path = csv_file(
        tmp_path, ["cy@x.com,Licensed,", "cy@x.com,Webinar 500,", "bob@x.com,Webinar 1000,"]
    )
    applied, after = asyncio.run(run_file(sandbox, path, tmp_path / "j.sqlite", chunk_size=1))
    assert lines(applied.results) == [
        (2, "cy@x.com", "Licensed", "unchanged", ""),
        (3, "cy@x.com", "Webinar 500", "applied", ""),
        (4, "bob@x.com", "Webinar 1000", "applied", ""),
    ]
    assert applied.plan.operations[0].op_id == "bob@x.com|addons-free"  # frees first
    predicted = apply_to_snapshot(applied.before, applied.plan.operations)
    assert state(after, predicted) == state(predicted)
    changes = [(email, field, new) for email, field, _, new in sandbox.stats.changes]
    assert changes.index(("bob@x.com", "webinar", None)) < changes.index(
        ("cy@x.com", "webinar", 500)
    )


def _many_users(count: int) -> list[dict[str, Any]]:
    return [{"email": f"u{i:03d}@x.com", "type": "Basic"} for i in range(count)] + [
        {"email": f"w{i:03d}@x.com", "type": "Licensed"} for i in range(count)
    ]


def _many_lines(count: int) -> list[str]:
    return [f"u{i:03d}@x.com,Licensed," for i in range(count)] + [
        f"u{i:03d}@x.com,Webinar 500," if i % 2 else f"w{i:03d}@x.com,Large Meeting 500,"
        for i in range(count)
    ]


@pytest.mark.parametrize("seed", [1, 2], ids=["seed-1", "seed-2"])
def test_server_errors_and_drops_still_apply_every_line_once(tmp_path: Path, seed: int) -> None:
    """With 10% 5xx and 2% dropped connections every line is applied and no change happens twice."""
    faults = Faults(error_rate=0.10, drop_rate=0.02, seed=seed)
    plans = {"webinar": {"500": 100}, "large_meeting": {"500": 100}}
    sandbox = Sandbox.from_dict(
        account(_many_users(60), hosts=200, plans=plans, limits=FAST), faults=faults
    )
    path = csv_file(tmp_path, _many_lines(60))
    applied, after = asyncio.run(run_file(sandbox, path, tmp_path / "j.sqlite", chunk_size=25))
    assert Counter(applied.results["outcome"]) == {"applied": 120}
    predicted = apply_to_snapshot(applied.before, applied.plan.operations)
    assert state(after, predicted) == state(predicted)
    changes = Counter((email, field) for email, field, _, _ in sandbox.stats.changes)
    assert set(changes.values()) == {1}
    assert len(changes) == 120
    assert sandbox.stats.faults["error"] > 0 and sandbox.stats.faults["drop_after"] > 0


def test_a_daily_limit_stops_the_run_and_keeps_what_was_done(tmp_path: Path) -> None:
    """A daily limit mid-run: answered ops recorded, run stopped, the error re-raised, no lie."""
    limits = {**FAST, "daily": {"light": 3}}
    sandbox = Sandbox.from_dict(account(_many_users(8), hosts=20, limits=limits))
    path = csv_file(tmp_path, [f"u{i:03d}@x.com,Licensed," for i in range(8)])

    async def scenario() -> None:
        with Journal(tmp_path / "j.sqlite") as journal:
            async with client_for(transport=sandbox.transport()) as client:
                await apply_file(path, client, journal, chunk_size=4)

    with pytest.raises(ApplyStopped) as stopped:
        asyncio.run(scenario())
    with Journal(tmp_path / "j.sqlite") as journal:
        run = journal.run(1)
        states = Counter(journal.op_states(1).values())
    assert isinstance(stopped.value.cause, DailyLimitReached)
    assert stopped.value.exit_code == DailyLimitReached.exit_code
    results = partial_results(stopped.value)
    assert results is not None
    assert run["status"] == "stopped"
    assert states["applied"] == 3 and states["applied"] + states["sent"] + states["pending"] == 8
    assert Counter(results["outcome"]) == {"applied": 3, "planned": 5}
    licensed = [e for e, t, _, _ in sandbox.stats.changes if t == "type"]
    assert len(licensed) == 3


def test_cancelling_records_what_was_answered_and_stops_the_run(tmp_path: Path) -> None:
    """An interrupt after the first chunk: the run is stopped and the journal matches Zoom."""
    sandbox = Sandbox.from_dict(account(_many_users(30), hosts=40, limits=FAST))
    path = csv_file(tmp_path, [f"u{i:03d}@x.com,Licensed," for i in range(30)])

    async def scenario() -> None:
        with Journal(tmp_path / "j.sqlite") as journal:
            async with client_for(transport=sandbox.transport()) as client:
                task = asyncio.current_task()
                assert task is not None

                def on_chunk(progress: ChunkProgress) -> None:
                    task.cancel()  # what asyncio.run does on Ctrl-C

                await apply_file(path, client, journal, chunk_size=5, on_chunk=on_chunk)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(scenario())
    with Journal(tmp_path / "j.sqlite") as journal:
        run = journal.run(1)
        states = journal.op_states(1)
    changed = {email for email, _, _, _ in sandbox.stats.changes}
    applied = {op_id.split("|")[0] for op_id, s in states.items() if s == "applied"}
    assert run["status"] == "stopped"
    assert 5 <= len(applied) < 30
    assert applied <= changed  # every acknowledged op happened
    unknown = {op_id.split("|")[0] for op_id, s in states.items() if s == "sent"}
    assert changed <= applied | unknown  # and nothing happened that the journal does not cover


def test_a_rerun_plans_nothing_and_says_who_did_it(tmp_path: Path) -> None:
    """Re-running an applied file sends nothing; its lines say which earlier run did them."""
    sandbox = Sandbox.from_dict(account(USERS, hosts=5, plans=PLANS, limits=FAST))
    path = csv_file(tmp_path, ["ann@x.com,Licensed,", "ann@x.com,Webinar 500,"])
    first, _ = asyncio.run(run_file(sandbox, path, tmp_path / "j.sqlite"))
    writes = sandbox.stats.writes
    second, _ = asyncio.run(run_file(sandbox, path, tmp_path / "j.sqlite"))
    assert second.plan.operations == ()
    assert sandbox.stats.writes == writes
    assert Counter(second.results["outcome"]) == {"unchanged": 2}
    assert second.results["done_earlier"].tolist() == [True, True]
    assert all(
        m.startswith(f"done by an earlier run (run {first.run_id}, started ")
        for m in second.results["message"]
    )


def test_progress_is_reported_once_per_chunk(tmp_path: Path) -> None:
    """on_chunk hears every chunk of both streams once, and the counts add up to the plan."""
    sandbox = Sandbox.from_dict(
        account(_many_users(12), hosts=30, plans={"webinar": {"500": 12}}, limits=FAST)
    )
    path = csv_file(tmp_path, [f"u{i:03d}@x.com,Licensed," for i in range(12)] + [
        f"w{i:03d}@x.com,Webinar 500," for i in range(7)
    ])  # fmt: skip
    heard: list[ChunkProgress] = []
    applied, _ = asyncio.run(
        run_file(sandbox, path, tmp_path / "j.sqlite", chunk_size=5, on_chunk=heard.append)
    )
    assert sorted((p.category, p.done) for p in heard) == sorted(
        [("type", 5), ("type", 5), ("type", 2), ("addons", 5), ("addons", 2)]
    )
    assert [p.chunk for p in heard] == [1, 2, 3, 4, 5]
    assert {p.chunks for p in heard} == {5}
    assert (heard[-1].total_done, heard[-1].total) == (19, len(applied.plan.operations))
    assert sum(p.applied for p in heard) == 19

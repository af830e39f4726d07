"""Crash test: an apply process SIGKILLed at many points, then re-run, ends like one clean run."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from batch.journal import Journal
from batch.sandbox import Sandbox, serve
from tests.accounts import account
from tests.crash_driver import apply_file, client_for
from tests.test_applying import csv_file, read_all, state

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "tests" / "crash_driver.py"
LIMITS = {"light": 300, "medium": 300, "heavy": 100}
UPGRADED, GRANTED = 150, 100  # 150 upgrades each with a Webinar grant, 100 Large Meeting grants

# Where each run is killed: after the journal shows this many answered ops of the run, or this
# many seconds after the run started (its line in `runs` appeared), or this long after launch.
KILL_POINTS = [
    ("answers", 0), ("delay", 0.0), ("answers", 5), ("delay", 0.03), ("answers", 20),
    ("delay", 0.08), ("answers", 1), ("delay", 0.15), ("answers", 40), ("launch", 1.5),
    ("delay", 0.25), ("answers", 60),
]  # fmt: skip


def _account() -> dict[str, Any]:
    users = [{"email": f"u{i:03d}@x.com", "type": "Basic"} for i in range(UPGRADED)] + [
        {"email": f"w{i:03d}@x.com", "type": "Licensed"} for i in range(GRANTED)
    ]
    plans = {"webinar": {"500": UPGRADED}, "large_meeting": {"500": GRANTED}}
    return account(users, hosts=UPGRADED + GRANTED, plans=plans, limits=LIMITS)


def _lines() -> list[str]:
    return (
        [f"u{i:03d}@x.com,Licensed," for i in range(UPGRADED)]
        + [f"u{i:03d}@x.com,Webinar 500," for i in range(UPGRADED)]
        + [f"w{i:03d}@x.com,Large Meeting 500," for i in range(GRANTED)]
    )


def _progress(journal: Path) -> tuple[int, int]:
    """(runs in the journal, answered ops of the latest run), read without disturbing it."""
    if not journal.exists():
        return 0, 0
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
    try:
        (runs,) = db.execute("SELECT count(*) FROM runs").fetchone()
        (answered,) = db.execute(
            "SELECT count(*) FROM ops WHERE run_id=(SELECT max(run_id) FROM runs)"
            " AND state IN ('applied','failed','skipped')"
        ).fetchone()
    except sqlite3.OperationalError:  # tables not created yet
        return 0, 0
    finally:
        db.close()
    return int(runs), int(answered)


def _run_and_kill(path: Path, journal: Path, base_url: str, point: tuple[str, float]) -> bool:
    """Start the driver and SIGKILL it at `point`; True when it was killed, not finished."""
    runs_before, _ = _progress(journal)
    process = subprocess.Popen(
        [sys.executable, str(DRIVER), str(path), str(journal), base_url, "--chunk-size", "20"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    kind, value = point
    launched = time.monotonic()
    run_seen: float | None = None
    deadline = launched + 120
    while process.poll() is None and time.monotonic() < deadline:
        runs, answered = _progress(journal)
        if run_seen is None and runs > runs_before:
            run_seen = time.monotonic()
        now = time.monotonic()
        if (
            (kind == "launch" and now - launched >= value)
            or (kind == "delay" and run_seen is not None and now - run_seen >= value)
            or (kind == "answers" and run_seen is not None and answered >= value)
        ):
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            assert process.stderr is not None
            process.stderr.close()
            return True
        time.sleep(0.005)
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors.decode()
    return False


def _finish(path: Path, journal: Path, base_url: str) -> None:
    """Run the driver to the end."""
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(path), str(journal), base_url, "--chunk-size", "20"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()


def _uninterrupted_state(tmp_path: Path, path: Path) -> dict[str, tuple[object, ...]]:
    """The account after one clean run of the file, in-process."""
    sandbox = Sandbox.from_dict(_account())

    async def run() -> dict[str, tuple[object, ...]]:
        with Journal(tmp_path / "clean.sqlite") as journal:
            async with client_for(transport=sandbox.transport()) as client:
                await apply_file(path, client, journal)
                return state(await read_all(client))

    return asyncio.run(run())


@pytest.mark.slow
def test_killed_runs_resume_to_the_same_account_without_sending_anything_twice(
    tmp_path: Path,
) -> None:
    """Killed at 12 points and re-run, the account ends as after one clean run, each change once."""
    path = csv_file(tmp_path, _lines())
    journal = tmp_path / "journal.sqlite"
    sandbox = Sandbox.from_dict(_account())
    with serve(sandbox) as base_url:
        killed = [_run_and_kill(path, journal, base_url, point) for point in KILL_POINTS]
        _finish(path, journal, base_url)

    async def final() -> dict[str, tuple[object, ...]]:
        async with client_for(transport=sandbox.transport()) as client:
            return state(await read_all(client))

    assert asyncio.run(final()) == _uninterrupted_state(tmp_path, path)
    changes = Counter((email, field) for email, field, _, _ in sandbox.stats.changes)
    assert len(changes) == 2 * UPGRADED + GRANTED
    assert set(changes.values()) == {1}, [c for c, n in changes.items() if n > 1]
    db = sqlite3.connect(journal)
    statuses = [s for (s,) in db.execute("SELECT status FROM runs ORDER BY run_id")]
    again = db.execute(
        "SELECT count(*) FROM ops AS first JOIN ops AS later ON later.op_id = first.op_id"
        " AND later.run_id > first.run_id WHERE first.state = 'applied'"
    ).fetchone()[0]
    db.close()
    assert sum(killed) >= 10
    assert statuses.count("running") >= 10  # killed mid-run, as the journal saw it
    assert statuses[-1] == "finished"
    assert again == 0  # an acknowledged op is never planned again

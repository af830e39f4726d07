"""Crash suite: `batch apply` as a real process, SIGKILLed at 27 points over a 2,000-operation
run (while it reads the account, right after it starts its run in the journal, then every ~80
changes the sandbox makes), each kill followed by the next run of the same file; the last run
goes to its end.

It must end where one run without kills ends (the same file on a fresh copy of the account),
with every operation of the plan accounted for once in the journal (applied in exactly one run,
or sent by a killed run and found done by the next plan), each change made once in the sandbox,
no write repeated blindly, and no seat held beyond the purchase at any step.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd
import pytest

from batch.journal import Journal
from batch.sandbox import Sandbox
from tests.conftest import BATCH, SCRUBBED_ENV
from tests.crash_driver import apply_file, client_for
from tests.fault_driver import (
    OPS_PER_UNIT,
    ServedAccount,
    account_data,
    doubled,
    expected_holdings,
    extra_z,
    holdings,
    license_lines,
    seat_overuse,
    write_csv,
)

UNITS: Final = 250  # 2,000 operations
# Rate limits of the crash account: above business (80/60 per second), so that each of the 28
# runs re-reads the add-ons of ~1,300 users in seconds rather than 25 s; pacing and 429s are
# the fault suite's subject, kills are this one's.
CRASH_LIMITS: Final = {"light": 400, "medium": 400, "heavy": 100}
CHUNK_SIZE: Final = 100
RUN_TIMEOUT_S: Final = 300.0


@dataclass(frozen=True)
class KillPoint:
    """When to SIGKILL a run: `launch` s after it started, once its run is in the journal
    (`run-started`), or once the sandbox has made `writes` changes since the suite began."""

    kind: str
    value: float

    def __str__(self) -> str:
        return f"{self.kind}={self.value:g}"


KILL_POINTS: Final = (
    KillPoint("launch", 0.4),  # loading the file
    KillPoint("launch", 2.5),  # reading the account
    KillPoint("run-started", 0),  # the run and its plan recorded, chunks being marked sent
    KillPoint("writes", 1),  # the first change made, its answer maybe not recorded
    *(KillPoint("writes", round(2000 * k / 24)) for k in range(1, 24)),
)


def _runs_started(journal: Path) -> int:
    """Runs recorded in the journal, read without disturbing the writer."""
    if not journal.exists():
        return 0
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
    try:
        (runs,) = db.execute("SELECT count(*) FROM runs").fetchone()
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        db.close()
    return int(runs)


def _apply_command(path: Path, served: ServedAccount, journal: Path, n: int) -> list[str]:
    return [
        str(BATCH), "apply", str(path), "--api-url", f"{served.url}/v2", "--journal",
        str(journal), "--chunk-size", str(CHUNK_SIZE), "--report", str(path.parent / f"r{n}.xlsx"),
        "--log-format", "json",
    ]  # fmt: skip


def _launch(path: Path, served: ServedAccount, journal: Path, n: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    with (path.parent / f"run{n}.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            _apply_command(path, served, journal, n),
            cwd=path.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _run_until(
    path: Path, served: ServedAccount, journal: Path, n: int, point: KillPoint | None
) -> int | None:
    """Run the n-th apply; SIGKILL it at `point`. Returns its exit code, None when killed."""
    runs_before = _runs_started(journal)
    process = _launch(path, served, journal, n)
    launched = time.monotonic()
    deadline = launched + RUN_TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        if point is not None and (
            (point.kind == "launch" and time.monotonic() - launched >= point.value)
            or (point.kind == "writes" and served.sandbox.stats.writes >= point.value)
            or (point.kind == "run-started" and _runs_started(journal) > runs_before)
        ):
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            return None
        time.sleep(0.002 if point is not None and point.kind == "writes" else 0.01)
    if process.poll() is None:
        process.kill()
        raise AssertionError(f"run {n} did not finish in {RUN_TIMEOUT_S} s")
    return process.returncode


def _clean_run(tmp_path: Path, path: Path) -> tuple[dict[str, tuple[object, ...]], set[str]]:
    """The account after one run without kills on a fresh copy, and that run's operation ids."""
    sandbox = Sandbox.from_dict(account_data(UNITS, CRASH_LIMITS))

    async def run() -> set[str]:
        with Journal(tmp_path / "clean.sqlite") as journal:
            async with client_for(transport=sandbox.transport()) as client:
                applied = await apply_file(path, client, journal, chunk_size=CHUNK_SIZE)
        return {op.op_id for op in applied.plan.operations}

    op_ids = asyncio.run(run())
    return holdings(sandbox.to_dict()), op_ids


def _journal_ops(journal: Path) -> list[tuple[int, str, str, str]]:
    """(run_id, run status, op_id, op state) of every run, in run order."""
    db = sqlite3.connect(journal)
    try:
        rows = db.execute(
            "SELECT run_id, runs.status, op_id, state FROM ops JOIN runs USING (run_id)"
            " ORDER BY run_id"
        ).fetchall()
    finally:
        db.close()
    return [(int(r), str(s), str(o), str(st)) for r, s, o, st in rows]


def _accounting(plan: set[str], ops: Sequence[tuple[int, str, str, str]]) -> Counter[str]:
    """How each planned op was done: `applied` once, or `found-done` (sent by a killed run and
    planned by no later run); anything else (twice, never, invented) is named in the count."""
    applied_in: dict[str, list[int]] = {}
    sent_in: dict[str, list[int]] = {}
    planned_in: dict[str, list[int]] = {}
    for run_id, _, op_id, state in ops:
        planned_in.setdefault(op_id, []).append(run_id)
        if state == "applied":
            applied_in.setdefault(op_id, []).append(run_id)
        elif state in ("sent", "unknown"):
            sent_in.setdefault(op_id, []).append(run_id)
    verdicts: Counter[str] = Counter()
    for op_id in plan:
        applied = applied_in.get(op_id, [])
        if len(applied) == 1:
            verdicts["applied"] += 1
        elif len(applied) > 1:
            verdicts[f"applied in runs {applied}: {op_id}"] += 1
        elif sent_in.get(op_id) and max(sent_in[op_id]) == max(planned_in[op_id]):
            verdicts["found-done"] += 1
        else:
            verdicts[f"never done: {op_id}"] += 1
    for op_id in set(planned_in) - plan:
        verdicts[f"not in the plan: {op_id}"] += 1
    return verdicts


@pytest.mark.slow
def test_a_run_killed_27_times_ends_like_one_clean_run(tmp_path: Path) -> None:
    """SIGKILLed at 27 points of 2,000 operations and re-run, the account and journal add up."""
    started = time.monotonic()
    path = write_csv(tmp_path / "licenses.csv", license_lines(UNITS))
    account_path = tmp_path / "account.json"
    initial = account_data(UNITS, CRASH_LIMITS)
    account_path.write_text(json.dumps(initial))
    journal = tmp_path / "journal.sqlite"
    clean, plan = _clean_run(tmp_path, path)
    assert len(plan) == OPS_PER_UNIT * UNITS
    clean_s = time.monotonic() - started
    killed: list[str] = []
    with ServedAccount(account_path) as served:
        for n, point in enumerate(KILL_POINTS, start=1):
            code = _run_until(path, served, journal, n, point)
            if code is None:
                killed.append(str(point))
            else:  # it finished before the point: the file is done
                assert code == 1, (path.parent / f"run{n}.log").read_text()[-2000:]
        last = len(KILL_POINTS) + 1
        assert _run_until(path, served, journal, last, None) == 1  # 1: the no-seats lines
        changes = served.changes()
        noop_writes = served.noop_writes()
        writes = served.sandbox.stats.writes
    final = holdings(json.loads(account_path.read_text()))
    assert final == clean == holdings(initial) | expected_holdings(UNITS)
    assert len(killed) >= 25, killed
    ops = _journal_ops(journal)
    verdicts = _accounting(plan, ops)
    assert set(verdicts) <= {"applied", "found-done"}, verdicts
    assert verdicts["applied"] + verdicts["found-done"] == len(plan)
    states = Counter(state for _, _, _, state in ops)
    runs = {run_id: status for run_id, status, _, _ in ops}
    assert list(runs.values())[-1] == "finished"
    assert doubled(changes) == []
    assert writes == len(plan)  # one write per operation: none sent twice
    assert noop_writes == 0
    assert seat_overuse(initial, changes) == []
    report = pd.read_excel(tmp_path / f"r{last}.xlsx", sheet_name="Results", engine="calamine")
    outcomes = Counter(report["Outcome"])
    assert set(outcomes) <= {"applied", "unchanged", "invalid"}, outcomes
    assert outcomes["invalid"] == extra_z(UNITS)  # the no-seats lines
    assert set(report["Row"]) == set(range(2, 2 + len(license_lines(UNITS))))
    print(
        f"\ncrash suite: {len(plan)} ops, {len(killed)} kills survived ({', '.join(killed)}),"
        f" {len(runs)} runs in the journal ({dict(Counter(runs.values()))}), op states"
        f" {dict(states)}, accounting {dict(verdicts)}, writes {writes},"
        f" clean run {clean_s:.1f}s, total {time.monotonic() - started:.1f}s"
    )

"""SIGINT and SIGTERM stop an apply cleanly: real processes, a served sandbox with latency.

The first signal lets the requests in flight finish and sends nothing new; the run ends with
the report of what was done, the journal run `stopped`, no temp file and exit 130 / 143. The
same command run again finishes the job: every planned change is sent exactly once in all.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest

from batch.errors import STOPPED_HINT
from batch.sandbox import Faults
from tests.accounts import account, numbered, write_account

if TYPE_CHECKING:
    from tests.conftest import Workspace
    from tests.forked import ForkedBatch

USERS = 120  # upgrades to send: long enough at the sandbox's pace to be stopped part way


def _setup(ws: Workspace) -> Path:
    """An account of USERS Basic users with a seat each, and a file making them all Licensed."""
    users = numbered("user{:03d}@example.com", USERS, "Basic", first_name="U", dept="Sales")
    empty: dict[str, dict[str, int]] = {"large_meeting": {}, "webinar": {}, "zoom_events": {}}
    write_account(ws.account, account(users, hosts=USERS, plans=empty, account_id="stops"))
    source = ws.root / "upgrade.csv"
    source.write_text("Email,User type\n" + "".join(f"{u['email']},Licensed\n" for u in users))
    return source


def _wait_for_chunks(process: ForkedBatch, chunks: int) -> list[str]:
    """Read the JSON log until `chunks` chunk events (0: the Applying stage's start)."""
    assert process.stderr is not None
    lines = []
    seen = 0
    for line in process.stderr:
        lines.append(line)
        event = json.loads(line)
        if chunks == 0 and event.get("stage") == "Applying":
            break
        if event.get("event") == "chunk":
            seen += 1
            if seen >= chunks:
                break
    return lines


def _runs(ws: Workspace) -> list[tuple[str, int]]:
    """Each journal run's status and its ops answered `applied`."""
    with sqlite3.connect(ws.root / ".batch" / "journal.sqlite") as db:
        return [
            (status, applied)
            for status, applied in db.execute(
                "SELECT status, (SELECT count(*) FROM ops WHERE ops.run_id = runs.run_id"
                " AND state = 'applied') FROM runs ORDER BY run_id"
            )
        ]


def _summary(report: Path) -> list[tuple[Any, ...]]:
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        return [tuple(row) for row in workbook["Summary"].iter_rows(values_only=True)]
    finally:
        workbook.close()


@pytest.mark.parametrize(
    ("signum", "chunks"),
    [
        pytest.param(signal.SIGTERM, 0, id="sigterm-as-applying-starts"),
        pytest.param(signal.SIGTERM, 1, id="sigterm-after-a-chunk"),
        pytest.param(signal.SIGINT, 3, id="sigint-after-three-chunks"),
        pytest.param(signal.SIGINT, 6, id="sigint-late"),
    ],
)
def test_signal_stops_with_a_report_and_a_rerun_finishes(
    ws: Workspace, signum: signal.Signals, chunks: int
) -> None:
    """A signal mid-apply: exit 128+n with the hint, the partial report (its Summary says so),
    the journal run `stopped`, no temp file, a free lock; the re-run applies the rest, so each
    user is upgraded by exactly one request."""
    source = _setup(ws)
    with ws.serve(Faults(latency_s=0.05)) as served:
        args = ("apply", source, "--api-url", served.api_url, "--chunk-size", "10",
                "--log-format", "json")  # fmt: skip
        process = ws.start(*args)
        _wait_for_chunks(process, chunks)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == 128 + signum, stderr
        events = [json.loads(line) for line in stderr.splitlines()]  # every line is JSON
        (error,) = [e for e in events if e["level"] == "error"]
        assert [e["signal"] for e in events if e["event"] == "stopping"] == [signum.name]
        assert STOPPED_HINT in error["message"] and "(report: " in error["message"]
        reports = list((ws.root / "reports").iterdir())
        assert len(reports) == 1
        assert ("Note", STOPPED_HINT) in _summary(reports[0])
        ((status, applied_first),) = _runs(ws)
        assert status == "stopped" and applied_first < USERS
        assert not [p for p in ws.root.rglob("*") if p.name.endswith(".tmp")]
        assert all(p.read_text() == "" for p in ws.root.rglob("*.lock"))

        again = ws.run(*args)
        assert again.code == 0, again.stderr[-2000:]
        assert served.write_requests() == USERS  # each upgrade sent once, over both runs
        assert {h[0] for h in served.holdings().values()} == {"Licensed"}
    assert [s for s, _ in _runs(ws)] == ["stopped", "finished"]
    assert sum(applied for _, applied in _runs(ws)) == USERS


def test_second_signal_exits_at_once_and_a_rerun_finishes(ws: Workspace) -> None:
    """Two SIGTERMs: the process ends at once (143); the next run finishes the job."""
    source = _setup(ws)
    with ws.serve(Faults(latency_s=0.05)) as served:
        args = ("apply", source, "--api-url", served.api_url, "--chunk-size", "10",
                "--log-format", "json")  # fmt: skip
        process = ws.start(*args)
        _wait_for_chunks(process, 1)
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 143, stderr
        again = ws.run(*args)
        assert again.code == 0, again.stderr[-2000:]
        assert {h[0] for h in served.holdings().values()} == {"Licensed"}

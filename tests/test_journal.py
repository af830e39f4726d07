"""The run journal: its schema, the states of a run, and what it tells the next run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from batch.journal import Journal
from batch.vocabulary import Kind, UserType

SHA = "a" * 64
OTHER_SHA = "b" * 64


@dataclass(frozen=True)
class Op:
    """A stand-in for batch.planning.Operation with the fields the journal reads."""

    op_id: str
    email: str
    category: str
    user_type: UserType | None = None
    addons: Mapping[Kind, int | None] = field(default_factory=dict)
    requests: tuple[int, ...] = ()


OPS = (
    Op("ann@x.com|type", "ann@x.com", "type", UserType.LICENSED, requests=(0,)),
    Op("ann@x.com|addons", "ann@x.com", "addons", addons={Kind.WEBINAR: 500}, requests=(1, 2)),
    Op("bob@x.com|addons", "bob@x.com", "addons", addons={Kind.LARGE_MEETING: None}, requests=(3,)),
)


def _started(journal: Journal, sha: str = SHA) -> int:
    run_id = journal.start_run("users.csv", sha, "apply", "apply")
    journal.record_plan(run_id, OPS)
    return run_id


def test_schema_has_the_documented_tables_and_columns(tmp_path: Path) -> None:
    """A new journal file (parent folders created) holds runs and ops with their columns, in WAL."""
    path = tmp_path / "state" / "deep" / "journal.sqlite"
    with Journal(path):
        pass
    db = sqlite3.connect(path)
    columns = {
        table: tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
        for table in ("runs", "ops")
    }
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.close()
    assert columns == {
        "runs": (
            "run_id", "file_name", "sha256", "command", "mode", "started", "finished", "status",
        ),
        "ops": (
            "run_id", "op_id", "email", "category", "payload", "requests", "state", "code",
            "message", "updated",
        ),
    }  # fmt: skip
    assert mode == "wal"


def test_record_plan_stores_payload_and_requests_as_json(tmp_path: Path) -> None:
    """Each planned op is stored pending with its change and its request ids as JSON."""
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = _started(journal)
    db = sqlite3.connect(tmp_path / "j.sqlite")
    rows = db.execute(
        "SELECT op_id, category, payload, requests, state FROM ops WHERE run_id=? ORDER BY rowid",
        (run_id,),
    ).fetchall()
    db.close()
    assert rows == [
        ("ann@x.com|type", "type", '{"user_type":"Licensed","addons":{}}', "[0]", "pending"),
        ("ann@x.com|addons", "addons", '{"user_type":null,"addons":{"webinar":500}}', "[1,2]",
         "pending"),
        ("bob@x.com|addons", "addons", '{"user_type":null,"addons":{"large_meeting":null}}',
         "[3]", "pending"),
    ]  # fmt: skip


def test_states_through_a_run(tmp_path: Path) -> None:
    """Ops go pending -> sent -> applied/failed and the run ends finished with an end time."""
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = _started(journal)
        assert set(journal.op_states(run_id).values()) == {"pending"}
        journal.mark_sent(run_id, ["ann@x.com|type", "bob@x.com|addons"])
        assert journal.op_states(run_id) == {
            "ann@x.com|type": "sent",
            "ann@x.com|addons": "pending",
            "bob@x.com|addons": "sent",
        }
        journal.mark_results(
            run_id,
            {
                "ann@x.com|type": ("failed", "api-error", "Zoom refused: 3412 no seat"),
                "bob@x.com|addons": ("applied", None, None),
                "ann@x.com|addons": ("skipped", "dependency-failed", "not attempted"),
            },
        )
        journal.finish_run(run_id, "finished")
        states = journal.op_states(run_id)
        run = journal.run(run_id)
    assert states == {
        "ann@x.com|type": "failed",
        "ann@x.com|addons": "skipped",
        "bob@x.com|addons": "applied",
    }
    assert (run["status"], run["finished"] is not None) == ("finished", True)


@pytest.mark.parametrize(
    ("call", "argument"),
    [("finish_run", "done"), ("mark_results", "ok")],
    ids=["unknown-run-status", "unknown-op-state"],
)
def test_unknown_states_are_refused(tmp_path: Path, call: str, argument: str) -> None:
    """A run status or op state outside the documented ones is a programming error."""
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = _started(journal)
        with pytest.raises(ValueError, match="unknown"):
            if call == "finish_run":
                journal.finish_run(run_id, argument)  # type: ignore[arg-type]
            else:
                journal.mark_results(run_id, {"ann@x.com|type": (argument, None, None)})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("status", "found"),
    [(None, True), ("stopped", True), ("failed", True), ("finished", False)],
    ids=["killed-still-running", "stopped", "failed", "finished"],
)
def test_interrupted_finds_runs_that_did_not_finish(
    tmp_path: Path, status: str | None, found: bool
) -> None:
    """An earlier run of the same file that did not finish is found with its unanswered ops."""
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = _started(journal)
        _started(journal, OTHER_SHA)  # another file's run is never reported
        journal.mark_sent(run_id, ["ann@x.com|type", "ann@x.com|addons"])
        journal.mark_results(run_id, {"ann@x.com|type": ("applied", None, None)})
        if status is not None:
            journal.finish_run(run_id, status)  # type: ignore[arg-type]
        runs = journal.interrupted(SHA)
    expected = [(run_id, status or "running", ("ann@x.com|addons",), 1)] if found else []
    assert [(r.run_id, r.status, r.unknown, r.pending) for r in runs] == expected


def test_applied_earlier_lists_applied_and_unanswered_ops_of_the_same_file(
    tmp_path: Path,
) -> None:
    """Applied ops and ops sent without an answer count as done earlier; the latest run wins."""
    with Journal(tmp_path / "j.sqlite") as journal:
        first = _started(journal)
        journal.mark_sent(run_id=first, op_ids=[op.op_id for op in OPS])
        journal.mark_results(
            first,
            {
                "ann@x.com|type": ("applied", None, None),
                "bob@x.com|addons": ("failed", "api-error", "Zoom refused: 200 no seat"),
            },
        )  # ann@x.com|addons stays 'sent': unknown
        journal.finish_run(first, "stopped")
        second = _started(journal)
        journal.mark_sent(second, ["ann@x.com|type"])
        journal.mark_results(second, {"ann@x.com|type": ("applied", None, None)})
        journal.finish_run(second, "finished")
        other = _started(journal, OTHER_SHA)
        journal.mark_sent(other, ["bob@x.com|addons"])
        journal.mark_results(other, {"bob@x.com|addons": ("applied", None, None)})
        earlier = journal.applied_earlier(SHA)
    assert {op_id: run_id for op_id, (run_id, _) in earlier.items()} == {
        "ann@x.com|type": second,
        "ann@x.com|addons": first,
    }
    started = earlier["ann@x.com|type"][1]
    assert started.tzinfo is not None and abs(datetime.now(UTC) - started).total_seconds() < 60


_KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from dataclasses import dataclass
    from batch.journal import Journal

    @dataclass(frozen=True)
    class Op:
        op_id: str
        email: str
        category: str = "addons"
        user_type: None = None
        addons: dict = None
        requests: tuple = ()

    ops = [Op(f"u{i}@x.com|addons", f"u{i}@x.com", addons={}) for i in range(400)]
    journal = Journal(sys.argv[1])
    run_id = journal.start_run("big.csv", "c" * 64, "apply", "apply")
    journal.record_plan(run_id, ops)
    for start in range(0, 400, 100):
        chunk = [op.op_id for op in ops[start : start + 100]]
        journal.mark_sent(run_id, chunk)
        if start == 200:
            os.kill(os.getpid(), signal.SIGKILL)  # killed with the third chunk in flight
        journal.mark_results(run_id, {op_id: ("applied", None, None) for op_id in chunk})
    """
)


def test_journal_survives_a_killed_process(tmp_path: Path) -> None:
    """A process killed mid-run leaves a journal that opens and tells what was sent unanswered."""
    path = tmp_path / "journal.sqlite"
    process = subprocess.run(
        [sys.executable, "-c", _KILLED_WRITER, str(path)],
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    with Journal(path) as journal:
        (run,) = journal.interrupted("c" * 64)
        states = journal.op_states(run.run_id)
        earlier = journal.applied_earlier("c" * 64)
    assert (run.status, run.unknown, run.pending) == (
        "running",
        tuple(f"u{i}@x.com|addons" for i in range(200, 300)),
        100,
    )
    assert sum(state == "applied" for state in states.values()) == 200
    assert len(earlier) == 300  # applied or possibly applied: the report says "done earlier"

"""The run journal: a small SQLite file that remembers what each apply run sent and got back.

    runs  one line per run: file name and SHA-256, command, mode, start, end, status
    ops   one line per planned operation of a run, with its state:

          pending --mark_sent--> sent --mark_results--> applied | failed | skipped | unknown
                 \\--mark_results (never sent: a dependency failed) --> skipped

A chunk is marked `sent` in one transaction *before* its requests leave, and its answers are
recorded in one transaction *after*, so a run killed at any point leaves a journal that tells
exactly which operations may have reached Zoom (`sent` with no answer) and which were
acknowledged. The file is in WAL mode with full fsync, so a killed process never corrupts it.
A run that is still `running` in the journal was killed; the next run of the same file finds
it through `interrupted()`, and `applied_earlier()` tells the report which lines an earlier run
already did.

    >>> with Journal(tmp / "journal.sqlite") as journal:       # doctest: +SKIP
    ...     run_id = journal.start_run("users.csv", sha, "apply", "apply")
    ...     journal.record_plan(run_id, plan.operations)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal

import orjson

from batch.errors import InputError
from batch.planning import Operation
from batch.scrub import scrub
from batch.settings import DEFAULT_JOURNAL_PATH

OpState = Literal["pending", "sent", "applied", "failed", "skipped", "unknown"]
RunStatus = Literal["running", "finished", "stopped", "failed"]

OP_STATES: Final = ("pending", "sent", "applied", "failed", "skipped", "unknown")
FINAL_RUN_STATUSES: Final = ("finished", "stopped", "failed")
# States that mean the change may have reached Zoom: the report calls them "done earlier".
DONE_STATES: Final = ("applied", "sent", "unknown")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS runs (
    run_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    command   TEXT NOT NULL,
    mode      TEXT NOT NULL,
    started   TEXT NOT NULL,
    finished  TEXT,
    status    TEXT NOT NULL DEFAULT 'running'
);
CREATE INDEX IF NOT EXISTS runs_by_sha256 ON runs (sha256);
CREATE TABLE IF NOT EXISTS ops (
    run_id   INTEGER NOT NULL REFERENCES runs (run_id),
    op_id    TEXT NOT NULL,
    email    TEXT NOT NULL,
    category TEXT NOT NULL,
    payload  TEXT NOT NULL,
    requests TEXT NOT NULL,
    state    TEXT NOT NULL DEFAULT 'pending',
    code     TEXT,
    message  TEXT,
    updated  TEXT NOT NULL,
    PRIMARY KEY (run_id, op_id)
);
"""


_COLUMNS: Final = {
    "runs": {"run_id", "file_name", "sha256", "command", "mode", "started", "finished", "status"},
    "ops": {"run_id", "op_id", "email", "category", "payload", "requests", "state", "code",
            "message", "updated"},
}  # fmt: skip


@dataclass(frozen=True)
class InterruptedRun:
    """An earlier run of the same file that did not finish, and what it left unanswered."""

    run_id: int
    started: datetime
    status: str  # "running" (the process was killed), "stopped" or "failed"
    unknown: tuple[str, ...]  # op ids sent with no answer recorded: they may have reached Zoom
    pending: int  # ops never sent


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _payload(op: Operation) -> bytes:
    """The operation's change as JSON: the user type and/or the add-on sizes (None = remove)."""
    user_type = op.user_type
    addons = {str(kind): size for kind, size in op.addons.items()}
    return orjson.dumps(
        {"user_type": None if user_type is None else str(user_type), "addons": addons}
    )


class Journal:
    """The SQLite run journal; a context manager that closes the file on exit."""

    def __init__(self, path: Path = DEFAULT_JOURNAL_PATH) -> None:
        """Open (or create) the journal; InputError (exit 2) when the file is not one."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit mode; every write method opens its own explicit transaction
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            self._check_schema()  # before anything is written to a file that is not ours
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged mark survives a crash
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise InputError(
                f"journal {self.path}: not a batch journal ({error}); move it away or give "
                "another --journal (a new one is created)"
            ) from None

    def _check_schema(self) -> None:
        """DatabaseError unless the file is new (no tables) or has our tables and columns."""
        tables = {name for (name,) in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )}  # fmt: skip
        if not tables:
            return
        for table, wanted in _COLUMNS.items():
            found = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if missing := sorted(wanted - found):
                what = f"no {', '.join(missing)}" if found else "none"
                raise sqlite3.DatabaseError(f"table {table}: {what}")

    # -- context manager --------------------------------------------------------------------

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (idempotent)."""
        self._db.close()

    def _write(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement over many rows in one transaction."""
        with self._db:  # rolls back on error
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(sql, rows)

    # -- writing a run ----------------------------------------------------------------------

    def start_run(self, file_name: str, sha256: str, command: str, mode: str) -> int:
        """Record a new run as `running` and return its id."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(
                "INSERT INTO runs (file_name, sha256, command, mode, started) VALUES (?,?,?,?,?)",
                (file_name, sha256, command, str(mode), _now()),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def record_plan(self, run_id: int, operations: Iterable[Operation]) -> None:
        """Record every planned operation of a run as `pending`, in one transaction."""
        now = _now()
        self._write(
            "INSERT INTO ops (run_id, op_id, email, category, payload, requests, state, updated)"
            " VALUES (?,?,?,?,?,?,'pending',?)",
            (
                (
                    run_id,
                    op.op_id,
                    op.email,
                    op.category,
                    _payload(op).decode(),
                    orjson.dumps(list(op.requests)).decode(),
                    now,
                )
                for op in operations
            ),
        )

    def mark_sent(self, run_id: int, op_ids: Iterable[str]) -> None:
        """Mark a chunk's operations `sent`, before any of its requests leaves."""
        now = _now()
        self._write(
            "UPDATE ops SET state='sent', updated=? WHERE run_id=? AND op_id=?",
            ((now, run_id, op_id) for op_id in op_ids),
        )

    def mark_results(
        self, run_id: int, results: Mapping[str, tuple[OpState, str | None, str | None]]
    ) -> None:
        """Record a chunk's answers: {op_id: (state, code, message)}, in one transaction."""
        now = _now()
        for state, _, _ in results.values():
            if state not in OP_STATES:
                raise ValueError(f"unknown op state {state!r}")
        self._write(
            "UPDATE ops SET state=?, code=?, message=?, updated=? WHERE run_id=? AND op_id=?",
            (
                (state, code, None if message is None else scrub(message), now, run_id, op_id)
                for op_id, (state, code, message) in results.items()
            ),
        )

    def finish_run(self, run_id: int, status: RunStatus) -> None:
        """Close a run as `finished`, `stopped` or `failed`."""
        if status not in FINAL_RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "UPDATE runs SET status=?, finished=? WHERE run_id=?", (status, _now(), run_id)
            )

    # -- reading ----------------------------------------------------------------------------

    def run(self, run_id: int) -> dict[str, Any]:
        """One run's line as a dict (KeyError when there is none)."""
        cursor = self._db.execute("SELECT * FROM runs WHERE run_id=?", (run_id,))
        row = cursor.fetchone()
        if row is None:
            raise KeyError(run_id)
        return dict(zip([d[0] for d in cursor.description], row, strict=True))

    def ops(self, run_id: int) -> list[dict[str, Any]]:
        """Every operation of a run as a dict of its columns, in the order they were planned."""
        cursor = self._db.execute("SELECT * FROM ops WHERE run_id=? ORDER BY rowid", (run_id,))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def op_states(self, run_id: int) -> dict[str, OpState]:
        """Every operation of a run and its state."""
        rows = self._db.execute("SELECT op_id, state FROM ops WHERE run_id=?", (run_id,))
        return {op_id: state for op_id, state in rows}

    def interrupted(self, sha256: str) -> list[InterruptedRun]:
        """Earlier runs of this file that did not finish, oldest first, with their unknown ops.

        A run still `running` was killed (the run lock guarantees no other process is in it);
        `unknown` lists the ops it marked sent and never recorded an answer for.
        """
        runs = self._db.execute(
            "SELECT run_id, started, status FROM runs WHERE sha256=? AND status != 'finished'"
            " ORDER BY run_id",
            (sha256,),
        ).fetchall()
        found = []
        for run_id, started, status in runs:
            unknown = tuple(
                op_id
                for (op_id,) in self._db.execute(
                    "SELECT op_id FROM ops WHERE run_id=? AND state IN ('sent','unknown')"
                    " ORDER BY rowid",
                    (run_id,),
                )
            )
            (pending,) = self._db.execute(
                "SELECT count(*) FROM ops WHERE run_id=? AND state='pending'", (run_id,)
            ).fetchone()
            found.append(
                InterruptedRun(run_id, datetime.fromisoformat(started), status, unknown, pending)
            )
        return found

    def applied_earlier(
        self, sha256: str, *, before: int | None = None
    ) -> dict[str, tuple[int, datetime]]:
        """Ops of earlier runs of this file that were applied (or sent, answer unknown).

        Returns {op_id: (run_id, run start)}, the latest such run winning; `before` leaves out
        that run and later ones (pass the current run's id).
        """
        rows = self._db.execute(
            "SELECT ops.op_id, runs.run_id, runs.started FROM ops JOIN runs USING (run_id)"
            f" WHERE runs.sha256=? AND ops.state IN ({','.join('?' * len(DONE_STATES))})"
            " AND (? IS NULL OR runs.run_id < ?) ORDER BY runs.run_id",
            (sha256, *DONE_STATES, before, before),
        )
        return {op_id: (run_id, datetime.fromisoformat(started)) for op_id, run_id, started in rows}

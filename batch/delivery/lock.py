"""One run at a time: an exclusive `flock` on a lock file, with its holder written inside.

A second process that asks for the lock fails at once with LockHeld (exit 75), naming the
holder. The kernel releases a flock when its holder dies, so a lock file left behind by a
killed run never blocks: its stale content is simply overwritten by the next holder. The file
itself stays (removing it would race with a process that has just opened it).

Within one process the lock is re-entrant: the inbox loop holds it for the whole run and the
per-file apply pipeline may take it again without blocking itself.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from batch.errors import LockHeld
from batch.settings import Settings

LOCK_FILE_NAME: Final = "batch.lock"
_HELD: dict[Path, int] = {}  # lock files this process holds -> nesting depth


@dataclass(frozen=True)
class LockHolder:
    """Who holds the lock, as written into the lock file."""

    pid: int
    host: str
    command: str
    started: str  # ISO 8601 UTC

    def describe(self) -> str:
        """`pid 1234 on host x (batch inbox in/), started 2026-...`."""
        command = f" ({self.command})" if self.command else ""
        return f"pid {self.pid} on host {self.host}{command}, started {self.started}"


def default_lock_path(settings: Settings) -> Path:
    """The lock file beside the journal: `.batch/batch.lock` by default."""
    return settings.journal_path.parent / LOCK_FILE_NAME


def _command() -> str:
    """This process's command line, short (it is for people reading the lock file)."""
    argv = [os.path.basename(sys.argv[0]), *sys.argv[1:]] if sys.argv else []
    text = shlex.join(argv)
    return text if len(text) <= 200 else text[:197] + "..."


def _read_holder(fd: int) -> LockHolder | None:
    """The holder recorded in the lock file, or None when it is empty or unreadable."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return LockHolder(
            pid=int(data["pid"]),
            host=str(data["host"]),
            command=str(data.get("command", "")),
            started=str(data["started"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def run_lock(path: Path, *, command: str | None = None) -> Iterator[LockHolder]:
    """Hold the run lock at `path` for the `with` block; LockHeld at once if another has it.

    >>> with run_lock(Path(".batch/batch.lock")):     # doctest: +SKIP
    ...     run_the_job()
    """
    key = path.resolve()
    holder = LockHolder(
        pid=os.getpid(),
        host=socket.gethostname(),
        command=_command() if command is None else command,
        started=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield holder
        finally:
            _HELD[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = _read_holder(fd)
            who = other.describe() if other else "holder unknown (it is just starting)"
            raise LockHeld(f"another batch run holds the lock {path}: {who}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder.__dict__) + "\n").encode("utf-8"), 0)
        os.fsync(fd)
        _HELD[key] = 1
        try:
            yield holder
        finally:
            del _HELD[key]
            os.ftruncate(fd, 0)  # the lock is free: nothing to report about a holder
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

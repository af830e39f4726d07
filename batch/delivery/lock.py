"""One run at a time: an exclusive `flock` on a lock file, with its holder written inside.

Two locks use it:

    account_lock(settings)   one writer per account: apply, inbox, anything that changes it.
                             The sandbox file's lock is beside it (`<file>.lock`, keyed by its
                             real path); a Zoom account's or a served sandbox's is in the
                             journal's folder (`.batch/locks/<account>.lock`).
    run_lock(path)           the inbox's own lock beside the journal (`.batch/batch.lock`).

A second process that asks for a lock fails at once with LockHeld (exit 75), naming the
holder, or with `wait_s` retries until the holder lets go or the time is up. The kernel
releases a flock when its holder dies, so a lock file left behind by a
killed run never blocks: its stale content is simply overwritten by the next holder. The file
itself stays (removing it would race with a process that has just opened it).

Within one process the lock is re-entrant: the inbox loop holds it for the whole run and the
per-file apply pipeline may take it again without blocking itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from batch.errors import LockHeld
from batch.settings import Settings

LOCK_FILE_NAME: Final = "batch.lock"
LOCKS_FOLDER: Final = "locks"
_POLL_S: Final = 0.1  # how often a waiting run tries the lock again
_RECORD_WAIT_S: Final = 2.0  # how long a refused run waits for the holder's record
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


def account_lock_path(settings: Settings) -> tuple[Path, str]:
    """The lock file of the account a run writes to, and the account's name for messages.

    The sandbox file: `<real path>.lock` beside it, so every run on that file meets it
    whatever its working folder. A Zoom account (by its id) or a served sandbox (by its URL):
    `<journal folder>/locks/<name>-<hash>.lock`.
    """
    from batch.account import sandbox_path, served_sandbox

    if settings.credentials is not None:
        key = f"Zoom account {settings.credentials.account_id}"
    elif served_sandbox(settings):
        key = f"sandbox served at {settings.api_url.rstrip('/')}"
    else:
        real = sandbox_path(settings).resolve()
        return real.with_name(real.name + ".lock"), f"sandbox file {real}"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", key)[:60].strip("-")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return settings.journal_path.parent / LOCKS_FOLDER / f"{slug}-{digest}.lock", key


@contextmanager
def account_lock(settings: Settings, *, command: str | None = None) -> Iterator[LockHolder]:
    """Hold the lock of the account `settings` name for the `with` block: one writer at a time.

    Waits up to `settings.lock_wait_s` (`--wait`) for another holder, then raises LockHeld
    (exit 75) naming it. Re-entrant within a process (the inbox holds it around each apply).

    >>> with account_lock(settings, command="batch apply users.csv"):   # doctest: +SKIP
    ...     apply_the_file()
    """
    path, name = account_lock_path(settings)
    with run_lock(path, command=command, wait_s=settings.lock_wait_s, what=name) as holder:
        yield holder


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
def run_lock(
    path: Path, *, command: str | None = None, wait_s: float = 0.0, what: str | None = None
) -> Iterator[LockHolder]:
    """Hold the run lock at `path` for the `with` block; LockHeld if another has it.

    LockHeld comes at once, or after `wait_s` seconds of trying again; `what` names what the
    lock guards in its message (e.g. "sandbox file /x/account.json").

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
        if not _take(fd, wait_s):
            other = _holder_once_written(fd)
            # No record after the wait: the holder may have let go meanwhile, then it is ours.
            if other is not None or not _take(fd, 0.0):
                who = other.describe() if other else "holder unknown (it wrote no record)"
                guarded = f" of the {what}" if what else ""
                waited = f" (waited {wait_s:g} s)" if wait_s > 0 else ""
                raise LockHeld(f"another batch run holds the lock {path}{guarded}: {who}{waited}")
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


def _holder_once_written(fd: int) -> LockHolder | None:
    """The holder's record, waiting up to `_RECORD_WAIT_S` for it.

    A run takes the flock first and writes its record just after, so a run that meets the
    lock in that instant would find the file empty and could not say who holds it.
    """
    deadline = time.monotonic() + _RECORD_WAIT_S
    while (other := _read_holder(fd)) is None and time.monotonic() < deadline:
        time.sleep(_POLL_S / 5)
    return other


def _take(fd: int, wait_s: float) -> bool:
    """Take the flock on `fd`: True when taken, False when another holds it past `wait_s`."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)

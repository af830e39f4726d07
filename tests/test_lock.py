"""The run lock between real processes: the second run stops at once with exit 75."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from batch.delivery.lock import default_lock_path, run_lock
from batch.errors import LockHeld
from batch.settings import Settings
from batch.vocabulary import EXIT_LOCKED

# A process that takes the lock, says so on stdout, then either sleeps or releases at once.
TAKE_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from batch.delivery.lock import run_lock
    from batch.errors import BatchError
    try:
        with run_lock(Path(sys.argv[1]), command="batch inbox in/"):
            print("held", flush=True)
            time.sleep(float(sys.argv[2]))
    except BatchError as error:
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    """
)


def start(lock: Path, hold_s: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", TAKE_LOCK, str(lock), str(hold_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process holding the lock at tmp_path/state/batch.lock until it is killed."""
    process = start(tmp_path / "state" / "batch.lock", 60)
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate()


def test_second_process_exits_75_at_once(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    """While one process holds the lock, another gets exit 75 at once, naming the holder."""
    lock = tmp_path / "state" / "batch.lock"
    began = time.monotonic()
    second = subprocess.run(
        [sys.executable, "-c", TAKE_LOCK, str(lock), "0"], capture_output=True, text=True
    )
    elapsed = time.monotonic() - began
    assert (second.returncode, second.stdout) == (EXIT_LOCKED, "")
    expected = (
        f"Error: another batch run holds the lock {lock}: pid {holder.pid} on host "
        f"{socket.gethostname()} (batch inbox in/), started "
    )
    assert second.stderr.startswith(expected)
    assert elapsed < 10  # no waiting for the holder (60 s); the bound is interpreter start-up


def test_killed_holder_does_not_block(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    """A lock file left by a process killed with SIGKILL does not block the next run."""
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = tmp_path / "state" / "batch.lock"
    assert json.loads(lock.read_text())["pid"] == holder.pid  # the stale holder is still written
    after = start(lock, 0)
    out, err = after.communicate(timeout=30)
    assert (after.returncode, out, err) == (0, "held\n", "")


def test_holder_written_while_held_and_cleared_after(tmp_path: Path) -> None:
    """The lock file names this process while held and is emptied when released."""
    lock = tmp_path / "batch.lock"
    lock.write_text('{"pid": 999999, "host": "gone", "started": "2020-01-01T00:00:00Z"}')
    with run_lock(lock, command="batch apply x.csv"):
        written = json.loads(lock.read_text())
        assert (written["pid"], written["host"], written["command"]) == (
            os.getpid(),
            socket.gethostname(),
            "batch apply x.csv",
        )
    assert lock.read_text() == ""


def test_lock_is_reentrant_in_one_process(tmp_path: Path) -> None:
    """The inbox loop and the pipeline it calls may both take the lock in one process."""
    lock = tmp_path / "batch.lock"
    with run_lock(lock), run_lock(lock):
        pass
    with run_lock(lock):  # and it is free again afterwards
        pass


def test_held_lock_refuses_in_process_other_holder(tmp_path: Path) -> None:
    """A different open of a held lock file (another run) gets LockHeld with exit 75."""
    lock = tmp_path / "batch.lock"
    process = start(lock, 60)
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        with pytest.raises(LockHeld) as caught, run_lock(lock):
            pass
        assert caught.value.exit_code == EXIT_LOCKED
        assert f"pid {process.pid}" in str(caught.value)
    finally:
        process.kill()
        process.communicate()


# A process that takes the flock of argv[1] as a run would, says so, then runs its `then` code.
FLOCK_HOLDER = textwrap.dedent(
    """
    import fcntl, json, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("locked", flush=True)
    """
)


@contextmanager
def flock_holder(lock: Path, then: str) -> Iterator[subprocess.Popen[str]]:
    """A process holding the flock on `lock` (and running `then`) for the `with` block."""
    code = FLOCK_HOLDER + textwrap.dedent(then)
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "locked\n"
        yield process
    finally:
        process.kill()
        process.communicate()


def test_refused_run_names_a_holder_that_writes_its_record_late(tmp_path: Path) -> None:
    """A run refused in the instant between the holder's flock and its record still names the
    holder: it waits briefly for the record instead of saying "holder unknown"."""
    lock = tmp_path / "batch.lock"
    late_record = """
        time.sleep(0.5)
        record = {"pid": os.getpid(), "host": "h", "command": "batch inbox in/",
                  "started": "2026-12-01T00:00:00Z"}
        os.pwrite(fd, json.dumps(record).encode(), 0)
        time.sleep(60)
        """
    with flock_holder(lock, late_record) as process:
        with pytest.raises(LockHeld) as caught, run_lock(lock):
            pass
        assert f"pid {process.pid} on host h (batch inbox in/)" in str(caught.value)


def test_lock_freed_while_refusing_is_taken(tmp_path: Path) -> None:
    """A holder that lets go without ever writing its record does not refuse the next run."""
    lock = tmp_path / "batch.lock"
    with flock_holder(lock, "time.sleep(0.5)\n"), run_lock(lock, command="batch apply x.csv"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()


def test_default_lock_sits_beside_the_journal(tmp_path: Path) -> None:
    """The lock file is batch.lock in the journal's folder."""
    settings = Settings(journal_path=tmp_path / "state" / "journal.sqlite")
    assert default_lock_path(settings) == tmp_path / "state" / "batch.lock"

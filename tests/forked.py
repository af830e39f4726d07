"""`batch ARGS` as a real process forked from the test process, without a fresh interpreter.

A `batch` process started from its console script spends about 2 s importing pandas, pyarrow,
pandera and openpyxl before it reads a byte. A child forked from the test worker, which has
imported them already, starts in milliseconds and is still a process of its own: its own pid,
stdin/stdout/stderr on pipes (no terminal), working directory, environment, signal handlers,
exit status, memory limit and crash. `main()` runs in it exactly as the console script calls it.

`ForkedBatch` answers the part of `subprocess.Popen` the tests use (pid, stdout, stderr, poll,
wait, communicate, send_signal, kill, returncode), so a test can signal or kill it part way.
Tests that are about the installed command itself still start the console script.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Final

from batch import scrub
from batch.cli.main import cli, main
from batch.delivery import lock

_POLL_S: Final = 0.005
_warm = False


def _import_every_command() -> None:
    """Import what any command imports, once, so that no child pays for it again."""
    global _warm
    if _warm:
        return
    import click

    import batch.pipeline
    import batch.report
    import batch.sandbox  # noqa: F401  (imported lazily by a run on a sandbox file)

    with click.Context(cli) as context:
        for name in cli.list_commands(context):
            cli.get_command(context, name)
    _warm = True


def call_main(args: Sequence[str | Path]) -> int:
    """`main()` with `sys.argv` = `batch ARGS`, ended as the console script's process ends: the
    SystemExit's code, or 1 with the traceback on stderr for an exception that escaped."""
    sys.argv = ["batch", *map(str, args)]
    try:
        main()
    except SystemExit as stop:
        if isinstance(stop.code, int | None):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def _address_space() -> int:
    """Bytes of address space this process maps now (VmSize)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _close_inherited_locks() -> None:
    """Close the descriptors of `.lock` files this child inherited.

    A flock belongs to the open file, which fork shares: a child keeping the test process's
    lock descriptor would hold that lock on after the test process let go of it.
    """
    for entry in os.scandir("/proc/self/fd"):
        try:
            if os.readlink(entry.path).endswith(".lock"):
                os.close(int(entry.name))
        except OSError:
            continue


def _run_child(
    args: Sequence[str], cwd: Path, env: Mapping[str, str], fds: tuple[int, int, int, int],
    memory_cap: int | None,
) -> None:  # fmt: skip
    """In the child: stdio on the pipes, the run's cwd/env/limits, `main()`, then exit."""
    code = 70
    try:
        _, out_write, _, err_write = fds
        stdin = os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        os.dup2(out_write, 1)
        os.dup2(err_write, 2)
        for fd in (stdin, *fds):
            os.close(fd)
        sys.stdin = sys.__stdin__ = open(0, closefd=False)  # noqa: SIM115
        # as a fresh interpreter on pipes: stdout block-buffered, stderr line-buffered
        sys.stdout = sys.__stdout__ = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = sys.__stderr__ = open(  # noqa: SIM115
            2, "w", buffering=1, closefd=False, errors="backslashreplace"
        )
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        # what a fresh interpreter would have: default signals, no secrets, no locks held
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        scrub._lock = threading.Lock()
        scrub._lasting.clear()
        scrub._recent.clear()
        scrub._stale = True
        lock._HELD.clear()
        _close_inherited_locks()
        if memory_cap is not None:
            limit = _address_space() + memory_cap
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            code = call_main(args)
        except BaseException:  # KeyboardInterrupt and the like: a process dies with it
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # the child's own set-up failed: say why on whatever stderr is
        os.write(2, traceback.format_exc().encode())
    finally:
        os._exit(code)


class ForkedBatch:
    """A running `batch ARGS` forked from this process; see the module docstring."""

    def __init__(
        self, args: Sequence[str | Path], *, cwd: Path, env: Mapping[str, str],
        memory_cap: int | None = None,
    ) -> None:  # fmt: skip
        _import_every_command()
        self.args = [str(a) for a in args]
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_child(self.args, cwd, env, (out_read, out_write, err_read, err_write), memory_cap)
        os.close(out_write)
        os.close(err_write)
        self.pid = pid
        self.returncode: int | None = None
        self.stdout: IO[str] = open(out_read, encoding="utf-8", errors="replace")  # noqa: SIM115
        self.stderr: IO[str] = open(err_read, encoding="utf-8", errors="replace")  # noqa: SIM115

    def poll(self) -> int | None:
        """The exit code once the child ended (minus the signal number if a signal ended it)."""
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end; `subprocess.TimeoutExpired` after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(_POLL_S)
        return code

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Read stdout and stderr to their end and wait; on a timeout the child is killed."""
        texts = {"out": "", "err": ""}

        def drain(key: str, stream: IO[str]) -> None:
            texts[key] = stream.read()

        readers = [
            threading.Thread(target=drain, args=("out", self.stdout), daemon=True),
            threading.Thread(target=drain, args=("err", self.stderr), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.wait()
            raise
        finally:
            for reader in readers:
                reader.join(timeout=10)
            self.stdout.close()
            self.stderr.close()
        return texts["out"], texts["err"]

    def send_signal(self, signum: int) -> None:
        """Send `signum` to the child unless it has ended."""
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)


def run_forked(
    args: Sequence[str | Path], *, cwd: Path, env: Mapping[str, str], timeout: float,
    memory_cap: int | None = None,
) -> tuple[int, str, str]:  # fmt: skip
    """`batch ARGS` forked, to its end: exit code, stdout, stderr."""
    child = ForkedBatch(args, cwd=cwd, env=env, memory_cap=memory_cap)
    stdout, stderr = child.communicate(timeout=timeout)
    assert child.returncode is not None
    return child.returncode, stdout, stderr

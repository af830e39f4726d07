"""What stops or reroutes a run. Row problems are data (result lines), never exceptions.

    BatchError                 exit_code; str(e) is the one line the user sees after "Error: "
    ├── InputError        (2)  the file, options or config cannot be used
    │   ├── FileRefused        the input file as a whole (not a spreadsheet, empty, no email, ...)
    │   └── ConfigError        a config key is unknown or has the wrong type
    ├── AccountError      (3)  the account cannot be reached or refuses the credentials
    ├── SafetyLimit       (4)  a safety limit stopped the run before any change
    │   └── NotConfirmed       the person at the terminal answered no to "Apply N changes?"
    ├── InternalError    (70)  a failure of ours or of the machine (e.g. the disk is full)
    ├── LockHeld         (75)  another run holds the lock
    ├── Signalled   (130/143)  the signal that stopped a run: a RunStopped's cause
    └── ApplyStopped  (cause's) applying stopped partway: the results so far, then the report
        └── RunStopped (130/143) SIGINT or SIGTERM stopped the run; re-running finishes it

    ApplyCancelled             asyncio.CancelledError of an apply task, with the results so far

The applier raises ApplyStopped (or RunStopped, or ApplyCancelled) carrying the results so far;
the pipeline writes their report and raises `stopped.with_report(path)`, whose one line names it.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from batch.vocabulary import EXIT_ACCOUNT, EXIT_INPUT, EXIT_INTERNAL, EXIT_LOCKED, EXIT_SAFETY

if TYPE_CHECKING:
    import pandas as pd

STOPPED_HINT = "stopped: run the same command again to finish"


def _naming(reason: str, report_path: Path | None) -> str:
    """The one error line, naming the report when one was written."""
    return reason if report_path is None else f"{reason} (report: {report_path})"


class BatchError(Exception):
    """Base of everything that ends a run early; carries the process exit code."""

    exit_code: int = 1


class InputError(BatchError):
    """The file, options or config cannot be used (exit 2)."""

    exit_code = EXIT_INPUT


class FileRefused(InputError):
    """An input file refused as a whole; nothing was sent."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class ConfigError(InputError):
    """A config file or option that cannot be used, naming the key."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"config {key}: {reason}")
        self.key = key
        self.reason = reason


class AccountError(BatchError):
    """The Zoom account cannot be reached or refuses the credentials (exit 3)."""

    exit_code = EXIT_ACCOUNT


class SafetyLimit(BatchError):
    """A safety limit (e.g. --max-removals) stopped the run before any change (exit 4).

    `report_path`: the report listing what the run would have done, when one was written.
    """

    exit_code = EXIT_SAFETY

    def __init__(self, reason: str, report_path: Path | None = None) -> None:
        super().__init__(_naming(reason, report_path))
        self.reason = reason
        self.report_path = report_path

    def with_report(self, report_path: Path | None) -> SafetyLimit:
        """The same limit, its message naming the report written of the run."""
        return type(self)(self.reason, report_path)


class NotConfirmed(SafetyLimit):
    """The person at the terminal did not confirm the changes: nothing was applied (exit 4)."""


class LockHeld(BatchError):
    """Another run holds the lock (exit 75)."""

    exit_code = EXIT_LOCKED


class InternalError(BatchError):
    """A failure that is neither the input's nor the account's: a bug, a full disk (exit 70)."""

    exit_code = EXIT_INTERNAL


class ApplyStopped(BatchError):
    """Applying stopped partway: why (`cause`), the results so far and, once written, the report.

    The exit code is the cause's (3 for the account, 70 for a failure of ours). The results are
    the plan's lines, those answered `applied`/`failed`/`skipped`, the rest still `planned`.
    """

    def __init__(
        self, cause: BaseException, results: pd.DataFrame, report_path: Path | None = None
    ) -> None:
        if isinstance(cause, BatchError):
            reason, exit_code = str(cause), cause.exit_code
        else:
            reason = f"internal failure while applying: {type(cause).__name__}: {cause}"
            exit_code = EXIT_INTERNAL
        super().__init__(_naming(reason, report_path))
        self.exit_code = exit_code
        self.cause = cause
        self.results = results
        self.report_path = report_path

    def with_report(self, report_path: Path | None) -> ApplyStopped:
        """The same stop, its message naming the report written of its results."""
        return ApplyStopped(self.cause, self.results, report_path)


class Signalled(BatchError):
    """The signal that stopped a run: the cause of a RunStopped (exit 128 + signal)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"{signal.Signals(signum).name}: {STOPPED_HINT}")
        self.signum = signum
        self.exit_code = 128 + signum


class RunStopped(ApplyStopped):
    """SIGINT or SIGTERM stopped the run after the requests in flight (exit 128 + signal)."""

    def __init__(self, signum: int, results: pd.DataFrame, report_path: Path | None = None) -> None:
        super().__init__(Signalled(signum), results, report_path)
        self.signum = signum

    def with_report(self, report_path: Path | None) -> RunStopped:
        """The same stop, its message naming the report written of its results."""
        return RunStopped(self.signum, self.results, report_path)


class ApplyCancelled(asyncio.CancelledError):
    """The apply task was cancelled (the web app's Cancel): the results so far, lines not done
    `planned`. A CancelledError, so asyncio's cancellation goes on as before."""

    def __init__(self, results: pd.DataFrame) -> None:
        super().__init__("cancelled")
        self.results = results

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
    └── RunStopped  (130/143)  SIGINT or SIGTERM stopped the run; re-running finishes it
"""

from __future__ import annotations

import signal

from batch.vocabulary import EXIT_ACCOUNT, EXIT_INPUT, EXIT_INTERNAL, EXIT_LOCKED, EXIT_SAFETY

STOPPED_HINT = "stopped: run the same command again to finish"


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
    """A safety limit (e.g. --max-removals) stopped the run before any change (exit 4)."""

    exit_code = EXIT_SAFETY


class NotConfirmed(SafetyLimit):
    """The person at the terminal did not confirm the changes: nothing was applied (exit 4)."""


class LockHeld(BatchError):
    """Another run holds the lock (exit 75)."""

    exit_code = EXIT_LOCKED


class InternalError(BatchError):
    """A failure that is neither the input's nor the account's: a bug, a full disk (exit 70)."""

    exit_code = EXIT_INTERNAL


class RunStopped(BatchError):
    """SIGINT or SIGTERM stopped the run after the requests in flight (exit 128 + signal)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"{signal.Signals(signum).name}: {STOPPED_HINT}")
        self.signum = signum
        self.exit_code = 128 + signum

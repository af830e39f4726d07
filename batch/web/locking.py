"""The account lock a web apply holds: the same lock the CLI's inbox and apply runs use.

The one place the web app names the lock, so that switching to a per-account lock is one edit.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from batch.delivery.lock import default_lock_path, run_lock
from batch.settings import Settings


def account_lock(settings: Settings) -> AbstractContextManager[Any]:
    """Hold the run lock of the settings' account; LockHeld at once when another run has it."""
    return run_lock(default_lock_path(settings), command="batch web (apply)")

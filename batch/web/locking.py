"""The account lock a web apply holds: the same per-account lock the CLI's apply and inbox take.

The one place the web app names the lock.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from batch.delivery.lock import account_lock as _account_lock
from batch.settings import Settings


def account_lock(settings: Settings) -> AbstractContextManager[Any]:
    """Hold the lock of the settings' account; LockHeld at once when another run has it."""
    return _account_lock(settings, command="batch web (apply)")

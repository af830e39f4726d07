"""Stopping a run cleanly on SIGINT or SIGTERM: finish what is in flight, send nothing new.

    stop = StopRequest()
    with stop_on_signals(stop):            # the first signal sets the request,
        apply_operations(..., stop=stop)   # a second one ends the process at once

The applier looks at the request before each chunk and each request; what is already waiting
for its answer is let finish (or time out). Code that is not the main thread (a web app's
worker) passes its own StopRequest and calls `request()` itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any, Final

STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


@dataclass
class StopRequest:
    """Whether (and by which signal) the run was asked to stop."""

    signum: int | None = None

    def request(self, signum: int = signal.SIGTERM) -> None:
        """Ask the run to stop after what is in flight."""
        if self.signum is None:
            self.signum = signum

    @property
    def requested(self) -> bool:
        return self.signum is not None


@contextmanager
def stop_on_signals(
    stop: StopRequest, on_stop: Callable[[str], None] | None = None
) -> Iterator[StopRequest]:
    """SIGINT/SIGTERM set `stop` for the `with` block; a second signal exits at once (128+n).

    `on_stop(signal name)` is called after the first (to say so in the run's log): from the
    event loop when one runs the block, never from inside the handler. A handler runs between
    any two bytecodes, also in the middle of a write to stderr (blocked on a full pipe), where a
    second write to the same stream raises "reentrant call". Outside the main thread (where
    Python cannot take signals) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.requested:
            os.write(2, b"Error: stopped at once by a second signal; the journal has the run\n")
            os._exit(128 + signum)
        stop.request(signum)
        if on_stop is None:
            return
        if loop is not None:  # call_soon_threadsafe only writes a byte to the loop's self-pipe
            loop.call_soon_threadsafe(on_stop, signal.Signals(signum).name)
        else:
            on_stop(signal.Signals(signum).name)

    previous: dict[int, Any] = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

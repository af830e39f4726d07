"""The stop signal handler: what it may do while it interrupts the main thread anywhere."""

from __future__ import annotations

import asyncio
import os
import signal

from batch.applying.stopping import StopRequest, stop_on_signals


def test_stop_message_is_written_by_the_event_loop_not_inside_the_handler() -> None:
    """A signal that lands while the run writes to stderr must not write to it again there
    ("RuntimeError: reentrant call" ended such a run with exit 70): the handler only records
    the request, and the run's log line comes from the event loop afterwards."""
    said: list[tuple[str, bool]] = []
    writing = False

    def on_stop(name: str) -> None:
        said.append((name, writing))

    async def run() -> StopRequest:
        nonlocal writing
        with stop_on_signals(StopRequest(), on_stop) as stop:
            writing = True  # as if in the middle of a write to stderr
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next line
            handled_at_once = stop.requested
            writing = False
            await asyncio.sleep(0)  # the loop runs what the handler scheduled
            await asyncio.sleep(0)
            assert handled_at_once
            return stop

    stop = asyncio.run(run())
    assert stop.signum == signal.SIGTERM
    assert said == [("SIGTERM", False)]

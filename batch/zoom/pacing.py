"""Pacing: one pacer per Zoom rate-limit category, spacing the START of requests evenly.

Zoom limits requests per account and category (Light, Medium, Heavy) per second; the numbers
are in batch.zoom.limits. A pacer hands out start slots at
`interval = 1 / (share * limit)` seconds apart; requests themselves run concurrently, so the
ceiling is used even when each request takes longer than the interval.

Beyond that pace, a pacer spends the budget the server itself reports: an answer's
`X-RateLimit-Remaining` (per-second type) says how many more requests the category may start
now. Less the other requests still in flight (the server may not have counted them yet: it
need not take them in the order they were sent) and a reserve of 10% of the limit (5 requests
at least), those start at once instead of waiting for a slot. A read of 133 requests at 60/s
then takes about 1.3 s instead of 2.3 s, and a long run goes at the limit, not 95% of it.

The reserve is a cushion the pacer keeps: an answer reporting less than it left holds the next
start until the server has refilled it, so requests reaching the server bunched, or answers
overtaken by later ones (reporting a budget already spent), find tokens still there. Without
that brake a Pro apply met four 429s a run. Zoom does not document how its per-second budget
refills; a per-second 429 (`hold`) means it is not the way the sandbox's does (a bucket
refilled continuously), and the pacer goes back to its pace alone for the rest of the run.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Final

from batch.zoom.limits import Category as Category  # re-exported: pacers are per category
from batch.zoom.limits import plan_limits as plan_limits

DEFAULT_SHARE: Final = 0.95  # pace at 95% of the limit: 429s stay rare, the ceiling is used
# Of the reported budget, this share of the limit (5 requests at least) is left unspent: the
# catch-up slots (up to 5% of the limit) may start in the same instant as the budget, and
# requests sent together may reach the server bunched. At 5%, a run at Pro's 30/s met 429s.
RESERVE_SHARE: Final = 0.10
MIN_RESERVE: Final = 5.0


class Pacer:
    """Hands out start slots for one category's requests: evenly spaced at the pace, and at
    once while the server's reported budget lasts.

    >>> pacer = Pacer(limit=60)
    >>> round(pacer.interval, 4)
    0.0175
    """

    def __init__(
        self,
        limit: float,
        *,
        share: float = DEFAULT_SHARE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.share = share
        self._clock = clock
        self._next = 0.0
        self._issued = 0  # starts given so far
        self._finished = 0  # of those, the requests answered or given up: no longer in flight
        self._credit = 0  # starts the server's reported budget allows now, beyond the pace
        self._budgeted = True  # False after a 429: the reported budget is not trusted again
        self._queue: deque[asyncio.Future[None]] = deque()  # requests waiting, first come first
        self._timer: asyncio.TimerHandle | None = None

    @property
    def interval(self) -> float:
        """Seconds between two request starts."""
        return 1.0 / (self.limit * self.share)

    @property
    def catch_up(self) -> float:
        """How far (seconds) the pacer may fall behind to recover missed slots."""
        return max(1.0 - self.share, 0.0)

    @property
    def in_flight(self) -> int:
        """Requests started and not yet `finished`."""
        return self._issued - self._finished

    def due(self) -> float:
        """Seconds until the next start may be given: 0 while the reported budget lasts or
        the paced slot has come."""
        if self._credit > 0:
            return 0.0
        now = self._clock()
        return max(max(now - self.catch_up, self._next) - now, 0.0)

    def reserve(self) -> float:
        """Claim the next start slot; returns how long to wait for it (0 when it is now).

        A slot missed by a late caller (a stalled event loop, a slow answer in a chain of
        pages) may still be used for up to `(1 - share)` of a second: over any second the
        starts stay within the limit, and a stall does not cost the run its pace for good.
        While the server's reported budget lasts, a start is given now without taking a slot.
        """
        now = self._clock()
        self._issued += 1
        slot = max(now - self.catch_up, self._next)
        if slot > now and self._credit > 0:
            self._credit -= 1  # the server said the category may start it now
            return 0.0
        self._next = slot + self.interval
        return max(slot - now, 0.0)

    async def wait(self) -> None:
        """Wait for this request's start; call `finished` once it has its answer (or none).

        Requests wait in line and are let go one by one when `due` says so: a budget reported
        meanwhile lets the waiting ones go at once, not only those that come later."""
        if not self._queue and self.due() == 0:
            self.reserve()
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        self._release()
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.finished()  # let go, then cancelled before it could start
            raise

    def finished(self) -> None:
        """A request let go by `wait` is over (answered, failed or cancelled)."""
        self._finished += 1

    def _release(self) -> None:
        """Let go the waiting requests that may start now; wake up again for the next one."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._queue:
            if self._queue[0].done():  # its request was cancelled while waiting
                self._queue.popleft()
                continue
            delay = self.due()
            if delay > 0:
                self._timer = asyncio.get_running_loop().call_later(delay, self._release)
                return
            self.reserve()
            self._queue.popleft().set_result(None)

    def remaining(self, reported: float) -> None:
        """An answer (to a request still in flight: call before its `finished`) says
        `reported` requests of the category may still start this second: those not yet
        spoken for start without waiting for their slot.

        Spoken for are the other requests in flight (the server may not have counted them
        when it answered: it takes concurrent requests in any order) and a reserve of
        RESERVE_SHARE of the limit (other apps of the account, a clock that ticks apart).
        The newest answer replaces the credit left by an older one; a budget above one
        second's worth is not believed.

        A reported budget below the reserve is a brake: the next start waits until the
        server has refilled it, so the server keeps a few tokens for requests that reach it
        together.
        """
        if not math.isfinite(reported):
            return
        others = self._issued - self._finished - 1
        reserve = max(RESERVE_SHARE * self.limit, MIN_RESERVE)
        if reported < reserve:  # (the server's own figure: the requests in flight are not
            # subtracted here, or answers slower than a second would hold the pace down)
            self._next = max(self._next, self._clock() + (reserve - reported) / self.limit)
        spare = min(reported, self.limit) - others  # the server's budget not yet spoken for
        if not self._budgeted:
            return
        self._credit = max(int(spare - reserve), 0)
        if self._credit and self._queue:
            self._release()

    def adopt(self, limit: float) -> bool:
        """Follow the limit the server reports (X-RateLimit-Limit); True when it changed."""
        if not math.isfinite(limit) or limit <= 0 or limit == self.limit:
            return False
        self.limit = limit
        return True

    def hold(self, seconds: float) -> None:
        """Give no start slot for `seconds` from now (the server asked every request to wait).

        The server refused a request the pacer let go: its reported budget is not spent
        beyond the pace again in this run."""
        self._next = max(self._next, self._clock() + seconds)
        self._credit = 0
        self._budgeted = False
        if self._queue:
            self._release()

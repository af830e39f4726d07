"""Pacing: one pacer per Zoom rate-limit category, spacing the START of requests evenly.

Zoom limits requests per account and category (Light, Medium, Heavy) per second; the numbers
are in batch.zoom.limits. A pacer hands out start slots at
`interval = 1 / (share * limit)` seconds apart; requests themselves run concurrently, so the
ceiling is used even when each request takes longer than the interval.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final

from batch.zoom.limits import Category as Category  # re-exported: pacers are per category
from batch.zoom.limits import plan_limits as plan_limits

DEFAULT_SHARE: Final = 0.95  # pace at 95% of the limit: 429s stay rare, the ceiling is used


class Pacer:
    """Hands out evenly spaced start times for one category's requests.

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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self.share = share
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    @property
    def interval(self) -> float:
        """Seconds between two request starts."""
        return 1.0 / (self.limit * self.share)

    def reserve(self) -> float:
        """Claim the next start slot; returns how long to wait for it (0 when it is now).

        A slot missed by a late caller (a stalled event loop, a slow answer in a chain of
        pages) may still be used for up to `(1 - share)` of a second: over any second the
        starts stay within the limit, and a stall does not cost the run its pace for good.
        """
        now = self._clock()
        slot = max(now - self.catch_up, self._next)
        self._next = slot + self.interval
        return max(slot - now, 0.0)

    @property
    def catch_up(self) -> float:
        """How far (seconds) the pacer may fall behind to recover missed slots."""
        return max(1.0 - self.share, 0.0)

    async def wait(self) -> None:
        """Wait for this request's start slot."""
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)

    def adopt(self, limit: float) -> bool:
        """Follow the limit the server reports (X-RateLimit-Limit); True when it changed."""
        if limit <= 0 or limit == self.limit:
            return False
        self.limit = limit
        return True

    def hold(self, seconds: float) -> None:
        """Give no start slot for `seconds` from now (the server asked every request to wait)."""
        self._next = max(self._next, self._clock() + seconds)

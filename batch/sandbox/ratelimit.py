"""Zoom's per-account rate limits: per-second token buckets and daily counters per category.

The numbers per plan come from batch.zoom.limits, which the client paces by too; the account
JSON's optional `limits` block overrides them, e.g.
{"light": 80, "medium": 60, "heavy": 40, "daily": {"medium": 500}}. A bucket holds at most one
second's worth (N tokens) and refills at N per second. Daily counters reset at 00:00 UTC. Times
come from the sandbox's injectable clock, so tests are exact.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from batch.zoom.limits import CATEGORIES, DAILY, PER_SECOND, Category, plan_tier


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: allowed or not, and the headers to send either way."""

    allowed: bool
    headers: dict[str, str]
    daily: bool = False  # refused by a daily limit (else by the per-second bucket)


@dataclass
class _Bucket:
    rate: int
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """Per-category buckets and daily counters of one account; thread-safe."""

    per_second: dict[Category, int]
    daily: dict[Category, int]
    clock: Callable[[], float]
    to_utc: Callable[[float], datetime]
    _buckets: dict[Category, _Bucket] = field(default_factory=dict)
    _days: dict[Category, tuple[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_account(
        cls,
        plan: str,
        overrides: Mapping[str, Any] | None,
        clock: Callable[[], float],
        to_utc: Callable[[float], datetime],
    ) -> RateLimiter:
        """Limits of the plan, with the account JSON's `limits` block applied over them."""
        tier = plan_tier(plan)
        per_second = dict(PER_SECOND[tier])
        daily = dict(DAILY[tier])
        overrides = overrides or {}
        for category in CATEGORIES:
            if category.lower() in overrides:
                per_second[category] = int(overrides[category.lower()])
            if category.lower() in overrides.get("daily", {}):
                daily[category] = int(overrides["daily"][category.lower()])
        return cls(per_second, daily, clock, to_utc)

    def _refill(self, category: Category, now: float) -> _Bucket:
        rate = self.per_second[category]
        bucket = self._buckets.get(category)
        if bucket is None:
            bucket = self._buckets[category] = _Bucket(rate, float(rate), now)
        elapsed = max(now - bucket.stamp, 0.0)
        bucket.tokens = min(float(rate), bucket.tokens + elapsed * rate)
        bucket.stamp = now
        return bucket

    def _day_count(self, category: Category, day: str) -> int:
        stored_day, count = self._days.get(category, (day, 0))
        return count if stored_day == day else 0

    def check(self, category: Category, *, consume: bool = True) -> Verdict:
        """Take one request from the category's budget (or only look, with consume=False)."""
        with self._lock:
            now = self.clock()
            utc = self.to_utc(now)
            day = utc.date().isoformat()
            bucket = self._refill(category, now)
            daily_limit = self.daily.get(category)
            used_today = self._day_count(category, day)
            if consume and daily_limit is not None and used_today >= daily_limit:
                midnight = datetime.combine(utc.date() + timedelta(days=1), datetime.min.time())
                return Verdict(
                    False,
                    {
                        "X-RateLimit-Category": str(category),
                        "X-RateLimit-Type": "Daily-limit",
                        "X-RateLimit-Limit": str(daily_limit),
                        "X-RateLimit-Remaining": "0",
                        "Retry-After": midnight.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    },
                    daily=True,
                )
            allowed = bucket.tokens >= 1.0
            if consume and allowed:
                bucket.tokens -= 1.0
                self._days[category] = (day, used_today + 1)
            headers = {
                "X-RateLimit-Category": str(category),
                "X-RateLimit-Type": "QPS",
                "X-RateLimit-Limit": str(bucket.rate),
                "X-RateLimit-Remaining": str(max(math.floor(bucket.tokens), 0)),
            }
            return Verdict(allowed or not consume, headers)

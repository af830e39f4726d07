"""Seeded fault injection: server errors, dropped connections, latency, short-lived tokens,
429 storms and answers slower than the client waits.

Not Zoom behaviour: it lets tests and rehearsals see what a real network does to a run. One
`random.Random(seed)` decides for every /v2 request in arrival order, always drawing the same
number of values per request (four, and two more when `throttle_rate` or `slow_rate` is set),
so the same seed and the same request sequence replay the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Final, Literal

FaultKind = Literal["none", "error", "drop_before", "drop_after", "throttle", "slow"]

ERROR_STATUSES: Final = (500, 502, 503)
ERROR_MESSAGES: Final = {
    500: "Internal Server Error.",
    502: "Bad Gateway.",
    503: "Service Temporarily Unavailable.",
}


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often; the default is a perfect network.

    error_rate: share of requests answered 500/502/503 without applying anything.
    latency_s: seconds added to every answer.
    drop_rate: share of requests whose connection is dropped without an answer, half of them
        before the change is applied and half after (the client cannot tell which).
    token_ttl_s: real token lifetime (the token still says `expires_in: 3600`), to force expiry
        mid-run.
    seed: seeds the decisions so a failing run can be replayed.
    throttle_rate: share of requests answered 429 (per-second limit) without applying anything,
        on top of the account's real limits: a storm of other clients on the same account.
    slow_rate: share of requests whose change is made but whose answer comes `slow_s` seconds
        later (past a client's timeout, the client cannot tell whether it happened).
    slow_s: the delay of a slow answer.
    """

    error_rate: float = 0.0
    latency_s: float = 0.0
    drop_rate: float = 0.0
    token_ttl_s: float | None = None
    seed: int = 0
    throttle_rate: float = 0.0
    slow_rate: float = 0.0
    slow_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate", "throttle_rate", "slow_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.latency_s < 0:
            raise ValueError(f"latency_s must not be negative, not {self.latency_s}")
        if self.slow_s < 0:
            raise ValueError(f"slow_s must not be negative, not {self.slow_s}")
        if self.token_ttl_s is not None and self.token_ttl_s <= 0:
            raise ValueError(f"token_ttl_s must be positive, not {self.token_ttl_s}")


@dataclass(frozen=True)
class Decision:
    """The fault chosen for one request (and, for an error, its status)."""

    kind: FaultKind
    status: int = 0


class FaultPlan:
    """Draws one Decision per request from the seeded generator, thread-safely."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """True when any request may fail."""
        faults = self.faults
        rates = (faults.error_rate, faults.drop_rate, faults.throttle_rate, faults.slow_rate)
        return any(rate > 0 for rate in rates)

    def decide(self) -> Decision:
        """The next request's fault; a fixed number of draws keeps the sequence replayable."""
        faults = self.faults
        extra = faults.throttle_rate > 0 or faults.slow_rate > 0
        with self._lock:
            error, drop, half, which = (self._random.random() for _ in range(4))
            throttle, slow = (self._random.random() for _ in range(2)) if extra else (1.0, 1.0)
        if error < faults.error_rate:
            return Decision("error", ERROR_STATUSES[int(which * len(ERROR_STATUSES))])
        if throttle < faults.throttle_rate:
            return Decision("throttle")
        if drop < faults.drop_rate:
            return Decision("drop_before" if half < 0.5 else "drop_after")
        if slow < faults.slow_rate:
            return Decision("slow")
        return Decision("none")

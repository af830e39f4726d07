"""What to do after one answer: done, a fresh token, retry after N seconds, or give up.

`errors.classify` says what an answer means; `RetryPolicy.step` turns that into the next step
of a request, given how often it was already resent. Both the API requests (`ZoomClient._send`)
and the token requests (`auth.TokenCache`) follow it, so they back off alike:

- a rate limit (429): wait the server's Retry-After, or about `rate_limit_backoff_s` when it
  sent none; every request of the category waits with it (`throttled`);
- a 5xx, a timeout, a dropped or refused connection: wait a random time up to
  `backoff_base_s * 2**retries` (at most `backoff_max_s`), "full jitter";
- after `max_retries` resends: give up with the error the caller makes of the last answer.

    >>> policy = RetryPolicy(max_retries=2, backoff_base_s=1.0, backoff_max_s=8.0)
    >>> policy.step(Decision(Verdict.RETRY, Trouble.SERVER), retries=1, jitter=0.5).wait_s
    1.0
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from batch.zoom.errors import Decision, Trouble, Verdict

RATE_LIMIT_BACKOFF_S: Final = 1.0  # a per-second 429 without Retry-After: wait about this long


class Action(enum.Enum):
    """The next step of a request."""

    DONE = "done"  # the answer is the result
    RENEW_TOKEN = "renew-token"  # get a fresh token and send again (no wait, no retry counted)
    RETRY = "retry"  # wait `wait_s`, then send again
    GIVE_UP = "give-up"  # raise `error`


@dataclass(frozen=True)
class Step:
    """The next step, with what the caller needs to take it."""

    action: Action
    wait_s: float = 0.0
    throttled: bool = False  # a rate limit: the whole category waits, not only this request
    read_back: bool = False  # a write may have happened: look before sending it again
    error: Exception | None = None  # to raise, for GIVE_UP


def _no_error(decision: Decision) -> Exception:
    """The error of the last answer, as it is (the default when the retries run out)."""
    assert decision.error is not None, "a retried answer carries its error"
    return decision.error


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is resent."""

    max_retries: int
    backoff_base_s: float
    backoff_max_s: float
    rate_limit_backoff_s: float = RATE_LIMIT_BACKOFF_S

    def step(
        self,
        decision: Decision,
        *,
        retries: int,
        jitter: float,
        out_of_retries: Callable[[Decision], Exception] = _no_error,
    ) -> Step:
        """The step after an answer classified as `decision`.

        `retries`: how often this request was resent already. `jitter`: a random number in
        [0, 1) that spreads the waits of requests that failed together. `out_of_retries` makes
        the error to raise when the retries are used up.
        """
        verdict = decision.verdict
        if verdict is Verdict.OK:
            return Step(Action.DONE)
        if verdict is Verdict.RENEW_TOKEN:
            return Step(Action.RENEW_TOKEN)
        if verdict is not Verdict.RETRY:
            return Step(Action.GIVE_UP, error=decision.error)
        if retries >= self.max_retries:
            return Step(Action.GIVE_UP, error=out_of_retries(decision))
        if decision.trouble is Trouble.RATE_LIMIT:
            wait_s = decision.wait_s
            if wait_s is None:
                wait_s = self.rate_limit_backoff_s * (0.5 + jitter)
            return Step(Action.RETRY, wait_s, throttled=True)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2**retries)
        may_have_happened = decision.trouble in (Trouble.NO_ANSWER, Trouble.SERVER)
        return Step(Action.RETRY, jitter * ceiling, read_back=may_have_happened)

"""Sending one request to Zoom: paced, with a token, retried, a write read back before a resend.

`Sender.send` is the loop every request of `ZoomClient` goes through: wait for the category's
pacer slot, add the bearer token, send, let `errors.classify` say what the answer means and
`retry.RetryPolicy` what to do next (done, a fresh token, retry after N s, give up). A write
that got no answer (or a 5xx) is read back before it is resent, so a change is never applied
twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import httpx

from batch.settings import Secret
from batch.zoom.auth import TokenCache
from batch.zoom.errors import (
    AccountUnreachable,
    Decision,
    RequestTimeout,
    Trouble,
    Verdict,
    classify,
)
from batch.zoom.limits import Category
from batch.zoom.pacing import Pacer
from batch.zoom.retry import Action, RetryPolicy

log = logging.getLogger(__name__)

# A request may get a fresh token this many times in a row: a token can expire again while a
# request waits for its slot. More 401s than that mean Zoom refuses even fresh tokens.
MAX_TOKEN_RENEWALS: Final = 3


@dataclass
class ClientStats:
    """What the client did: requests sent per category, retries, 429s, write read-backs."""

    requests: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    rate_limited: int = 0
    read_backs: int = 0
    token_fetches: int = 0

    def count_token_fetch(self) -> None:
        """Count a request to the token endpoint."""
        self.token_fetches += 1
        self.requests[Category.TOKEN] += 1


class Sender:
    """Sends the requests of one client (its connections, token, pacers, retry policy)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_url: str,
        tokens: TokenCache,
        pacers: Mapping[Category, Pacer],
        policy: RetryPolicy,
        stats: ClientStats,
        max_wait_s: float,
    ) -> None:
        self._http = http
        self._api = api_url
        self._tokens = tokens
        self._pacers = pacers
        self._policy = policy
        self._max_wait_s = max_wait_s
        self.stats = stats
        self._random = random.Random()

    async def send(
        self,
        method: Literal["GET", "PATCH", "POST"],
        path: str,
        category: Category,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        read_back: Callable[[], Awaitable[bool]] | None = None,
    ) -> httpx.Response | None:
        """Send one request, paced and retried; None when a read-back showed a write done."""
        pacer = self._pacers[category]
        give_up = functools.partial(self._out_of_retries, method=method, path=path)
        retries = renewals = 0
        while True:
            await pacer.wait()
            try:
                token = await self._tokens.token()
                answer = await self._request(
                    method, path, category, token, params=params, json=json
                )
            finally:
                pacer.finished()
            decision = classify(
                answer,
                method=method,
                path=path,
                now=datetime.now(UTC),
                max_wait_s=self._max_wait_s,
                may_renew=renewals < MAX_TOKEN_RENEWALS,
            )
            jitter = self._random.random()
            step = self._policy.step(
                decision, retries=retries, jitter=jitter, out_of_retries=give_up
            )
            if decision.trouble is Trouble.RATE_LIMIT:
                self.stats.rate_limited += 1
            if step.action is Action.DONE:
                assert isinstance(answer, httpx.Response)
                return answer
            if step.action is Action.RENEW_TOKEN:
                renewals += 1
                await self._tokens.renew(token)
                continue
            renewals = 0
            if step.action is Action.GIVE_UP:
                assert step.error is not None
                if decision.verdict is Verdict.STOP_RUN and isinstance(answer, httpx.Response):
                    # the run's stop is told by whoever stops it; the request, for BATCH_DEBUG
                    log.info("Zoom stopped the run on %s %s: %s", method, path, step.error)
                raise step.error
            retries += 1
            self.stats.retries += 1
            if step.throttled:
                pacer.hold(step.wait_s)
            else:
                await asyncio.sleep(step.wait_s)
            log.debug("retry %d of %s %s (%s)", retries, method, path, decision.trouble.value)
            if read_back is not None and step.read_back:
                self.stats.read_backs += 1
                if await read_back():
                    return None

    async def _request(
        self,
        method: str,
        path: str,
        category: Category,
        token: Secret,
        *,
        params: Mapping[str, str] | None,
        json: Any,
    ) -> httpx.Response | Exception:
        """One HTTP exchange: the response, or the transport error that stood in its way."""
        self.stats.requests[category] += 1
        headers = {"Authorization": f"Bearer {token.reveal()}"}
        try:
            response = await self._http.request(
                method, self._api + path, params=params, json=json, headers=headers
            )
        except httpx.RequestError as error:
            return error
        self._observe(response, category)
        return response

    def _out_of_retries(self, last: Decision, method: str, path: str) -> Exception:
        """The exception for a request whose retries ran out."""
        error = last.error
        reason = type(error).__name__ if error is not None else "no answer"
        if last.trouble is Trouble.UNREACHABLE:
            retries = self._policy.max_retries
            return AccountUnreachable(self._api, f"{reason} after {retries} retries")
        if last.trouble is Trouble.NO_ANSWER:
            return RequestTimeout(0, None, reason, method, path)
        assert error is not None
        return error

    def _observe(self, response: httpx.Response, category: Category) -> None:
        """Follow the per-second limit, and the budget left of it, the server reports for this
        category. Only headers typed per-second and not naming another category count: a daily
        limit's Remaining (thousands) says nothing about this second, nor another category's
        about this one."""
        headers = response.headers
        if headers.get("X-RateLimit-Type", "").lower() != "qps":
            return
        named = headers.get("X-RateLimit-Category", "").lower()
        if named and named != str(category).lower():
            return
        pacer = self._pacers[category]
        try:
            limit = float(headers.get("X-RateLimit-Limit", ""))
        except ValueError:
            return
        if pacer.adopt(limit):
            log.info("Zoom reports %s requests/s for this category: pacing at that", limit)
        if response.status_code == 429:
            return  # (the retry policy holds the pacer)
        try:
            remaining = float(headers.get("X-RateLimit-Remaining", ""))
        except ValueError:
            return
        pacer.remaining(remaining)

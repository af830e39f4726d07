"""Server-to-Server OAuth: fetch an access token, keep it, renew it ahead of expiry.

One fetch at a time (an asyncio.Lock): when many requests find the token stale together, the
first renews it and the others use the new one. Secrets never leave this module except in the
one Basic-auth header of the token request; the token itself is never logged or put in errors.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Final

import httpx

from batch import scrub
from batch.settings import Credentials, Secret
from batch.zoom.errors import (
    AccountUnreachable,
    CredentialsRefused,
    Decision,
    Trouble,
    Verdict,
    is_loopback,
    zoom_error_body,
)
from batch.zoom.retry import Action, RetryPolicy

log = logging.getLogger(__name__)

RENEW_MARGIN_S: Final = 300.0  # renew 5 minutes before expiry ...
RENEW_MARGIN_SHARE: Final = 0.1  # ... or at 90% of the lifetime when that comes first
TOKEN_RETRIES: Final = 3  # a token request that gets no answer is resent this many times
TOKEN_BACKOFF_MAX_S: Final = 2.0  # ... waiting at most this long between two tries

# What the sandbox is sent when no credentials are configured (it accepts any).
SANDBOX_CREDENTIALS: Final = Credentials("sandbox", "sandbox", Secret("sandbox", public=True))


class TokenCache:
    """Holds the current access token and renews it before it expires."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        oauth_url: str,
        credentials: Credentials,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_fetch: Callable[[], None] | None = None,
        backoff_base_s: float = 0.2,
        backoff_max_s: float = TOKEN_BACKOFF_MAX_S,
    ) -> None:
        self._http = http
        self._url = oauth_url
        self._credentials = credentials
        self._clock = clock
        self._on_fetch = on_fetch
        self._policy = RetryPolicy(TOKEN_RETRIES, backoff_base_s, backoff_max_s)
        self._random = random.Random()
        self._lock = asyncio.Lock()
        self._token: Secret | None = None
        self._renew_at = 0.0
        self.fetches = 0

    def __repr__(self) -> str:
        return f"TokenCache(account_id={self._credentials.account_id!r})"

    def _unanswered(self, last: Decision) -> Exception:
        """The error once the token endpoint went unanswered (or busy) through every retry."""
        error = last.error
        reason = type(error).__name__ if isinstance(error, httpx.TransportError) else str(error)
        return AccountUnreachable(self._url, f"the token endpoint did not answer ({reason})")

    async def token(self) -> Secret:
        """The current access token, fetched or renewed when it is missing or about to expire."""
        current = self._token
        if current is not None and self._clock() < self._renew_at:
            return current
        async with self._lock:
            if self._token is not None and self._clock() < self._renew_at:
                return self._token
            return await self._fetch()

    async def renew(self, stale: Secret) -> Secret:
        """A fresh token after Zoom refused `stale`; when another request renewed it already,
        that newer token is returned without a second fetch."""
        async with self._lock:
            current = self._token
            if current is not None and current != stale and self._clock() < self._renew_at:
                return current
            return await self._fetch()

    async def _fetch(self) -> Secret:
        """Ask the token endpoint for a new token (called with the lock held)."""
        credentials = self._credentials
        secret = credentials.client_secret.reveal()
        scrub.register_pair(credentials.client_id, secret)  # the Basic header, if echoed
        auth = httpx.BasicAuth(credentials.client_id, secret)
        data = {"grant_type": "account_credentials", "account_id": credentials.account_id}
        retries = 0
        while True:
            if self._on_fetch is not None:
                self._on_fetch()
            answer: httpx.Response | Exception
            try:
                answer = await self._http.post(self._url, data=data, auth=auth)
            except httpx.TransportError as error:
                if isinstance(error, httpx.ConnectError) and is_loopback(self._url):
                    # refused on this machine: nothing listens there, waiting will not help
                    raise AccountUnreachable(self._url, "connection refused") from error
                answer = error
            step = self._policy.step(
                _token_decision(answer),
                retries=retries,
                jitter=self._random.random(),
                out_of_retries=self._unanswered,
            )
            if step.action is Action.DONE:
                break
            if step.action is Action.GIVE_UP:
                assert step.error is not None
                raise step.error
            retries += 1
            await asyncio.sleep(step.wait_s)
        assert isinstance(answer, httpx.Response)
        response = answer
        if response.status_code != 200:
            _, reason = zoom_error_body(response)
            reason = reason or f"HTTP {response.status_code}"
            raise CredentialsRefused(credentials.account_id, reason)
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise CredentialsRefused(credentials.account_id, "the token endpoint sent no token")
        expires_in = float(body.get("expires_in") or 3600)
        margin = min(RENEW_MARGIN_S, RENEW_MARGIN_SHARE * expires_in)
        self._token = Secret(token, expires=True)
        self._renew_at = self._clock() + expires_in - margin
        self.fetches += 1
        log.debug("new access token for account %s (%.0f s)", credentials.account_id, expires_in)
        return self._token


def _token_decision(answer: httpx.Response | Exception) -> Decision:
    """What a token endpoint answer means for retrying: a 429, a 5xx or no answer is retried;
    any other answer is final (a 200 carries the token, the rest refuse the credentials)."""
    if isinstance(answer, httpx.ConnectError):
        return Decision(Verdict.RETRY, Trouble.UNREACHABLE, error=answer)
    if isinstance(answer, Exception):
        return Decision(Verdict.RETRY, Trouble.NO_ANSWER, error=answer)
    status = answer.status_code
    if status == 429 or status >= 500:
        # a busy token endpoint: back off like a server error (its Retry-After is not used)
        return Decision(Verdict.RETRY, Trouble.SERVER, error=_HttpStatus(f"HTTP {status}"))
    return Decision(Verdict.OK)


class _HttpStatus(Exception):
    """A token endpoint answer that asks to try again later (its text: `HTTP 503`)."""

"""Server-to-Server OAuth: fetch an access token, keep it, renew it ahead of expiry.

One fetch at a time (an asyncio.Lock): when many requests find the token stale together, the
first renews it and the others use the new one. Secrets never leave this module except in the
one Basic-auth header of the token request; the token itself is never logged or put in errors.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final

import httpx

from batch import scrub
from batch.settings import Credentials, Secret
from batch.zoom.errors import (
    AccountUnreachable,
    CredentialsRefused,
    is_loopback,
    zoom_error_body,
)

log = logging.getLogger(__name__)

RENEW_MARGIN_S: Final = 300.0  # renew 5 minutes before expiry ...
RENEW_MARGIN_SHARE: Final = 0.1  # ... or at 90% of the lifetime when that comes first
TOKEN_ATTEMPTS: Final = 4  # a token request that gets no answer is sent this many times

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
    ) -> None:
        self._http = http
        self._url = oauth_url
        self._credentials = credentials
        self._clock = clock
        self._on_fetch = on_fetch
        self._backoff_base_s = backoff_base_s
        self._lock = asyncio.Lock()
        self._token: Secret | None = None
        self._renew_at = 0.0
        self.fetches = 0

    def __repr__(self) -> str:
        return f"TokenCache(account_id={self._credentials.account_id!r})"

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
        response: httpx.Response | None = None
        last_error = ""
        for attempt in range(TOKEN_ATTEMPTS):
            if self._on_fetch is not None:
                self._on_fetch()
            try:
                response = await self._http.post(self._url, data=data, auth=auth)
            except httpx.TransportError as error:
                last_error = type(error).__name__
                if isinstance(error, httpx.ConnectError) and is_loopback(self._url):
                    # refused on this machine: nothing listens there, waiting will not help
                    raise AccountUnreachable(self._url, "connection refused") from error
                await asyncio.sleep(min(self._backoff_base_s * 2**attempt, 2.0))
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last_error = f"HTTP {response.status_code}"
                await asyncio.sleep(min(self._backoff_base_s * 2**attempt, 2.0))
                continue
            break
        if response is None or response.status_code >= 500 or response.status_code == 429:
            raise AccountUnreachable(self._url, f"the token endpoint did not answer ({last_error})")
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

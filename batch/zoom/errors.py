"""What the Zoom client raises, and the one function that decides what a Zoom answer means.

    ZoomApiError(Exception)        one item failed: the caller writes a `failed` result line
    ├── RateLimited                429s kept coming until the retries ran out (rate-limited)
    └── RequestTimeout             no answer (timeouts, dropped connections) after the retries

    batch.errors.AccountError (exit 3): the run cannot go on
    ├── CredentialsRefused         the token endpoint refused the app's credentials
    ├── AccessDenied               401 with a fresh token, or 403
    ├── AccountUnreachable         connection refused after the retries
    └── DailyLimitReached          a limit is used up until later than we are willing to wait

`classify` turns one answer (a response or a transport exception) into a `Decision`: retry,
get a fresh token and resend, fail this item, or stop the run.
"""

from __future__ import annotations

import email.utils
import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from batch.errors import AccountError
from batch.vocabulary import Code

# Zoom's code for an invalid or expired access token (docs/zoom-api.md §1).
TOKEN_INVALID_CODE: Final = 124
# Zoom's code (HTTP 400) for an invalid or expired next_page_token (docs/zoom-api.md §3).
PAGE_TOKEN_CODE: Final = 300
PAGE_TOKEN_TEXT: Final = "next page token"


class ZoomApiError(Exception):
    """Zoom refused one request (a 4xx with a Zoom code, or a 5xx after the retries)."""

    outcome_code: Code = Code.API_ERROR

    def __init__(self, status: int, code: int | None, message: str, method: str, path: str):
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        super().__init__(self._text())

    def _text(self) -> str:
        what = str(self.code) if self.code is not None else f"HTTP {self.status}"
        return f"Zoom refused: {what} {self.message}".rstrip()


class RateLimited(ZoomApiError):
    """Zoom kept answering 429 until the retries ran out."""

    outcome_code = Code.RATE_LIMITED

    def _text(self) -> str:
        return f"Zoom's rate limit: gave up after the retries ({self.method} {self.path})"


class RequestTimeout(ZoomApiError):
    """No answer from Zoom (timeouts, dropped connections) until the retries ran out."""

    outcome_code = Code.TIMEOUT

    def _text(self) -> str:
        return f"no answer from Zoom after the retries ({self.method} {self.path}): {self.message}"


class CredentialsRefused(AccountError):
    """Zoom's token endpoint refused the app's credentials."""

    def __init__(self, account_id: str, reason: str) -> None:
        super().__init__(
            f"Zoom refused the credentials for account {account_id}: {reason} "
            "(check ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET)"
        )
        self.account_id = account_id
        self.reason = reason


class AccessDenied(AccountError):
    """Zoom denied access: 401 with a fresh token, or 403."""

    def __init__(self, status: int, code: int | None, message: str, method: str, path: str):
        code_text = f" {code}" if code is not None else ""
        super().__init__(
            f"Zoom denied access ({status}{code_text} on {method} {path}): {message}".rstrip()
        )
        self.status = status
        self.code = code


def is_loopback(url: str) -> bool:
    """True for a URL on this machine (127.0.0.1, ::1, localhost): a served sandbox, mostly."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")


class AccountUnreachable(AccountError):
    """Zoom (or the sandbox) could not be reached after the retries."""

    def __init__(self, url: str, reason: str) -> None:
        if is_loopback(url):
            message = f"cannot reach {url}: {reason}; is `batch sandbox serve` running?"
        else:
            message = f"cannot reach Zoom at {url}: {reason}"
        super().__init__(message)
        self.url = url
        self.reason = reason


class DailyLimitReached(AccountError):
    """A 429 whose Retry-After is further away than we are willing to wait."""

    def __init__(self, category: str, reset_at: datetime, daily: bool = True) -> None:
        stamp = reset_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        what = "daily limit" if daily else "rate limit"
        super().__init__(
            f"Zoom's {what} for {category} requests is used up until {stamp}: "
            "stopping instead of waiting"
        )
        self.category = category
        self.reset_at = reset_at


# ---------------------------------------------------------------------------------------------
# Classification


class Verdict(enum.Enum):
    """What to do with one answer."""

    OK = "ok"
    RETRY = "retry"  # 429, 5xx, timeouts, resets: wait and send again
    RENEW_TOKEN = "renew-token"  # 401 code 124: get a fresh token once and resend
    FAIL_ITEM = "fail-item"  # 4xx with a Zoom code: this item failed, the run goes on
    STOP_RUN = "stop-run"  # 401 after a fresh token, 403, a daily limit too far away


class Trouble(enum.Enum):
    """Why a retry is needed; decides the exception when the retries run out."""

    NONE = "none"
    RATE_LIMIT = "rate-limit"
    SERVER = "server"  # a 5xx answer
    NO_ANSWER = "no-answer"  # timeout, reset or dropped connection: a write may have happened
    UNREACHABLE = "unreachable"  # connection refused: nothing was sent


@dataclass(frozen=True)
class Decision:
    """The verdict on one answer, with what the caller needs to act on it."""

    verdict: Verdict
    trouble: Trouble = Trouble.NONE
    wait_s: float | None = None  # the server's Retry-After, in seconds from now
    error: Exception | None = None  # to raise for FAIL_ITEM / STOP_RUN, or when out of retries


def zoom_error_body(response: httpx.Response) -> tuple[int | None, str]:
    """Zoom's `{code, message}` (or OAuth's `{error, reason}`) from an error response."""
    try:
        body: Any = response.json()
    except ValueError:
        return None, response.text[:200].strip() or response.reason_phrase
    if not isinstance(body, dict):
        return None, response.reason_phrase
    code = body.get("code")
    message = body.get("message") or body.get("reason") or body.get("error") or ""
    return (code if isinstance(code, int) else None), str(message)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or a date (ISO or HTTP)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    when: datetime | None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def classify(
    answer: httpx.Response | Exception,
    *,
    method: str,
    path: str,
    now: datetime,
    max_wait_s: float,
    may_renew: bool,
) -> Decision:
    """Decide what one answer means: ok, retry, renew the token, fail the item, or stop the run.

    `may_renew` tells whether this request may still get a fresh token after a 401 (it may, a
    few times in a row, since a token can expire again while a request waits); when it may
    not, a 401 stops the run. A 429 whose Retry-After is further than `max_wait_s` stops the
    run with `DailyLimitReached` instead of sleeping until then.

    >>> now = datetime(2026, 11, 27, tzinfo=UTC)
    >>> classify(httpx.Response(503), method="GET", path="/users", now=now,
    ...          max_wait_s=60, may_renew=True).verdict
    <Verdict.RETRY: 'retry'>
    """
    if isinstance(answer, Exception):
        if isinstance(answer, httpx.ConnectError):
            return Decision(Verdict.RETRY, Trouble.UNREACHABLE, error=answer)
        if isinstance(answer, (httpx.TransportError, TimeoutError, ConnectionError)):
            return Decision(Verdict.RETRY, Trouble.NO_ANSWER, error=answer)
        return Decision(Verdict.STOP_RUN, error=answer)
    status = answer.status_code
    if status < 300:
        return Decision(Verdict.OK)
    code, message = zoom_error_body(answer)
    if status == 429:
        wait_s = parse_retry_after(answer.headers.get("Retry-After"), now)
        kind = answer.headers.get("X-RateLimit-Type", "")
        daily = kind.lower().startswith("daily") or "daily" in message.lower()
        if wait_s is not None and wait_s > max_wait_s:
            category = answer.headers.get("X-RateLimit-Category", "these")
            reset_at = datetime.fromtimestamp(now.timestamp() + wait_s, UTC)
            return Decision(
                Verdict.STOP_RUN, error=DailyLimitReached(category, reset_at, daily=daily)
            )
        error = RateLimited(status, code, message, method, path)
        return Decision(Verdict.RETRY, Trouble.RATE_LIMIT, wait_s=wait_s, error=error)
    if status >= 500:
        return Decision(
            Verdict.RETRY, Trouble.SERVER, error=ZoomApiError(status, code, message, method, path)
        )
    if status == 401:
        if code == TOKEN_INVALID_CODE and may_renew:
            return Decision(Verdict.RENEW_TOKEN)
        return Decision(Verdict.STOP_RUN, error=AccessDenied(status, code, message, method, path))
    if status == 403:
        return Decision(Verdict.STOP_RUN, error=AccessDenied(status, code, message, method, path))
    return Decision(Verdict.FAIL_ITEM, error=ZoomApiError(status, code, message, method, path))

"""The one retry policy of the Zoom client: the step after each answer, for API and token calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from batch.settings import Credentials, Secret
from batch.zoom import AccountUnreachable, CredentialsRefused, RateLimited, ZoomApiError
from batch.zoom.auth import TOKEN_RETRIES, TokenCache
from batch.zoom.errors import Decision, Trouble, Verdict
from batch.zoom.retry import Action, RetryPolicy, Step

POLICY = RetryPolicy(max_retries=3, backoff_base_s=0.5, backoff_max_s=3.0)
ITEM = ZoomApiError(404, 1001, "User does not exist: x.", "GET", "/users/x")
LIMITED = RateLimited(429, 429, "Too many", "GET", "/users")
SERVER = ZoomApiError(503, None, "Service Unavailable", "GET", "/users")
TIMEOUT = httpx.ReadTimeout("read timed out")


@pytest.mark.parametrize(
    ("decision", "retries", "jitter", "expected"),
    [
        (Decision(Verdict.OK), 0, 0.5, Step(Action.DONE)),
        (Decision(Verdict.RENEW_TOKEN), 3, 0.5, Step(Action.RENEW_TOKEN)),
        (Decision(Verdict.FAIL_ITEM, error=ITEM), 0, 0.5, Step(Action.GIVE_UP, error=ITEM)),
        (Decision(Verdict.STOP_RUN, error=ITEM), 0, 0.5, Step(Action.GIVE_UP, error=ITEM)),
        (Decision(Verdict.RETRY, Trouble.RATE_LIMIT, wait_s=7.0, error=LIMITED), 0, 0.5,
         Step(Action.RETRY, 7.0, throttled=True)),
        (Decision(Verdict.RETRY, Trouble.RATE_LIMIT, error=LIMITED), 0, 0.0,
         Step(Action.RETRY, 0.5, throttled=True)),
        (Decision(Verdict.RETRY, Trouble.RATE_LIMIT, error=LIMITED), 2, 0.5,
         Step(Action.RETRY, 1.0, throttled=True)),
        (Decision(Verdict.RETRY, Trouble.SERVER, error=SERVER), 0, 0.5,
         Step(Action.RETRY, 0.25, read_back=True)),
        (Decision(Verdict.RETRY, Trouble.SERVER, error=SERVER), 2, 0.5,
         Step(Action.RETRY, 1.0, read_back=True)),
        (Decision(Verdict.RETRY, Trouble.NO_ANSWER, error=TIMEOUT), 2, 1.0,
         Step(Action.RETRY, 2.0, read_back=True)),
        (Decision(Verdict.RETRY, Trouble.UNREACHABLE, error=TIMEOUT), 1, 0.5,
         Step(Action.RETRY, 0.5)),
        (Decision(Verdict.RETRY, Trouble.SERVER, error=SERVER), 3, 0.5,
         Step(Action.GIVE_UP, error=SERVER)),
        (Decision(Verdict.RETRY, Trouble.RATE_LIMIT, wait_s=1.0, error=LIMITED), 3, 0.5,
         Step(Action.GIVE_UP, error=LIMITED)),
    ],
    ids=[
        "ok-done",
        "token-renewed-without-counting",
        "item-refused-gives-up",
        "run-stopped-gives-up",
        "429-waits-retry-after",
        "429-without-retry-after-about-a-second",
        "429-backoff-does-not-grow",
        "5xx-first-backoff",
        "5xx-backoff-doubles",
        "timeout-backoff-capped-at-max",
        "refused-connection-no-read-back",
        "5xx-out-of-retries",
        "429-out-of-retries",
    ],
)  # fmt: skip
def test_retry_step(decision: Decision, retries: int, jitter: float, expected: Step) -> None:
    """Each answer leads to one step: done, a fresh token, a wait of N s, or the error."""
    assert POLICY.step(decision, retries=retries, jitter=jitter) == expected


def test_out_of_retries_error_comes_from_the_caller() -> None:
    """When the retries are used up the caller's function makes the error raised."""
    decision = Decision(Verdict.RETRY, Trouble.NO_ANSWER, error=TIMEOUT)
    made = AccountUnreachable("https://zoom.example", "no answer")
    step = POLICY.step(decision, retries=3, jitter=0.0, out_of_retries=lambda _: made)
    assert (step.action, step.error) == (Action.GIVE_UP, made)


# -- the token request follows the same policy -----------------------------------------------

CREDENTIALS = Credentials("acct", "client", Secret("shh"))
TOKEN_OK = {"access_token": "tok", "token_type": "bearer", "expires_in": 3600}


def _token_cache(
    answers: list[Callable[[httpx.Request], httpx.Response]], url: str
) -> tuple[TokenCache, list[httpx.Request]]:
    """A TokenCache whose token endpoint gives these answers in turn (the last one repeats)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1](request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return TokenCache(http, url, CREDENTIALS, backoff_base_s=0.001), seen


def _status(code: int, body: dict[str, object] | None = None) -> Callable[..., httpx.Response]:
    return lambda _: httpx.Response(code, json=body or {})


def _drop(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer", request=request)


@pytest.mark.parametrize(
    ("answers", "sent", "result"),
    [
        ([_status(200, TOKEN_OK)], 1, "token"),
        ([_status(503), _status(429), _status(200, TOKEN_OK)], 3, "token"),
        ([_drop, _status(200, TOKEN_OK)], 2, "token"),
        ([_status(503)], TOKEN_RETRIES + 1, "unreachable"),
        ([_drop], TOKEN_RETRIES + 1, "unreachable"),
        ([_status(400, {"reason": "Invalid client_id or client_secret"})], 1, "refused"),
    ],
    ids=["at-once", "busy-then-ok", "dropped-then-ok", "always-busy", "never-answers",
         "refused-not-retried"],
)  # fmt: skip
def test_token_request_retries(
    answers: list[Callable[[httpx.Request], httpx.Response]], sent: int, result: str
) -> None:
    """The token endpoint is retried on 429, 5xx and no answer, never on a refusal."""
    cache, seen = _token_cache(answers, "https://zoom.example/oauth/token")
    if result == "token":
        assert asyncio.run(cache.token()).reveal() == "tok"
    else:
        expected = AccountUnreachable if result == "unreachable" else CredentialsRefused
        with pytest.raises(expected) as raised:
            asyncio.run(cache.token())
        assert "shh" not in str(raised.value)
    assert len(seen) == sent


def test_token_refused_connection_on_this_machine_is_not_retried() -> None:
    """A refused connection to 127.0.0.1 (no sandbox served) fails at once, naming the fix."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    cache, seen = _token_cache([refuse], "http://127.0.0.1:9/oauth/token")
    with pytest.raises(AccountUnreachable, match="batch sandbox serve"):
        asyncio.run(cache.token())
    assert len(seen) == 1

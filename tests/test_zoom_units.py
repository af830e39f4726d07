"""The Zoom client's pure pieces: the pacer, Retry-After parsing and the answer classifier."""

from __future__ import annotations

import heapq
import itertools
import math
import random
from datetime import UTC, datetime

import httpx
import pytest

from batch.errors import AccountError
from batch.vocabulary import Code
from batch.zoom import (
    AccessDenied,
    DailyLimitReached,
    RateLimited,
    RequestTimeout,
    ZoomApiError,
    classify,
)
from batch.zoom.errors import Trouble, Verdict, parse_retry_after
from batch.zoom.pacing import Category, Pacer, plan_limits

NOW = datetime(2026, 11, 27, 22, 0, 0, tzinfo=UTC)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("plan", "light", "medium", "heavy"),
    [
        ("free", 4, 2, 1),
        ("pro", 30, 20, 10),
        ("business", 80, 60, 40),
        ("enterprise", 80, 60, 40),
    ],
    ids=["free", "pro", "business", "enterprise-as-business"],
)
def test_plan_limits(plan: str, light: int, medium: int, heavy: int) -> None:
    """Each plan starts from the documented per-second limits of its column."""
    limits = plan_limits(plan)
    got = (limits[Category.LIGHT], limits[Category.MEDIUM], limits[Category.HEAVY])
    assert got == (light, medium, heavy)


def test_pacer_spaces_starts_at_95_percent() -> None:
    """Requests claimed at once start 1/(0.95*limit) apart once the catch-up allowance is used."""
    clock = FakeClock()
    pacer = Pacer(limit=20, clock=clock)
    waits = [pacer.reserve() for _ in range(20)]
    assert waits[0] == 0
    spaced = [w for w in waits if w > 0]
    gaps = [b - a for a, b in itertools.pairwise(spaced)]
    assert len(spaced) >= 18
    assert all(gap == pytest.approx(1 / 19) for gap in gaps)


@pytest.mark.parametrize(
    ("limit", "pattern"),
    [
        (10, [0.0] * 40),
        (10, [0.0, 60.0] + [0.0] * 30),
        (60, [0.0] * 200),
        (60, [0.004] * 50 + [0.2] + [0.004] * 150),
        (80, ([0.0] * 5 + [0.3]) * 30),
    ],
    ids=["burst-of-claims", "after-idle", "medium-burst", "stalled-chain", "bursty-callers"],
)
def test_pacer_never_starts_more_than_the_limit_in_any_second(
    limit: float, pattern: list[float]
) -> None:
    """Whatever the callers do, no one-second window holds more starts than the limit."""
    clock = FakeClock()
    pacer = Pacer(limit=limit, clock=clock)
    starts = []
    for pause in pattern:
        clock.now += pause
        starts.append(clock.now + pacer.reserve())
    starts.sort()
    for i, first in enumerate(starts):
        within = sum(1 for t in starts[i:] if t < first + 1.0 - 1e-9)
        assert within <= limit


def test_pacer_recovers_slots_a_stalled_chain_missed() -> None:
    """A chain of pages stalled once for 0.1 s catches up instead of losing that time for good."""
    clock = FakeClock()
    pacer = Pacer(limit=60, clock=clock)
    began = clock.now
    for n in range(200):
        clock.now += pacer.reserve() + (0.1 if n == 50 else 0.004)  # wait, then the round trip
    assert clock.now - began == pytest.approx(200 / 57, abs=0.06)


@pytest.mark.parametrize(
    ("reported", "changed", "interval"),
    [(60, False, 1 / 57), (10, True, 1 / 9.5), (0, False, 1 / 57)],
    ids=["same", "lower", "nonsense-zero"],
)
def test_pacer_adopts_reported_limit(reported: float, changed: bool, interval: float) -> None:
    """A limit reported by the server replaces the plan's when it differs and makes sense."""
    pacer = Pacer(limit=60)
    assert pacer.adopt(reported) is changed
    assert pacer.interval == pytest.approx(interval)


def test_pacer_hold_delays_every_next_start() -> None:
    """After a hold, the next slot is no earlier than the hold's end."""
    clock = FakeClock()
    pacer = Pacer(limit=50, clock=clock)
    pacer.hold(1.5)
    assert pacer.reserve() == pytest.approx(1.5)


class BucketServer:
    """A server's per-second budget as the sandbox keeps it: a bucket of `limit` tokens,
    refilled continuously (`window=False`), or reset at each whole second (`window=True`)."""

    def __init__(self, limit: int, now: float, *, window: bool = False) -> None:
        self.limit, self.window = limit, window
        self.tokens, self.stamp = float(limit), now
        self.refused = 0

    def arrive(self, now: float) -> float | None:
        """One request arrives: the budget left after it, or None for a 429."""
        if self.window:
            if int(now) != int(self.stamp):
                self.tokens = float(self.limit)
        else:
            self.tokens = min(self.limit, self.tokens + (now - self.stamp) * self.limit)
        self.stamp = now
        if self.tokens < 1:
            self.refused += 1
            return None
        self.tokens -= 1
        return self.tokens


def simulate(
    pacer: Pacer,
    clock: FakeClock,
    server: BucketServer,
    requests: int,
    in_flight: int,
    *,
    jitter: float = 0.0,
) -> float:
    """`requests` requests through `pacer` as `Pacer.wait` lets them go, `in_flight` at a time,
    20 ms to the server (plus up to `jitter` seconds, at random: the server then takes them in
    another order than they were sent) and 20 ms back, each answer's budget handed to the
    pacer as the sender does; a refused one holds the pacer 1 s and waits again. Returns the
    seconds until the last answer."""
    began = clock.now
    events: list[tuple[float, int, str]] = []  # (time, order, what)
    order = itertools.count()
    delays = random.Random(7)
    waiting, sent, wake = in_flight, in_flight, [math.inf]

    def push(at: float, what: str) -> None:
        heapq.heappush(events, (at, next(order), what))

    def release() -> None:  # Pacer.wait's line: go while due, else wake when it will be
        nonlocal waiting
        while waiting and pacer.due() == 0:
            waiting -= 1
            pacer.reserve()
            push(clock.now + 0.02 + delays.uniform(0, jitter), "arrive")
        if waiting and clock.now + pacer.due() < wake[0]:
            wake[0] = clock.now + pacer.due()
            push(wake[0], "release")

    release()
    while events:
        clock.now, _, what = heapq.heappop(events)
        if what == "release":
            wake[0] = math.inf
        elif what == "arrive":
            left = server.arrive(clock.now)
            push(clock.now + 0.02, "refused" if left is None else f"answer:{left}")
            continue
        elif what == "refused":
            pacer.finished()
            pacer.hold(1.0)
            waiting += 1
        else:
            pacer.remaining(float(what.split(":")[1]))
            pacer.finished()
            if sent < requests:
                sent, waiting = sent + 1, waiting + 1
        release()
    return clock.now - began


@pytest.mark.parametrize(
    ("limit", "requests", "jitter"),
    [(60, 133, 0.0), (60, 1300, 0.0), (20, 400, 0.0), (80, 90, 0.0), (60, 600, 0.05),
     (60, 133, 0.2), (30, 900, 0.05), (20, 600, 0.05)],
)  # fmt: skip
def test_pacer_spends_the_reported_budget_without_a_429(
    limit: int, requests: int, jitter: float
) -> None:
    """With the budget the answers report, a read starts one second's worth at once and then
    goes at the limit, not 95% of it, and never meets a 429, though the server takes
    concurrent requests in any order."""
    clock = FakeClock()
    pacer = Pacer(limit=limit, clock=clock)
    server = BucketServer(limit, clock.now)
    took = simulate(pacer, clock, server, requests, in_flight=100, jitter=jitter)
    assert server.refused == 0
    paced_only = requests / (0.95 * limit)
    assert took < paced_only - 0.7  # about the one second a full budget is worth
    at_the_limit = (requests - 0.9 * limit) / limit  # a second's worth less the reserve, then
    assert took <= at_the_limit + 0.3 + jitter  # the limit (+ the answers' trips)


def test_pacer_falls_back_to_its_pace_when_the_budget_is_not_a_bucket() -> None:
    """A server whose budget resets each whole second refuses the burst's overflow once; the
    pacer then keeps to its pace alone and meets no other 429."""
    clock = FakeClock()
    clock.now = 100.5  # mid-second: the burst and the paced starts meet in the same window
    pacer = Pacer(limit=60, clock=clock)
    server = BucketServer(60, clock.now, window=True)
    took = simulate(pacer, clock, server, 600, in_flight=100)
    assert 1 <= server.refused <= 5
    assert took < 600 / 57 + 1.5


def test_pacer_believes_no_budget_beyond_its_limit_nor_after_a_429() -> None:
    """A Remaining of thousands (a daily count) is capped at one second's worth, less the
    reserve; nonsense is ignored; after a hold no budget is spent beyond the pace."""
    clock = FakeClock()
    unbudgeted, pacer = Pacer(limit=60, clock=clock), Pacer(limit=60, clock=clock)
    paced = sum(unbudgeted.reserve() == 0 for _ in range(100))  # the catch-up's few
    assert pacer.reserve() == 0
    pacer.remaining(5893)  # the answer of the one request in flight
    pacer.finished()
    assert sum(pacer.reserve() == 0 for _ in range(99)) == paced - 1 + 60 - 6
    pacer.remaining(float("nan"))
    assert pacer.due() > 0
    pacer.hold(0.0)
    pacer.remaining(59)
    assert pacer.due() > 0


def test_pacer_counts_every_request_in_flight_against_the_budget() -> None:
    """An answer that overtook earlier requests (the server took it first) leaves them to be
    counted still: its budget, less them and the reserve, is what may start at once."""
    clock = FakeClock()
    pacer = Pacer(limit=60, clock=clock)
    for _ in range(30):
        pacer.reserve()
    pacer.remaining(43)  # the answer to the last one sent, while 29 others are under way
    pacer.finished()
    assert pacer.in_flight == 29
    assert sum(pacer.reserve() == 0 for _ in range(60)) == 43 - 29 - 6


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("2026-11-28T00:00:00Z", 7200.0),
        ("2026-11-27T22:00:30+00:00", 30.0),
        ("Fri, 27 Nov 2026 22:01:00 GMT", 60.0),
        ("2026-11-27T21:00:00Z", 0.0),
        ("soon", None),
        (None, None),
    ],
    ids=["seconds", "fraction", "iso-z", "iso-offset", "http-date", "past", "garbage", "absent"],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    """Retry-After is read as seconds or as a date, relative to now."""
    assert parse_retry_after(header, NOW) == seconds


def _response(status: int, body: object = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _classify(answer: httpx.Response | Exception, may_renew: bool = True):  # type: ignore[no-untyped-def]
    return classify(
        answer, method="PATCH", path="/users/x", now=NOW, max_wait_s=120, may_renew=may_renew
    )


@pytest.mark.parametrize(
    ("answer", "may_renew", "verdict", "trouble", "error_type"),
    [
        (_response(204), True, Verdict.OK, Trouble.NONE, type(None)),
        (_response(503, {"code": 503, "message": "x"}), True, Verdict.RETRY, Trouble.SERVER,
         ZoomApiError),
        (_response(429, {"code": 429, "message": "qps"}, **{"X-RateLimit-Type": "QPS"}), True,
         Verdict.RETRY, Trouble.RATE_LIMIT, RateLimited),
        (httpx.ReadTimeout("slow"), True, Verdict.RETRY, Trouble.NO_ANSWER, httpx.ReadTimeout),
        (httpx.RemoteProtocolError("dropped"), True, Verdict.RETRY, Trouble.NO_ANSWER,
         httpx.RemoteProtocolError),
        (httpx.ConnectError("refused"), True, Verdict.RETRY, Trouble.UNREACHABLE,
         httpx.ConnectError),
        (_response(401, {"code": 124, "message": "Invalid access token."}), True,
         Verdict.RENEW_TOKEN, Trouble.NONE, type(None)),
        (_response(401, {"code": 124, "message": "Invalid access token."}), False,
         Verdict.STOP_RUN, Trouble.NONE, AccessDenied),
        (_response(403, {"code": 200, "message": "denied"}), True, Verdict.STOP_RUN, Trouble.NONE,
         AccessDenied),
        (_response(404, {"code": 1001, "message": "User does not exist: x."}), True,
         Verdict.FAIL_ITEM, Trouble.NONE, ZoomApiError),
        (_response(400, {"code": 3412, "message": "paying users"}), True, Verdict.FAIL_ITEM,
         Trouble.NONE, ZoomApiError),
    ],
    ids=["204", "503", "429-qps", "timeout", "dropped", "refused", "401-may-renew",
         "401-renewed-enough", "403", "404-1001", "400-3412"],
)  # fmt: skip
def test_classify(
    answer: httpx.Response | Exception,
    may_renew: bool,
    verdict: Verdict,
    trouble: Trouble,
    error_type: type,
) -> None:
    """Every kind of answer gets the documented verdict: retry, renew, fail the item or stop."""
    decision = _classify(answer, may_renew)
    assert (decision.verdict, decision.trouble) == (verdict, trouble)
    assert isinstance(decision.error, error_type)


def test_classify_daily_limit_stops_with_clear_message() -> None:
    """A daily 429 resetting at midnight stops the run, naming the category and reset time."""
    headers = {
        "X-RateLimit-Category": "Medium",
        "X-RateLimit-Type": "Daily-limit",
        "Retry-After": "2026-11-28T00:00:00Z",
    }
    decision = _classify(_response(429, {"code": 429, "message": "daily"}, **headers))
    assert decision.verdict is Verdict.STOP_RUN
    assert isinstance(decision.error, DailyLimitReached)
    assert isinstance(decision.error, AccountError)
    assert str(decision.error) == (
        "Zoom's daily limit for Medium requests is used up until 2026-11-28T00:00:00Z: "
        "stopping instead of waiting"
    )


def test_classify_short_retry_after_waits() -> None:
    """A 429 with a Retry-After shorter than max_wait_s is retried after that many seconds."""
    decision = _classify(_response(429, {"code": 429, "message": "x"}, **{"Retry-After": "2"}))
    assert (decision.verdict, decision.wait_s) == (Verdict.RETRY, 2.0)


@pytest.mark.parametrize(
    ("error", "text", "code"),
    [
        (ZoomApiError(400, 3412, "Your request to convert...", "PATCH", "/users/a"),
         "Zoom refused: 3412 Your request to convert...", Code.API_ERROR),
        (ZoomApiError(503, None, "Service Temporarily Unavailable.", "GET", "/users"),
         "Zoom refused: HTTP 503 Service Temporarily Unavailable.", Code.API_ERROR),
        (RateLimited(429, 429, "qps", "GET", "/users"),
         "Zoom's rate limit: gave up after the retries (GET /users)", Code.RATE_LIMITED),
        (RequestTimeout(0, None, "ReadTimeout", "PATCH", "/users/a"),
         "no answer from Zoom after the retries (PATCH /users/a): ReadTimeout", Code.TIMEOUT),
    ],
    ids=["refusal", "server-error", "rate-limited", "timeout"],
)  # fmt: skip
def test_item_errors_text_and_code(error: ZoomApiError, text: str, code: Code) -> None:
    """An item failure reads as one line and carries the outcome code the report uses."""
    assert (str(error), error.outcome_code) == (text, code)


def test_pacer_spends_the_budget_again_once_the_server_has_refilled_it() -> None:
    """A budget reported after a burst, once the server's bucket has refilled, lets as many
    start early again (less the reserve of 6 at 60/s): a long run goes at the limit."""
    clock = FakeClock()
    unbudgeted = Pacer(limit=60, clock=clock)
    paced = sum(unbudgeted.reserve() == 0 for _ in range(100))  # the catch-up's few
    pacer = Pacer(limit=60, clock=clock)
    pacer.reserve()
    pacer.remaining(59)  # its answer: 59 left, none other in flight, 6 kept back -> 53
    pacer.finished()
    assert sum(pacer.reserve() == 0 for _ in range(80)) == paced - 1 + 53
    for _ in range(80):
        pacer.finished()
    clock.now += 2.0  # the slots given are past; the server's bucket has refilled
    pacer.reserve()
    pacer.remaining(59)
    pacer.finished()
    assert sum(pacer.reserve() == 0 for _ in range(80)) == paced - 1 + 53


def test_pacer_waits_for_the_budget_to_refill_when_it_runs_thin() -> None:
    """A budget reported below the reserve (5 at 30/s) holds the next start until the
    server has refilled it: 2 left waits (5 - 2) / 30 s, whatever is in flight (answers
    slower than a second must not hold the pace down)."""
    clock = FakeClock()
    pacer = Pacer(limit=30, clock=clock)
    pacer.reserve()
    pacer.reserve()
    pacer.remaining(2)
    pacer.finished()
    assert pacer.due() == pytest.approx(3 / 30)


def test_pacer_keeps_its_pace_when_answers_are_slow() -> None:
    """Answers taking 1.5 s (85 requests in flight at 57/s) report a full budget: the pacer
    neither brakes nor spends beyond it, and goes at its pace."""
    clock = FakeClock()
    pacer = Pacer(limit=60, clock=clock)
    for _ in range(85):
        clock.now += pacer.reserve()
    pacer.remaining(59)
    pacer.finished()
    assert pacer.due() == pytest.approx(pacer.interval)

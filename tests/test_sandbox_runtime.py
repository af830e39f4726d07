"""Sandbox behaviour over time and under stress: rate limits, faults, persistence, real HTTP."""

from __future__ import annotations

import json
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from batch.errors import FileRefused
from batch.sandbox import DEMO_ACCOUNT, Faults, Sandbox, serve
from batch.sandbox.testing import account, get_token, logged_in

# -- rate limits ------------------------------------------------------------------------------


def test_per_second_limit_and_refill() -> None:
    """Past a category's per-second limit Zoom answers 429 (no Retry-After) until it refills."""
    _, client, clock = logged_in(account(limits={"light": 3}))
    remaining = [client.get("/users/LIC1").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = client.get("/users/LIC1")
    assert refused.status_code == 429
    assert refused.json() == {
        "code": 429,
        "message": "You have reached the maximum per-second rate limit for this API. "
        "Try again later.",
    }
    headers = {k: refused.headers.get(k) for k in (
        "X-RateLimit-Category", "X-RateLimit-Type", "X-RateLimit-Limit",
        "X-RateLimit-Remaining", "Retry-After")}  # fmt: skip
    assert headers == {
        "X-RateLimit-Category": "Light", "X-RateLimit-Type": "QPS", "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "0", "Retry-After": None,
    }  # fmt: skip
    assert client.get("/users").status_code == 200  # another category has its own bucket
    clock.advance(0.34)  # one third of a second refills one of three tokens
    assert client.get("/users/LIC1").status_code == 200
    assert client.get("/users/LIC1").status_code == 429


@pytest.mark.parametrize(
    ("plan", "path", "category", "limit"),
    [
        ("business", "/users/LIC1", "Light", "80"),
        ("business", "/users", "Medium", "60"),
        ("business", "/accounts/me/plans/usage", "Heavy", "40"),
        ("pro", "/users/LIC1", "Light", "30"),
        ("pro", "/users/LIC1/settings", "Medium", "20"),
        ("free", "/users/summary", "Medium", "2"),
    ],
    ids=["business-light", "business-medium", "business-heavy", "pro-light", "pro-medium",
         "free-medium"],
)  # fmt: skip
def test_limits_by_plan(plan: str, path: str, category: str, limit: str) -> None:
    """Every /v2 answer names its category and the plan's per-second limit (table 7.1)."""
    data = account()
    data["account"]["plan"] = plan
    _, client, _ = logged_in(data)
    response = client.get(path)
    assert (response.headers["X-RateLimit-Category"], response.headers["X-RateLimit-Limit"]) == (
        category, limit,
    )  # fmt: skip
    assert response.headers["X-RateLimit-Type"] == "QPS"


def test_daily_limit_until_midnight() -> None:
    """Past a daily limit the answer is 429 Daily-limit with Retry-After at the next 00:00 UTC."""
    _, client, clock = logged_in(account(limits={"daily": {"light": 2}}))
    assert [client.get("/users/LIC1").status_code for _ in range(2)] == [200, 200]
    clock.advance(5)
    refused = client.get("/users/LIC1")
    assert refused.status_code == 429
    assert refused.json()["message"].startswith("You have reached the maximum daily rate limit")
    assert refused.headers["X-RateLimit-Type"] == "Daily-limit"
    assert refused.headers["X-RateLimit-Limit"] == "2"
    retry_at = datetime.strptime(refused.headers["Retry-After"], "%Y-%m-%dT%H:%M:%SZ")
    retry_at = retry_at.replace(tzinfo=UTC)
    assert retry_at.time() == datetime.min.time()
    assert timedelta(0) < retry_at - datetime.now(UTC) <= timedelta(days=1)
    clock.advance(86_400)
    client.headers["Authorization"] = f"Bearer {get_token(client)}"
    assert client.get("/users/LIC1").status_code == 200


# -- faults -----------------------------------------------------------------------------------


def _faulty_run(seed: int) -> tuple[list[str], dict[str, Any], dict[str, int]]:
    """A fixed sequence of requests; what each got and the account after."""
    sandbox, client, _ = logged_in(faults=Faults(error_rate=0.25, drop_rate=0.25, seed=seed))
    outcomes: list[str] = []
    for i in range(40):
        request = (
            ("PATCH", "/users/basic@example.com", {"type": 2 if i % 2 == 0 else 1})
            if i % 3
            else ("GET", "/users/LIC1", None)
        )
        try:
            response = client.request(request[0], request[1], json=request[2])
            outcomes.append(str(response.status_code))
        except httpx.RemoteProtocolError:
            outcomes.append("dropped")
    return outcomes, sandbox.to_dict(), dict(sandbox.stats.faults)


def test_faults_replay_with_seed() -> None:
    """The same seed gives the same faults on the same requests; another seed differs."""
    first, second, other = _faulty_run(7), _faulty_run(7), _faulty_run(8)
    assert first == second
    assert first[0] != other[0]
    outcomes, _, faults = first
    assert {"200", "204", "dropped"} <= set(outcomes)
    assert faults["error"] == sum(o in ("500", "502", "503") for o in outcomes)
    assert faults["drop_before"] + faults["drop_after"] == outcomes.count("dropped")


def test_error_fault_applies_nothing() -> None:
    """An injected 5xx answer leaves the account as it was."""
    sandbox, client, _ = logged_in(faults=Faults(error_rate=1.0))
    response = client.patch("/users/basic@example.com", json={"type": 2})
    assert response.status_code in (500, 502, 503)
    assert response.json()["code"] == response.status_code
    assert (sandbox.stats.writes, sandbox.stats.faults["error"]) == (0, 1)


def test_drops_before_and_after_applying() -> None:
    """Dropped requests applied their change exactly when dropped after applying."""
    sandbox, client, _ = logged_in(faults=Faults(drop_rate=1.0, seed=3))
    for _ in range(20):
        held = next(u["webinar"] for u in sandbox.to_dict()["users"] if u["id"] == "LIC1")
        feature = {"webinar_capacity": 500 if held == 1000 else 1000}
        with pytest.raises(httpx.RemoteProtocolError):
            client.patch("/users/LIC1/settings", json={"feature": feature})
    faults = sandbox.stats.faults
    assert faults["drop_before"] > 0 and faults["drop_after"] > 0
    assert faults["drop_before"] + faults["drop_after"] == 20
    assert len(sandbox.stats.changes) == faults["drop_after"]


def test_latency_is_added() -> None:
    """latency_s delays every answer."""
    _, client, _ = logged_in(faults=Faults(latency_s=0.05))
    started = time.perf_counter()
    client.get("/users/LIC1")
    assert time.perf_counter() - started >= 0.05


# -- persistence ------------------------------------------------------------------------------


@pytest.fixture
def account_file(tmp_path: Path) -> Path:
    """A copy of the demo account in tmp_path."""
    path = tmp_path / "sandbox.json"
    shutil.copyfile(DEMO_ACCOUNT, path)
    return path


def _client(sandbox: Sandbox) -> httpx.Client:
    client = httpx.Client(transport=sandbox.transport(), base_url="https://api.zoom.us/v2")
    client.headers["Authorization"] = f"Bearer {get_token(client)}"
    return client


def test_file_follows_each_change(account_file: Path) -> None:
    """After a change the file holds exactly to_dict(), with no temp file left behind."""
    sandbox = Sandbox.from_file(account_file)
    client = _client(sandbox)
    assert client.patch("/users/ann.smit@example.com/settings",
                        json={"feature": {"large_meeting": False}}).status_code == 204  # fmt: skip
    saved = json.loads(account_file.read_text())
    assert saved == sandbox.to_dict()
    assert (
        next(u for u in saved["users"] if u["email"] == "ann.smit@example.com")["large_meeting"]
        is None
    )
    assert sorted(p.name for p in account_file.parent.iterdir()) == ["sandbox.json"]


def test_no_persist_leaves_file(account_file: Path) -> None:
    """With persist=False the file is never written."""
    before = account_file.read_bytes()
    sandbox = Sandbox.from_file(account_file, persist=False)
    _client(sandbox).patch("/users/ann.smit@example.com", json={"type": 1})
    assert sandbox.stats.writes == 1
    assert account_file.read_bytes() == before


def test_reload_round_trip(account_file: Path) -> None:
    """A saved account loads back to the same account."""
    sandbox = Sandbox.from_file(account_file)
    _client(sandbox).patch("/users/ann.smit@example.com", json={"type": 1})
    assert Sandbox.from_file(account_file, persist=False).to_dict() == sandbox.to_dict()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"account": {"id": "a", "plan": "gold"}}', "account.plan 'gold' is not one of"),
        ('{"account": {"id": "a"}, "users": [{"email": "a@x.com", "type": "Pro"}]}',
         "user a@x.com: type 'Pro' is not Basic, Licensed or On-prem"),
        ('{"account": {"id": "a"}, "users": [{"email": "a@x.com"}, {"email": "A@x.com"}]}',
         "appears twice"),
        ('{"account": {"id": "a"}, "users": [{"email": "a@x.com", "webinar": 500}]}',
         "a Basic user cannot hold webinar"),
        ('{"account": {"id": "a"}, "plans": {"webinar": {"600": 1}}}',
         "plans.webinar: '600' is not a size of webinar"),
        ('{"account": {"id": "a"}, "limits": {"light": 0}}', "limits.light must be"),
    ],
    ids=["bad-json", "unknown-plan", "unknown-type", "duplicate-email", "addon-on-basic",
         "unknown-size", "zero-limit"],
)  # fmt: skip
def test_bad_account_file(tmp_path: Path, content: str, reason: str) -> None:
    """An account file that cannot be used is refused with its path and the reason."""
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(FileRefused) as caught:
        Sandbox.from_file(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert reason in caught.value.reason


# -- real HTTP --------------------------------------------------------------------------------


def test_served_over_http(account_file: Path) -> None:
    """Served on 127.0.0.1, the sandbox answers token, reads and writes like Zoom's hosts."""
    sandbox = Sandbox.from_file(account_file)
    with serve(sandbox) as url, httpx.Client(base_url=f"{url}/v2") as client:
        assert url.startswith("http://127.0.0.1:")
        token = client.post(
            f"{url}/oauth/token",
            data={"grant_type": "account_credentials", "account_id": "sandbox"},
            auth=("id", "secret"),
        ).json()
        assert token["api_url"] == url
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        listing = client.get("/users", params={"page_size": 300})
        assert (listing.status_code, listing.json()["total_records"]) == (200, 45)
        assert listing.headers["X-RateLimit-Category"] == "Medium"
        assert client.patch("/users/ANN.SMIT@example.com", json={"type": 1}).status_code == 204
        assert client.get("/nope").json()["code"] == 2300
    saved = json.loads(account_file.read_text())
    assert (
        next(u for u in saved["users"] if u["email"] == "ann.smit@example.com")["type"] == "Basic"
    )


def test_drop_over_http_closes_connection() -> None:
    """Over HTTP a dropped request ends the connection without an answer."""
    sandbox, client, _ = logged_in(faults=Faults(drop_rate=1.0))
    with serve(sandbox) as url, pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{url}/v2/users", headers={"Authorization": client.headers["Authorization"]})


def test_concurrent_writes_all_saved(account_file: Path) -> None:
    """Concurrent writes over HTTP all reach the file (group commit loses none)."""
    sandbox = Sandbox.from_file(account_file)
    emails = [u["email"] for u in sandbox.to_dict()["users"] if u["type"] == "Licensed"][:16]
    with serve(sandbox) as url:
        token = get_token(httpx.Client(transport=sandbox.transport()))

        def work(email: str) -> None:
            with httpx.Client(base_url=f"{url}/v2",
                              headers={"Authorization": f"Bearer {token}"}) as client:  # fmt: skip
                for name in ("A", "B", "C"):
                    client.patch(f"/users/{email}", json={"dept": f"{name}-{email}"})

        threads = [threading.Thread(target=work, args=(e,)) for e in emails]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    saved = json.loads(account_file.read_text())
    assert saved == sandbox.to_dict()
    assert sandbox.stats.writes == 48
    depts = {u["email"]: u["dept"] for u in saved["users"]}
    assert all(depts[e] == f"C-{e}" for e in emails)

"""Throughput of `batch sandbox serve` with a 10,000-user account saved after every change."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

USERS = 10_000
WRITES = 1_500
CONCURRENCY = 16
REQUIRED_WRITES_PER_S = 150
SERVE = [sys.executable, "-c", "from batch.cli.main import main; main()", "sandbox", "serve"]


def big_account(users: int) -> dict[str, Any]:
    """An account of `users` Licensed users with room to give Webinar 500 to all of them."""
    return {
        "account": {"id": "big", "plan": "business"},
        "plans": {"base": {"hosts": users}, "webinar": {"500": users}},
        "limits": {"light": 10_000, "medium": 10_000, "heavy": 10_000},
        "users": [
            {"email": f"user{i:05d}@example.com", "first_name": "U", "last_name": str(i),
             "dept": "D", "type": "Licensed", "status": "active",
             "large_meeting": None, "webinar": None, "zoom_events": None}
            for i in range(users)
        ],
    }  # fmt: skip


async def _writes(url: str, token: str, count: int) -> float:
    """Send `count` add-on grants with CONCURRENCY requests in flight; returns seconds taken."""
    async with httpx.AsyncClient(
        base_url=f"{url}/v2",
        headers={"Authorization": f"Bearer {token}"},
        limits=httpx.Limits(max_connections=CONCURRENCY),
    ) as client:
        todo = list(range(count))

        async def worker() -> None:
            while todo:
                i = todo.pop()
                response = await client.patch(
                    f"/users/user{i:05d}@example.com/settings",
                    json={"feature": {"webinar": True, "webinar_capacity": 500}},
                )
                assert response.status_code == 204, response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(path: Path, users: int = USERS, writes: int = WRITES) -> tuple[float, float]:
    """(writes per second, server CPU ms per write) for a served account of `users` users."""
    path.write_bytes(orjson.dumps(big_account(users)))
    server = subprocess.Popen([*SERVE, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline())
        assert url is not None
        token = httpx.post(
            f"{url.group(0)}/oauth/token",
            data={"grant_type": "account_credentials", "account_id": "big"},
            auth=("id", "secret"),
        ).json()["access_token"]
        cpu_before = _cpu_seconds(server.pid)
        seconds = asyncio.run(_writes(url.group(0), token, writes))
        cpu_ms = (_cpu_seconds(server.pid) - cpu_before) * 1000 / writes
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    saved = orjson.loads(path.read_bytes())
    assert sum(u["webinar"] == 500 for u in saved["users"]) == writes
    return writes / seconds, cpu_ms


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
def test_ten_thousand_users_sustain_150_writes_per_second(tmp_path: Path) -> None:
    """Served, a 10,000-user account spends under 1/150 s of CPU per saved write."""
    rate, cpu_ms = measure(tmp_path / "big.json")
    print(f"{rate:.0f} writes/s wall, {cpu_ms:.2f} ms server CPU per write")
    assert cpu_ms < 1000 / REQUIRED_WRITES_PER_S


if __name__ == "__main__":  # python tests/test_sandbox_perf.py: print the figures
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        rate, cpu_ms = measure(Path(directory) / "big.json")
    print(
        f"{WRITES} writes, {USERS} users, {CONCURRENCY} in flight: {rate:.0f} writes/s wall, "
        f"{cpu_ms:.2f} ms server CPU per write (= {1000 / cpu_ms:.0f} writes/s per core)"
    )

"""How fast does the client read a big account, against the floor the Medium rate limit sets?

Serves a sandbox account of N users (all active, business plan) over real HTTP on 127.0.0.1,
reads every user with `ZoomClient.list_users`, and prints the seconds taken, the floor
(pages / Medium requests per second), their ratio and the 429s seen by client and sandbox.

With `--addons M` it reads as `batch plan` does: the user list plus the add-on settings of M
Licensed users, chosen user by user, so their reads go on while the pages are listed
(`--sequential`: the listing first, then the reads, as before issue 17); the floor is then
(pages + M) / Medium per second. `--latency-ms` adds that much to every answer (Zoom's pages take
a few hundred ms): a chain of pages slower than the pace leaves Medium slots the reads can use.

The sandbox is served from a child process, as Zoom is another machine: served from a thread
of the client's own process (`--in-process`), the server's work per page and the client's
contend for one GIL and the measurement is of that contention, not of the client.

    python benchmarks/bench_read_account.py --users 100000
    python benchmarks/bench_read_account.py --users 100000 --in-process
    python benchmarks/bench_read_account.py --users 100000 --addons 1000 --latency-ms 100
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

from batch.sandbox import Faults, Sandbox, serve
from batch.zoom import ClientConfig, ZoomClient
from batch.zoom.client import PAGE_SIZE, USER_STATUSES
from batch.zoom.pacing import Category, plan_limits


def account(users: int, plan: str) -> dict[str, Any]:
    """A sandbox account of `users` active users, a tenth of them Licensed."""
    return {
        "account": {"id": "bench", "plan": plan, "on_prem_user_type": False},
        "plans": {"base": {"hosts": users}, "webinar": {"500": 10}},
        "users": [
            {
                "email": f"user{i:06d}@example.com",
                "first_name": "User",
                "last_name": str(i),
                "type": "Licensed" if i % 10 == 0 else "Basic",
                "status": "active",
            }
            for i in range(users)
        ],
    }


def named(users: int, addons: int) -> set[str]:
    """`addons` Licensed users (every tenth user is Licensed) spread evenly over the account."""
    licensed = users // 10
    step = max(licensed // addons, 1) if addons else 0
    return {f"user{i * 10:06d}@example.com" for i in range(0, licensed, step)} if step else set()


async def read(
    base_url: str, plan: str, addons: set[str], sequential: bool
) -> tuple[int, float, ZoomClient]:
    """Read every user (and the add-ons of `addons`); returns (users read, seconds, client)."""
    config = ClientConfig(f"{base_url}/v2", f"{base_url}/oauth/token", None, plan=plan)
    async with ZoomClient(config) as zoom:
        started = time.perf_counter()
        if addons:
            snapshot = await zoom.snapshot(lambda users: addons, per_user=not sequential)
            count = len(snapshot.users)
        else:
            count = len(await zoom.list_users())
        return count, time.perf_counter() - started, zoom


def serve_child(users: int, plan: str, latency_s: float, pipe: Connection) -> None:
    """In a child process: serve the account, send its URL, then its 429 count when told."""
    faults = Faults(latency_s=latency_s)
    sandbox = Sandbox.from_dict(account(users, plan), faults=faults)
    with serve(sandbox) as base_url:
        pipe.send(base_url)
        pipe.recv()  # the reading is over
        pipe.send(sum(sandbox.stats.rate_limited.values()))


@contextmanager
def served(
    users: int, plan: str, in_process: bool, latency_s: float = 0.0
) -> Iterator[tuple[str, Any]]:
    """The served account's URL and a function returning the sandbox's 429 count."""
    if in_process:
        sandbox = Sandbox.from_dict(account(users, plan), faults=Faults(latency_s=latency_s))
        with serve(sandbox) as base_url:
            yield base_url, lambda: sum(sandbox.stats.rate_limited.values())
        return
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=serve_child, args=(users, plan, latency_s, theirs), daemon=True
    )
    child.start()
    try:
        base_url = ours.recv()

        def rate_limited() -> int:
            ours.send("done")
            count: int = ours.recv()
            return count

        yield base_url, rate_limited
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()


def main() -> None:
    """Run the measurement and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--plan", default="business")
    parser.add_argument("--in-process", action="store_true", help="serve from a thread")
    parser.add_argument("--addons", type=int, default=0, help="read the add-ons of N users")
    parser.add_argument("--sequential", action="store_true", help="list first, then read them")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    args = parser.parse_args()

    medium = plan_limits(args.plan)[Category.MEDIUM]
    # One page per 300 active users, plus one (empty) page each for inactive and pending.
    pages = math.ceil(args.users / PAGE_SIZE) + len(USER_STATUSES) - 1
    addons = named(args.users, args.addons)
    floor_s = (pages + len(addons)) / medium
    latency_s = args.latency_ms / 1000
    with served(args.users, args.plan, args.in_process, latency_s) as (base_url, rate_limited):
        count, seconds, zoom = asyncio.run(read(base_url, args.plan, addons, args.sequential))
        server_429s = rate_limited()
    where = "a thread of this process" if args.in_process else "a child process"
    how = "listing first, then the add-ons" if args.sequential else "add-ons while listing"
    print(f"sandbox served by: {where}, {args.latency_ms:g} ms added to each answer")
    print(f"users read:        {count} of {args.users}")
    print(f"add-ons read:      {len(addons)} users ({how})")
    requests = zoom.stats.requests[Category.MEDIUM]
    print(f"requests (Medium): {requests} ({pages} pages + {len(addons)} settings)")
    print(f"seconds:           {seconds:.2f}")
    print(f"floor:             {floor_s:.2f} s ({pages + len(addons)} requests at {medium:g}/s)")
    print(f"ratio to floor:    {seconds / floor_s:.3f}")
    print(f"429s (client):     {zoom.stats.rate_limited}")
    print(f"429s (sandbox):    {server_429s}")
    print(f"retries:           {zoom.stats.retries}")


if __name__ == "__main__":
    main()

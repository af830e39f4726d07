"""How close does the apply step get to Zoom's rate-limit ceilings, both categories at once?

Serves a sandbox account (business plan: Light 80/s, Medium 60/s) over real HTTP on 127.0.0.1
with added latency, in a separate process (as Zoom is: the emulator must not compete with the
client for this process's CPU). Applies N base upgrades (Basic -> Licensed, PATCH /users:
Light) and N add-on grants (Webinar 500 to users already Licensed, PATCH settings: Medium)
through `apply_operations`, journaled in a temporary SQLite file. Prints, per category, the
operations per second while that category was busy as a ratio of its ceiling, the 429s, the
failed lines, and the most writes any user got per category (must be 1).

    python benchmarks/bench_apply.py --ops 10000 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from batch.applying import ChunkProgress, apply_operations
from batch.journal import Journal
from batch.planning.operations import PHASE_ADDONS, PHASE_BASE, Operation
from batch.sandbox import Faults, Sandbox, serve
from batch.vocabulary import Kind, UserType
from batch.zoom import ClientConfig, ZoomClient
from batch.zoom.pacing import Category, plan_limits


def account(ops: int) -> dict[str, Any]:
    """`ops` Basic users to upgrade and `ops` Licensed users to give Webinar 500, seats enough."""
    users = [
        {"email": f"up{i:06d}@example.com", "type": "Basic", "status": "active"} for i in range(ops)
    ] + [
        {"email": f"web{i:06d}@example.com", "type": "Licensed", "status": "active"}
        for i in range(ops)
    ]
    return {
        "account": {"id": "bench", "plan": "business", "on_prem_user_type": False},
        "plans": {"base": {"hosts": 2 * ops + 10}, "webinar": {"500": ops}},
        "users": users,
    }


@dataclass(frozen=True)
class BenchPlan:
    """The two things apply_operations reads of a plan."""

    results: pd.DataFrame
    operations: tuple[Operation, ...]


def plan(ops: int) -> BenchPlan:
    """The operations a planner would make of that file, and their result lines."""
    upgrades = [
        Operation(
            f"up{i:06d}@example.com|type", f"up{i:06d}@example.com", None, "type",
            UserType.LICENSED, {}, PHASE_BASE, None, (i,),
        )
        for i in range(ops)
    ]  # fmt: skip
    grants = [
        Operation(
            f"web{i:06d}@example.com|addons", f"web{i:06d}@example.com", None, "addons",
            None, {Kind.WEBINAR: 500}, PHASE_ADDONS, None, (ops + i,),
        )
        for i in range(ops)
    ]  # fmt: skip
    operations = (*upgrades, *grants)
    results = pd.DataFrame(
        {
            "row": [i + 2 for i in range(2 * ops)],
            "email": [op.email for op in operations],
            "license": ["Licensed"] * ops + ["Webinar 500"] * ops,
            "action": ["assign"] * (2 * ops),
            "outcome": ["planned"] * (2 * ops),
            "code": [""] * (2 * ops),
            "message": [""] * (2 * ops),
            "request": list(range(2 * ops)),
            "kind": ["base"] * ops + ["webinar"] * ops,
        }
    )
    return BenchPlan(results, operations)


async def run(base_url: str, the_plan: BenchPlan, journal: Journal, chunk_size: int) -> Any:
    """Apply the plan; returns (results, client, busy seconds per category)."""
    config = ClientConfig(f"{base_url}/v2", f"{base_url}/oauth/token", None, plan="business")
    finished: dict[str, float] = {}

    def on_chunk(progress: ChunkProgress) -> None:
        finished[progress.category] = time.perf_counter()

    async with ZoomClient(config) as zoom:
        run_id = journal.start_run("bench.csv", "0" * 64, "apply", "apply")
        journal.record_plan(run_id, the_plan.operations)
        started = time.perf_counter()
        results = await apply_operations(
            the_plan, zoom, journal, run_id, chunk_size=chunk_size, on_chunk=on_chunk
        )
        journal.finish_run(run_id, "finished")
    busy = {category: end - started for category, end in finished.items()}
    return results, zoom, busy


def serve_until_eof(ops: int, latency: float) -> None:
    """Child process: serve the account, print the URL, and at EOF on stdin print the stats."""
    sandbox = Sandbox.from_dict(account(ops), faults=Faults(latency_s=latency))
    with serve(sandbox) as base_url:
        print(base_url, flush=True)
        sys.stdin.read()
    writes = Counter((email, field == "type") for email, field, _, _ in sandbox.stats.changes)
    stats = {
        "rate_limited": dict(sandbox.stats.rate_limited),
        "max_writes": max(writes.values(), default=0),
        "user_categories": len(writes),
    }
    print(json.dumps(stats), flush=True)


def main() -> None:
    """Run the measurement and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10_000, help="operations per category")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per answer")
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_until_eof(args.ops, args.latency)
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--ops", str(args.ops), "--latency",
         str(args.latency)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdin is not None and server.stdout is not None
    base_url = server.stdout.readline().strip()
    the_plan = plan(args.ops)
    limits = plan_limits("business")
    load_before = os.getloadavg()[0]
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "journal.sqlite") as journal:
        results, zoom, busy = asyncio.run(run(base_url, the_plan, journal, args.chunk_size))
    load_after = os.getloadavg()[0]
    cpu = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    server.stdin.close()
    stats = json.loads(server.stdout.readline())
    server.wait(timeout=60)
    outcomes = Counter(results["outcome"])
    print(f"operations:        {args.ops} base upgrades + {args.ops} add-on grants")
    print(f"latency added:     {args.latency * 1000:.0f} ms per answer; chunk {args.chunk_size}")
    for category, name, ceiling in (
        ("type", Category.LIGHT, limits[Category.LIGHT]),
        ("addons", Category.MEDIUM, limits[Category.MEDIUM]),
    ):
        sent = zoom.stats.requests[name]
        rate = args.ops / busy[category]
        print(
            f"{name:<7} ({category}):  {args.ops} ops in {busy[category]:.1f} s = {rate:.1f}/s"
            f" = {rate / ceiling:.1%} of {ceiling:g}/s ({sent} requests sent)"
        )
    print(f"429s (client):     {zoom.stats.rate_limited}")
    print(f"429s (sandbox):    {stats['rate_limited']}")
    print(f"retries:           {zoom.stats.retries}")
    print(f"outcomes:          {dict(outcomes)}")
    print(f"failed lines:      {outcomes.get('failed', 0)}")
    print(f"max writes/user/category: {stats['max_writes']} ({stats['user_categories']} seen)")
    print(f"load average:      {load_before:.1f} before, {load_after:.1f} after (2 cores shared)")
    print(f"client CPU:        {cpu:.0%} of one core while applying")


if __name__ == "__main__":
    main()

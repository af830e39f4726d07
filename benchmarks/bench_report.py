"""Time and peak memory of write_report for a large results table.

    python benchmarks/bench_report.py 100000 [--repeat 3] [--problems 0.1] [--out DIR]

Builds a wide file of N users (two extra input columns) and N result lines, a share of them
invalid/failed/skipped (so the Problems sheet is written too), then writes the report and prints
the median wall time and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from batch.model import REQUEST_COLUMNS, AccountSnapshot, AccountUser, LoadedFile, RunInfo, Seats
from batch.report import write_report
from batch.vocabulary import Kind, UserType


def build(n: int, problem_share: float) -> tuple[RunInfo, pd.DataFrame, AccountSnapshot]:
    """A run of n result lines (one per user), `problem_share` of them problems."""
    rng = np.random.default_rng(7)
    rows = np.arange(2, n + 2)
    emails = pd.Series([f"user{i:07d}@example.com" for i in range(n)], dtype=object)
    source = pd.DataFrame(
        {
            "Email": emails.to_numpy(),
            "Webinar": "500",
            "Department": rng.choice(["Sales", "IT", "Finance", "HR"], n),
            "Employee id": [f"E{i}" for i in range(n)],
        },
        index=rows,
    )
    requests = pd.DataFrame(
        {
            "request": np.arange(n), "row": rows, "email": emails, "email_input": emails,
            "column": "Webinar", "raw": "500", "kind": "webinar", "user_type": "",
            "size": 500, "action": "assign",
        },
        columns=list(REQUEST_COLUMNS),
    )  # fmt: skip
    file = LoadedFile(
        name="big.csv",
        sha256="0" * 64,
        layout="wide",
        source=source,
        fields={"email": "Email", "webinar": "Webinar", "department": "Department"},
        extra_columns=("Employee id",),
        requests=requests,
    )
    outcomes = rng.choice(
        ["applied", "unchanged", "invalid", "failed", "skipped"],
        n,
        p=[(1 - problem_share) / 2, (1 - problem_share) / 2, *(3 * [problem_share / 3])],
    )
    problem = np.isin(outcomes, ["invalid", "failed", "skipped"])
    results = pd.DataFrame(
        {
            "row": pd.array(rows, dtype="Int64"), "email": emails, "license": "Webinar 500",
            "action": "assign", "outcome": outcomes, "code": np.where(problem, "no-seats", ""),
            "message": np.where(problem, "not enough free Webinar 500 seats", ""),
            "request": np.arange(n), "kind": "webinar", "user_type": "", "size": 500,
            "done_earlier": False, "previous": "",
        }
    )  # fmt: skip
    users = {
        e: AccountUser(id=str(i), email=e, type=UserType.LICENSED, status="active", dept="X")
        for i, e in enumerate(emails[: min(n, 50_000)])
    }
    before = AccountSnapshot(
        account_id="bench", plan="business", on_prem_available=False, users=users,
        seats={(Kind.BASE, None): Seats(n, len(users)), (Kind.WEBINAR, 500): Seats(n, 0)},
    )  # fmt: skip
    now = datetime.now(UTC)
    run = RunInfo(command="apply", file=file, started=now, finished=now, account_id="bench")
    return run, results, before


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("lines", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--problems", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    run, results, before = build(args.lines, args.problems)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_report_"))
    times, cpu_times = [], []
    for n in range(args.repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        path = write_report(out / f"report-{n}.xlsx", run, results, before=before)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        size_mb = path.stat().st_size / 1e6
        print(f"run {n + 1}: {times[-1]:.2f} s wall, {cpu_times[-1]:.2f} s CPU, {size_mb:.1f} MB")
        path.unlink()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.lines} lines: median {statistics.median(times):.2f} s wall "
        f"({statistics.median(cpu_times):.2f} s CPU) over {args.repeat} runs, "
        f"peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()

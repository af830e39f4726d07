"""Time `plan` on a generated account and file: median of 3 runs per size.

    python benchmarks/bench_plan.py                  # 100k and 1M requests and users
    python benchmarks/bench_plan.py 1000000 --mode sync

One user per request line. The file mixes upgrades, downgrades (with add-ons to remove), add-on
grants, size changes and removals; seats are tight enough that some grants are refused.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from batch.model import AccountSnapshot, SeatKey, Seats, UserTable
from batch.planning import plan
from batch.vocabulary import ADDON_NAMES, ADDONS, Kind, Mode, UserType


def generate(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, AccountSnapshot]:
    """Requests, file-rules results (all valid) and an account of n users."""
    rng = np.random.default_rng(seed)
    emails = [f"user{i}@example.com" for i in range(n)]
    licensed = rng.random(n) < 0.6
    webinar = np.where(licensed & (rng.random(n) < 0.3), 500, 0)
    users = UserTable.from_columns(  # columns, as a million AccountUser objects would be most
        emails,  # of the plan's memory
        {"id": [f"id{i}" for i in range(n)], "status": ["active"] * n,
         "type": np.where(licensed, UserType.LICENSED.value, UserType.BASIC.value),
         "webinar": [int(w) or None for w in webinar]},
    )  # fmt: skip
    kinds = np.array(["base", *(k.value for k in ADDONS)])[rng.integers(0, 4, n)]
    remove = (kinds != "base") & (rng.random(n) < 0.2)
    user_type = np.where(kinds == "base", np.where(licensed, "Basic", "Licensed"), "")
    size = np.where(kinds == "webinar", np.where(rng.random(n) < 0.5, 500, 1000), 500)
    size_col = pd.array(np.where(kinds == "base", 0, size), dtype="Int64")
    size_col[kinds == "base"] = pd.NA
    label = pd.Series(user_type, dtype=object)
    for kind in ADDONS:
        where = kinds == kind.value
        label[where] = [f"{ADDON_NAMES[kind]} {s}" for s in size[where]]
    action = np.where(remove, "remove", "assign")
    requests = pd.DataFrame(
        {"request": np.arange(n), "row": np.arange(n) + 2, "email": emails,
         "email_input": emails, "column": "license", "raw": label, "kind": kinds,
         "user_type": user_type, "size": size_col, "action": action}
    )  # fmt: skip
    results = pd.DataFrame(
        {"row": np.arange(n) + 2, "email": emails, "license": label, "action": action,
         "outcome": "valid", "code": "", "message": "", "request": np.arange(n), "kind": kinds,
         "user_type": user_type, "size": size_col, "done_earlier": False, "previous": ""}
    )  # fmt: skip
    used_base = int(licensed.sum())
    held_500 = int((webinar == 500).sum())
    seats: dict[SeatKey, Seats] = {
        (Kind.BASE, None): Seats(used_base + n // 20, used_base),
        (Kind.WEBINAR, 500): Seats(int((webinar == 500).sum()) + n // 50, held_500),
        (Kind.WEBINAR, 1000): Seats(n // 20, 0),
        (Kind.LARGE_MEETING, 500): Seats(n // 10, 0),
        (Kind.ZOOM_EVENTS, 500): Seats(n // 10, 0),
    }  # fmt: skip
    return requests, results, AccountSnapshot("bench", "business", False, users, seats)


def main() -> None:
    """Print the median time of `plan` per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--mode", choices=[m.value for m in Mode], default="apply")
    args = parser.parse_args()
    for n in args.sizes:
        requests, results, snapshot = generate(n)
        times, cpu = [], []
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            p = plan(requests, results, snapshot, mode=Mode(args.mode),
                     allow_removals_override=True)  # fmt: skip
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        counts = p.results["outcome"].value_counts().to_dict()
        print(
            f"{n:>9,} requests, {len(snapshot.users):,} users ({args.mode}): "
            f"median {statistics.median(times):.2f} s ({statistics.median(cpu):.2f} s CPU), "
            f"{len(p.operations):,} operations, "
            f"{len(p.results):,} result lines {counts}"
        )


if __name__ == "__main__":
    main()

"""Time `check_file` on generated requests tables: median of 3 runs per size.

    python benchmarks/bench_rules.py                 # 100k and 1M requests, ~1% refused
    python benchmarks/bench_rules.py 1000000 --bad 0.25

The generator makes a long-layout file: users with a user type and add-ons, about one line in a
hundred refused by some rule (typo'd emails, unknown words, wrong sizes, repeats, conflicts).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from batch.model import REQUEST_COLUMNS
from batch.rules import check_file
from batch.vocabulary import ADDON_NAMES, ADDON_SIZES, ADDONS


def generate(n: int, bad: float = 0.01, seed: int = 0) -> pd.DataFrame:
    """A requests table of n lines, about `bad` of them refused by a file rule."""
    rng = np.random.default_rng(seed)
    # user i // 4 asks for Licensed and the three add-ons, in a shuffled order
    order = rng.permutation(n)
    email = pd.Series([f"user{i // 4}@example.com" for i in order], dtype="str")
    kinds = np.array(["base", *(k.value for k in ADDONS)])
    kind = kinds[order % 4]
    # a user's base line always says Licensed, so add-ons meet their prerequisite
    user_type = np.where(kind == "base", "Licensed", "")
    size = np.zeros(n, dtype="int64")
    for addon in ADDONS:
        where = kind == addon.value
        size[where] = ADDON_SIZES[addon][0]
    raw = np.where(kind == "base", "Licensed", "")
    for addon in ADDONS:
        raw = np.where(kind == addon.value, f"{ADDON_NAMES[addon]} {ADDON_SIZES[addon][0]}", raw)
    table = pd.DataFrame(
        {
            "request": np.arange(n),
            "row": np.arange(n) + 2,
            "email": email,
            "email_input": email,
            "column": "License",
            "raw": pd.Series(raw, dtype="str"),
            "kind": pd.Series(kind, dtype="str"),
            "user_type": pd.Series(user_type, dtype="str"),
            "size": pd.array(np.where(kind == "base", -1, size), dtype="Int64"),
            "action": "assign",
        }
    )
    table.loc[table["kind"] == "base", "size"] = pd.NA
    spoiled = rng.choice(n, int(n * bad), replace=False)
    for offset, (column, value) in enumerate(
        [("email", "user at example"), ("kind", ""), ("size", 750), ("user_type", "Basic")]
    ):
        at = spoiled[offset::4]
        table.loc[at, column] = value
    return table.loc[:, list(REQUEST_COLUMNS)].astype({"size": "Int64"})


def main() -> None:
    """Print the median time of check_file per size (CPU time too: the machine is shared)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--bad", type=float, default=0.01)
    args = parser.parse_args()
    for n in args.sizes:
        requests = generate(n, args.bad)
        wall, cpu = [], []
        for _ in range(3):
            started, started_cpu = time.perf_counter(), time.process_time()
            results = check_file(requests)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        counts = results["outcome"].value_counts().to_dict()
        print(
            f"{n:>9} requests: median {statistics.median(wall):.2f} s wall,"
            f" {statistics.median(cpu):.2f} s CPU  {counts}"
        )


if __name__ == "__main__":
    main()

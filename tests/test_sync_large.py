"""Sync files of many lines end with a report: the report writer takes any pandas column.

A sync plan's results are concatenated tables whose text columns pyarrow sees as chunked
arrays; the report writer must build its columns from them like from any other.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest

from tests.accounts import account, numbered, write_account

if TYPE_CHECKING:
    from tests.conftest import Workspace


def _account(path: Path, users: int) -> None:
    """An account of `users` Basic users and three Licensed ones, `lic0..2@example.com`.

    Basic users hold no add-ons, so reading the account is a user list, not a read per user.
    """
    people = numbered("user{:06d}@example.com", users, "Basic", first_name="U", dept="Sales")
    people += numbered("lic{}@example.com", 3, "Licensed", first_name="L", dept="IT")
    empty: dict[str, dict[str, int]] = {"large_meeting": {}, "webinar": {}, "zoom_events": {}}
    write_account(path, account(people, plans=empty, account_id="big"))  # 3 seats: lic0..2


def _sync_file(path: Path, users: int) -> None:
    """A sync file that keeps every Basic user Basic: the three Licensed ones lose theirs."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Email", "User type"])
        for i in range(users):
            writer.writerow([f"user{i:06d}@example.com", "Basic"])


def _outcomes(report: Path) -> list[str]:
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        rows = workbook["Results"].iter_rows(values_only=True)
        header = list(next(rows))
        at = header.index("Outcome")
        return [str(row[at]) for row in rows]
    finally:
        workbook.close()


@pytest.mark.parametrize(
    ("users", "command"),
    [
        pytest.param(1_000, "apply", id="apply-1k"),
        pytest.param(1_000, "plan", id="plan-1k"),
        pytest.param(100_000, "apply", id="apply-100k", marks=pytest.mark.slow),
    ],
)
def test_sync_of_many_lines_writes_its_report(ws: Workspace, users: int, command: str) -> None:
    """`--mode sync` over more than 64 result lines ends with a report of every line."""
    _account(ws.account, users)
    source = ws.root / "sync.csv"
    _sync_file(source, users)
    report = ws.root / "sync.xlsx"
    run = ws.run(
        command, source, "--mode", "sync", "--max-removals", "3", "--sandbox", ws.account,
        "--report", report, "--log-format", "json", timeout=1200,
    )  # fmt: skip
    assert run.code == 0, run.stderr[-2000:]
    outcomes = _outcomes(report)
    done = "applied" if command == "apply" else "planned"
    assert outcomes.count("unchanged") == users
    assert outcomes.count(done) == 3
    assert len(outcomes) == users + 3
    licensed = [u for u in json.loads(ws.account.read_bytes())["users"] if u["type"] == "Licensed"]
    assert len(licensed) == (0 if command == "apply" else 3)

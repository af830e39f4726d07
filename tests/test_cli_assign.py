"""`batch assign EMAIL LICENSE... [--remove LICENSE...]`: one user, every rule of the file path.

Each case runs `batch assign` and `batch apply` of the same lines as a long-layout file, each on
its own copy of the demo account, and expects the same outcomes and codes in both reports.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest
from click.testing import CliRunner

from batch.cli.main import cli
from batch.delivery.lock import account_lock
from batch.sandbox import DEMO_ACCOUNT
from batch.settings import Settings

if TYPE_CHECKING:
    from tests.conftest import Workspace

# (assign arguments, the result's license and outcome and code per line, exit code)
CASES = [
    (["eline.debruijn@example.com", "Licensed", "Zoom Events"],
     [("Licensed", "applied", ""), ("Zoom Events 500", "applied", "")], 0),
    (["eline.debruijn@example.com", "Webinar 500"],
     [("Webinar 500", "invalid", "missing-prerequisite")], 1),
    (["gijs.deboer@example.com", "Webinar 500", "Webinar 1000"],
     [("Webinar 500", "invalid", "not-stackable"),
      ("Webinar 1000", "invalid", "not-stackable")], 1),
    (["gijs.deboer@example.com", "Webinar"], [("Webinar", "invalid", "size-ambiguous")], 1),
    (["gijs.deboer@example.com", "Webinar 3000"],
     [("Webinar 3000", "invalid", "size-not-owned")], 1),
    (["gijs.deboer@example.com", "Webinar 1000"], [("Webinar 1000", "invalid", "no-seats")], 1),
    (["nobody@example.com", "Licensed"], [("Licensed", "invalid", "user-not-found")], 1),
    (["gijs.deboer@example.com", "Gold"], [("Gold", "invalid", "unknown-license")], 1),
    (["gijs.deboer@example.com", "On-prem"], [("On-prem", "invalid", "onprem-unavailable")], 1),
    (["ann.smit@example.com", "--remove", "Large Meeting"],
     [("Large Meeting 500", "applied", "")], 0),
    (["femke.meijer@example.com", "Webinar 500"], [("Webinar 500", "unchanged", "")], 0),
]  # fmt: skip
IDS = [
    "upgrade-and-only-owned-size", "missing-prerequisite", "not-stackable", "size-ambiguous",
    "size-not-owned", "no-seats", "user-not-found", "unknown-license", "onprem-unavailable",
    "remove-without-size", "unchanged",
]  # fmt: skip


def invoke(tmp: Path, *args: str) -> tuple[int, str]:
    """`batch ARGS` in this process against tmp/account.json; (exit code, stdout)."""
    common = ["--sandbox", str(tmp / "account.json"), "--journal", str(tmp / "journal.sqlite")]
    result = CliRunner().invoke(cli, [*args, *common, "-q"], catch_exceptions=False)
    return result.exit_code, result.output


def result_lines(report: Path) -> list[tuple[str, str, str]]:
    """(License, Outcome, Code) of every Results line."""
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        rows = list(workbook["Results"].iter_rows(values_only=True))
    finally:
        workbook.close()
    head = list(rows[0])
    at = [head.index(name) for name in ("License", "Outcome", "Code")]
    cells = [[str(row[i] or "") if i < len(row) else "" for i in at] for row in rows[1:]]
    return [(license, outcome, code) for license, outcome, code in cells]


def as_file(args: list[str], path: Path) -> Path:
    """The assign arguments as the long-layout file an admin would write."""
    email, rest = args[0], args[1:]
    rows, remove = [], False
    for word in rest:
        if word == "--remove":
            remove = True
            continue
        rows.append([email, word, "remove" if remove else "assign"])
    with path.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows([["Email", "License", "Action"], *rows])
    return path


@pytest.mark.parametrize(("args", "expected", "code"), CASES, ids=IDS)
def test_assign_has_the_file_paths_rules(
    tmp_path: Path, args: list[str], expected: list[tuple[str, str, str]], code: int
) -> None:
    """assign gives the same outcomes and codes as apply of the same lines, and its exit code."""
    one, two = tmp_path / "assign", tmp_path / "apply"
    for folder in (one, two):
        folder.mkdir()
        shutil.copyfile(DEMO_ACCOUNT, folder / "account.json")
    exit_code, out = invoke(one, "assign", *args, "--report", str(one / "r.xlsx"))
    assert exit_code == code, out
    assert result_lines(one / "r.xlsx") == expected
    lines = [line for line in out.splitlines() if line.startswith(args[0])]
    assert len(lines) == 1 and all(outcome in lines[0] for _, outcome, _ in expected)
    file = as_file(args, two / "lines.csv")
    exit_apply, _ = invoke(two, "apply", str(file), "--report", str(two / "r.xlsx"))
    assert (exit_apply, result_lines(two / "r.xlsx")) == (exit_code, expected)
    assert json.loads((one / "account.json").read_text()) == json.loads(
        (two / "account.json").read_text()
    )


def test_assign_changes_the_account_and_journals(tmp_path: Path) -> None:
    """An applied assign changes the user, writes no report without --report, and is journaled."""
    shutil.copyfile(DEMO_ACCOUNT, tmp_path / "account.json")
    floor_email = "floor.dejong@example.com"
    exit_code, out = invoke(tmp_path, "assign", floor_email, "Licensed", "Zoom Events")
    assert exit_code == 0
    assert "Report:" not in out
    users = json.loads((tmp_path / "account.json").read_text())["users"]
    floor = next(u for u in users if u["email"] == "floor.dejong@example.com")
    assert (floor["type"], floor["zoom_events"]) == ("Licensed", 500)
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        runs = db.execute("SELECT file_name, status FROM runs").fetchall()
        ops = db.execute("SELECT email, state FROM ops").fetchall()
    assert runs == [("assign-floor.dejong@example.com.csv", "finished")]
    assert sorted(ops) == [("floor.dejong@example.com", "applied")] * 2


def test_assign_without_licenses_is_refused(tmp_path: Path) -> None:
    """No LICENSE and no --remove: exit 2 with one Error line, nothing read or changed."""
    shutil.copyfile(DEMO_ACCOUNT, tmp_path / "account.json")
    result = CliRunner().invoke(
        cli,
        ["assign", "ann.smit@example.com", "--sandbox", str(tmp_path / "account.json"),
         "--log-format", "text"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Error: assign: name at least one LICENSE" in result.output


def test_assign_waits_for_no_one_when_the_lock_is_held(ws: Workspace) -> None:
    """While another run holds the account's lock, assign exits 75 at once and changes nothing."""
    before = ws.account.read_bytes()
    with account_lock(Settings(sandbox_path=ws.account), command="batch inbox in"):
        run = ws.run_process(  # the lock is held by this process: the run must be another
            "assign", "eline.debruijn@example.com", "Licensed", "--sandbox", ws.account,
            "--log-format", "text",
        )  # fmt: skip
    assert run.code == 75
    assert any("holds the lock" in line for line in run.errors)
    assert ws.account.read_bytes() == before

"""One writer per account: concurrent runs on one account, real processes, a real lock.

Applies and inboxes on the same account take its lock (`--wait` waits for it, otherwise exit
75 at once); each run writes its own report, whatever the second it started in.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from batch.vocabulary import EXIT_LOCKED
from tests.conftest import Workspace

if TYPE_CHECKING:
    from tests.conftest import Holding
    from tests.forked import ForkedBatch

# A process that holds the lock of the sandbox file argv[1] until it is killed.
HOLD_ACCOUNT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from batch.delivery.lock import account_lock
    from batch.settings import Settings
    with account_lock(Settings(sandbox_path=Path(sys.argv[1])), command="batch assign"):
        print("held", flush=True)
        time.sleep(120)
    """
)


def _report(stdout: str) -> Path:
    (line,) = [line for line in stdout.splitlines() if line.startswith("Report: ")]
    return Path(line.removeprefix("Report: "))


def _in_order(ws: Workspace) -> list[str]:
    """The files the journal's runs applied, in the order they took the lock."""
    with sqlite3.connect(ws.root / ".batch" / "journal.sqlite") as db:
        return [name for (name,) in db.execute("SELECT file_name FROM runs ORDER BY run_id")]


def _one_after_the_other(ws: Workspace, names: list[str]) -> tuple[dict[str, Holding], int]:
    """The account and the number of applied lines after applying `names` in turn, alone."""
    (ws.root / "alone").mkdir()
    alone = Workspace(ws.root / "alone")
    applied = 0
    for name in names:
        run = alone.run("apply", ws.sample(name), "--sandbox", alone.account)
        applied += sum(1 for line in alone.results(alone.root / _report(run.stdout))
                       if line[3] == "applied")  # fmt: skip
    return alone.holdings(), applied


def _finish(process: ForkedBatch) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=180)
    return process.returncode, stdout, stderr


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(("users-wide-en.csv", "users-wide-en.csv"), id="same-file"),
        pytest.param(("users-wide-en.csv", "licenses-long.xlsx"), id="different-files"),
    ],
)
def test_concurrent_applies_wait_for_each_other(ws: Workspace, files: tuple[str, str]) -> None:
    """Two applies on one sandbox file with `--wait` run one after the other: the account
    holds both files' changes and each run has its own report."""
    processes = [
        ws.start("apply", ws.sample(name), "--sandbox", ws.account, "--wait", "120")
        for name in files
    ]
    finished = [_finish(p) for p in processes]
    assert [code for code, _, _ in finished] == [1, 1], [err for _, _, err in finished]
    reports = {ws.root / _report(out) for _, out, _ in finished}
    assert len(reports) == 2 and all(r.is_file() for r in reports)
    applied = sum(1 for report in reports for line in ws.results(report) if line[3] == "applied")
    assert (ws.holdings(), applied) == _one_after_the_other(ws, _in_order(ws))
    assert not list(ws.root.rglob("*.tmp"))


def test_apply_while_the_account_is_locked_exits_75_at_once(ws: Workspace) -> None:
    """An apply on a sandbox file another process holds exits 75 at once, naming the holder,
    and changes nothing."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_ACCOUNT, str(ws.account)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        began = time.monotonic()
        run = ws.run("apply", ws.sample("users-wide-en.csv"), "--sandbox", ws.account,
                     "--log-format", "text")  # fmt: skip
        elapsed = time.monotonic() - began
    finally:
        holder.kill()
        holder.communicate()
    assert run.code == EXIT_LOCKED
    (error,) = run.errors
    assert f"pid {holder.pid} " in error and "(batch assign)" in error
    assert f"sandbox file {ws.account.resolve()}" in error
    assert elapsed < 60  # not the holder's 120 s
    assert ws.holdings() == ws.expected()
    assert not (ws.root / "reports").exists()


def test_apply_waits_for_a_holder_that_lets_go(ws: Workspace) -> None:
    """`--wait` outlasts a holder that ends: the apply then runs and changes the account."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_ACCOUNT, str(ws.account)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    waiting = ws.start("apply", ws.sample("users-wide-en.csv"), "--sandbox", ws.account,
                       "--wait", "120")  # fmt: skip
    time.sleep(2)
    assert waiting.poll() is None  # still waiting for the lock
    holder.kill()
    holder.communicate()
    code, _, stderr = _finish(waiting)
    assert code == 1, stderr
    assert ws.holdings() == ws.expected("users-wide-en.csv")


def test_apply_and_inbox_on_one_account_both_apply_once(ws: Workspace) -> None:
    """An inbox and an apply started together on one sandbox file (both `--wait`) each apply
    their file once: the account holds both files' changes."""
    inbox = ws.root / "inbox"
    inbox.mkdir()
    shutil.copyfile(ws.sample("licenses-long.xlsx"), inbox / "licenses-long.xlsx")
    config = ws.root / "batch.toml"
    config.write_text("[inbox]\nsettle_s = 0\n")
    processes = [
        ws.start("inbox", "inbox", "--config", config, "--sandbox", ws.account, "--wait", "120"),
        ws.start("apply", ws.sample("users-wide-en.csv"), "--sandbox", ws.account,
                 "--wait", "120"),
    ]  # fmt: skip
    finished = [_finish(p) for p in processes]
    assert [code for code, _, _ in finished] == [1, 1], [err for _, _, err in finished]
    assert sorted(_in_order(ws)) == ["licenses-long.xlsx", "users-wide-en.csv"]
    assert ws.holdings() == _one_after_the_other(ws, _in_order(ws))[0]
    processed = sorted(p.name for p in (inbox / "archive" / "processed").iterdir())
    assert any(re.fullmatch(r"\d{8}T\d{6}Z-licenses-long-report\.xlsx", n) for n in processed)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("input", id="the-input-file"),
        pytest.param("/dev/null", id="a-device-node"),
    ],
)
def test_report_target_that_is_not_a_report_file_is_refused(ws: Workspace, target: str) -> None:
    """`--report` naming the input file or a device node exits 2 before anything
    is sent; the input file is untouched."""
    source = ws.root / "users.csv"
    shutil.copyfile(ws.sample("users-wide-en.csv"), source)
    report = str(source) if target == "input" else target
    run = ws.run("apply", source, "--sandbox", ws.account, "--report", report,
                 "--log-format", "text")  # fmt: skip
    assert run.code == 2
    assert len(run.stderr.strip().splitlines()) == 1 and "--report" in run.stderr
    assert source.read_bytes() == ws.sample("users-wide-en.csv").read_bytes()
    assert ws.holdings() == ws.expected()


def test_default_report_names_never_overwrite(ws: Workspace) -> None:
    """A default report name already taken (a run of the same file in the same second) is
    left as it was: the report goes to `<name>-2.xlsx`."""
    reports = ws.root / "reports"
    reports.mkdir()
    now = datetime.now(UTC)
    taken = [
        reports / f"users-wide-en-{now + timedelta(seconds=s):%Y%m%dT%H%M%SZ}.xlsx"
        for s in range(-1, 60)
    ]
    for path in taken:
        path.write_bytes(b"keep me")
    run = ws.run("validate", ws.sample("users-wide-en.csv"), "--log-format", "text")
    assert run.code == 1
    report = ws.root / _report(run.stdout)
    assert report.parent == reports and report.name.endswith("Z-2.xlsx")
    assert ws.results(report)
    assert all(path.read_bytes() == b"keep me" for path in taken)

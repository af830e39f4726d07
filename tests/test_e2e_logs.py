"""A run stopped by Zoom's daily limit, as a log collector reads its stderr.

Every `ws.run` with `--log-format json` already checks that each stderr line is a JSON event
(conftest.assert_json_lines); these runs take the road where library log records (the runner's
stop, the client's verdict) used to come out as plain text among the JSON lines.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest

if TYPE_CHECKING:
    from conftest import Workspace

SAMPLE = "users-wide-en.csv"


def _daily_limit(ws: Workspace, light: int) -> None:
    """Give the workspace account a daily cap of `light` Light requests (PATCH /users/{id})."""
    data = json.loads(ws.account.read_bytes())
    data["limits"] = {"daily": {"light": light}}
    ws.account.write_text(json.dumps(data, indent=1))


def _events(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines()]


@pytest.mark.parametrize("command", ["apply", "inbox"], ids=str)
def test_daily_limit_stop_writes_only_json_lines(ws: Workspace, command: str) -> None:
    """A run stopped by the daily limit exits 3; its stop is told in JSON events, and no
    stderr line is plain text."""
    _daily_limit(ws, light=2)
    if command == "inbox":
        inbox = ws.root / "inbox"
        inbox.mkdir()
        shutil.copyfile(ws.sample(SAMPLE), inbox / SAMPLE)
        target = inbox
    else:
        target = ws.sample(SAMPLE)
    run = ws.run(command, target, "--sandbox", ws.account, "--yes", "--log-format", "json")
    assert run.code == 3, run.stderr[-2000:]
    events = _events(run.stderr)  # ws.run checked that each line is a JSON event
    logged = [e for e in events if e["event"] == "log"]
    assert any("daily limit" in str(e["message"]) for e in logged)
    assert all(e["level"] in ("warning", "error") for e in logged)
    errors = [str(e.get("message") or e.get("error")) for e in events if e["level"] == "error"]
    assert any("daily limit" in text for text in errors), errors


def test_daily_limit_stop_in_text_mode_has_no_bare_lines(ws: Workspace) -> None:
    """With `--log-format text` the same stop reads as timestamped `LEVEL event` lines too."""
    _daily_limit(ws, light=2)
    run = ws.run(
        "apply", ws.sample(SAMPLE), "--sandbox", ws.account, "--yes", "--log-format", "text"
    )
    assert run.code == 3
    lines = run.stderr.splitlines()
    logged = [line for line in lines if " log " in line]
    assert logged and all(line[:4].isdigit() for line in logged)
    assert not any(line.startswith("stopping the run") for line in lines)


def test_a_cell_the_workbook_reader_panics_on_leaves_only_json_lines(ws: Workspace) -> None:
    """A date cell holding -1E12 makes the workbook reader's Rust side panic, which writes its
    own lines to stderr (with RUST_BACKTRACE set, a backtrace of 60): the run still writes one
    JSON event per line, the refusal among them, and exits 2."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Email", "User type", "Licensed since"])
    sheet.append(["ann@example.com", "Licensed", -1e12])
    sheet["C2"].number_format = "yyyy-mm-dd"
    path = ws.root / "users.xlsx"
    book.save(path)
    run = ws.run_process("validate", path, "--log-format", "json", env={"RUST_BACKTRACE": "1"})
    assert run.code == 2, run.stderr[-2000:]
    assert "panicked" not in run.stderr
    errors = [e for e in _events(run.stderr) if e["level"] == "error"]
    assert any("a cell cannot be read" in str(e.get("message")) for e in errors), errors

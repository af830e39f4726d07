"""Failures around an apply end with one clear line, never a traceback, and lose nothing.

After the first write the report of what was done is written, or, when it cannot be, the
journal says it all and `batch report --run ID` rebuilds it. Before any write a bad journal or
API URL is refused (exit 2).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest

from batch.vocabulary import EXIT_INPUT, EXIT_INTERNAL

if TYPE_CHECKING:
    from tests.conftest import Served, Workspace
    from tests.mailserver import Mailbox


def _sheet(report: Path, name: str) -> list[tuple[Any, ...]]:
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        return [tuple(row) for row in workbook[name].iter_rows(values_only=True)]
    finally:
        workbook.close()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_report_that_cannot_be_written_after_applying(ws: Workspace, log_format: str) -> None:
    """A report that cannot be written after the changes are made: exit 70, one error line
    naming the journal and `batch report --run`, which then writes the report of the run."""
    (ws.root / "not-a-folder").write_text("a file where the report's folder should be")
    run = ws.run("apply", ws.sample("users-wide-en.csv"), "--sandbox", ws.account,
                 "--report", "not-a-folder/report.xlsx", "--log-format", log_format)  # fmt: skip
    assert run.code == EXIT_INTERNAL
    assert "Traceback" not in run.stderr
    if log_format == "json":
        events = [json.loads(line) for line in run.stderr.splitlines()]
        (error,) = [e for e in events if e["level"] == "error"]
        message = error["message"]
        assert error["exit_code"] == EXIT_INTERNAL
    else:
        (message,) = run.errors
    found = re.search(r"`batch report --run (\d+) --journal (\S+)`", message)
    assert found is not None, message
    assert ws.holdings() == ws.expected("users-wide-en.csv")  # the changes were made

    rebuilt = ws.run("report", "--run", found[1], "--journal", found[2], "--report", "run.xlsx")
    assert (rebuilt.code, rebuilt.stdout) == (0, "Report: run.xlsx\n")
    changes = _sheet(ws.root / "run.xlsx", "Changes")
    assert changes[0][:4] == ("Email", "Change", "Category", "State")
    assert len(changes) - 1 == 9 and {row[3] for row in changes[1:]} == {"applied"}
    assert ("Status", "finished") in _sheet(ws.root / "run.xlsx", "Summary")


def test_report_of_an_unknown_run_is_refused(ws: Workspace) -> None:
    """`batch report` for a journal that does not hold the run exits 2 with one line."""
    ws.run("apply", ws.sample("users-wide-en.csv"), "--sandbox", ws.account)
    run = ws.run("report", "--run", "7")
    assert (run.code, run.errors) == (
        EXIT_INPUT,
        ["Error: journal .batch/journal.sqlite: has no run 7"],
    )


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (id INTEGER, what TEXT)")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.write_bytes(b"not a database\x00" * 100), id="corrupt"),
        pytest.param(_foreign, id="foreign-schema"),
    ],
)
def test_journal_that_is_not_ours_is_refused_before_any_change(ws: Workspace, make: Any) -> None:
    """A corrupt or foreign-schema journal file: exit 2, one line naming it, nothing sent."""
    journal = ws.root / "journal.sqlite"
    make(journal)
    before = journal.read_bytes()
    run = ws.run("apply", ws.sample("users-wide-en.csv"), "--sandbox", ws.account,
                 "--journal", journal, "--log-format", "text")  # fmt: skip
    assert run.code == EXIT_INPUT
    assert "Traceback" not in run.stderr
    (error,) = run.errors
    assert error.startswith(f"Error: journal {journal}: not a batch journal")
    assert ws.holdings() == ws.expected()
    assert journal.read_bytes() == before
    assert not (ws.root / "reports").exists()


def test_api_url_without_v2_is_refused(ws: Workspace, served: Served) -> None:
    """An `--api-url` that is a host without `/v2`: exit 2, one line saying what to give."""
    run = ws.run("apply", ws.sample("users-wide-en.csv"), "--api-url", served.url,
                 "--log-format", "text")  # fmt: skip
    assert run.code == EXIT_INPUT
    assert "Traceback" not in run.stderr
    (error,) = run.errors
    assert f"API URL {served.url}: is not an API base ending in /v2" in error
    assert served.write_requests() == 0


def test_file_name_with_cr_lf_is_mailed_in_one_subject(
    ws: Workspace, mail_server: tuple[Mailbox, int]
) -> None:
    """A file named with CR/LF (a header injection) is applied, reported and mailed to the
    configured recipient only, its name kept on one subject line."""
    box, port = mail_server
    name = "users\r\nBcc: thief@example.com.csv"
    shutil.copyfile(ws.sample("users-wide-en.csv"), ws.root / name)
    config = ws.root / "batch.toml"
    config.write_text(
        f'[mail]\nhost = "127.0.0.1"\nport = {port}\nsender = "batch@example.com"\n'
        'recipients = ["finance@example.com"]\n'
    )
    run = ws.run("apply", name, "--sandbox", ws.account, "--config", config, "--log-format", "text")
    assert run.code == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and run.errors == []
    (mail,) = box.mails
    recipients, message = mail.recipients, mail.raw
    assert recipients == ["finance@example.com"]
    headers = message.split(b"\r\n\r\n", 1)[0].decode()
    assert not re.search(r"^Bcc:", headers, re.MULTILINE)
    assert ws.holdings() == ws.expected("users-wide-en.csv")
    (report,) = (ws.root / "reports").iterdir()
    assert "\r" not in report.name and "\n" not in report.name

"""The inbox loop: which files it takes, where they and their reports end up, the exit code."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from batch.delivery import FileOutcome, RunSummary
from batch.delivery.inbox import run_inbox
from batch.errors import FileRefused, InputError, LockHeld
from batch.output import Output
from batch.sandbox import DEMO_ACCOUNT
from batch.settings import MailSettings, Settings
from tests.mailserver import Mailbox, free_port

NOW = datetime(2026, 11, 27, 22, 58, 0, tzinfo=UTC)
STAMP = "20261127T225800Z"


@dataclass
class FakePipeline:
    """A test double of the apply pipeline: the file's text says which exit code it ends with.

    `exit=N` ends with N and a report; `raise` raises an unexpected error; `refuse` raises
    FileRefused (exit 2). It writes the report where the settings say, as the pipeline does.
    """

    calls: list[tuple[str, Path]] = field(default_factory=list)

    def __call__(self, path: Path, settings: Settings) -> FileOutcome:
        assert path.parent.parent.name == ".processing"  # never read from the inbox itself
        assert settings.report_path is not None
        self.calls.append((path.name, settings.report_path))
        text = path.read_text().strip()
        if text == "raise":
            raise RuntimeError("pipeline bug")
        if text == "refuse":
            raise FileRefused(path.name, "not a spreadsheet")
        code = int(text.removeprefix("exit="))
        settings.report_path.write_bytes(b"report of " + path.name.encode())
        summary = RunSummary(path.name, "inbox", True, "sandbox", {"applied": 3}, (), code,
                             settings.report_path)  # fmt: skip
        return FileOutcome(code, settings.report_path, summary, None)


def drop(inbox: Path, name: str, text: str, age_s: int) -> Path:
    """A file in the inbox, last modified `age_s` seconds ago."""
    path = inbox / name
    path.write_text(text)
    stamp = NOW.timestamp() - age_s
    os.utime(path, (stamp, stamp))
    return path


def leave_job(archive: Path, stamp: str, name: str, data: bytes, *, attempts: int = 0,
              recorded: bytes | None = None) -> Path:  # fmt: skip
    """A job folder as a killed run leaves it: the copy and the record of what was read."""
    job = archive / ".processing" / f"{stamp}-{name}"
    job.mkdir(parents=True)
    (job / name).write_bytes(data)
    read = data if recorded is None else recorded
    source = {"name": name, "size": len(read), "sha256": hashlib.sha256(read).hexdigest(),
              "attempts": attempts}  # fmt: skip
    (job / ".source.json").write_bytes(orjson.dumps(source))
    return job


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative path -> text)."""
    return {
        str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@dataclass
class Run:
    code: int
    events: list[dict[str, Any]]


def run(
    tmp_path: Path,
    pipeline: FakePipeline,
    *,
    settle_s: float = 0,
    sleep: Any = None,
    settings: Settings | None = None,
) -> Run:
    stream = io.StringIO()
    settings = settings or Settings(journal_path=tmp_path / "state" / "journal.sqlite")
    code = run_inbox(
        tmp_path / "inbox",
        tmp_path / "inbox" / "archive",
        replace(settings, settle_s=settle_s),
        pipeline,
        output=Output("json", stream=stream),
        now=lambda: NOW,
        sleep=sleep or (lambda s: None),
    )
    return Run(code, [orjson.loads(line) for line in stream.getvalue().splitlines()])


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_files_are_archived_with_their_reports(tmp_path: Path, inbox: Path) -> None:
    """Each file goes to processed/ or failed/ with a UTC stamp, its report beside it."""
    drop(inbox, "b.xlsx", "exit=1", age_s=20)
    drop(inbox, "a.csv", "exit=0", age_s=30)
    drop(inbox, "c.CSV", "exit=2", age_s=10)
    drop(inbox, "d.csv", "raise", age_s=5)
    drop(inbox, "e.csv", "refuse", age_s=1)
    pipeline = FakePipeline()
    result = run(tmp_path, pipeline)
    assert [name for name, _ in pipeline.calls] == ["a.csv", "b.xlsx", "c.CSV", "d.csv", "e.csv"]
    assert result.code == 2
    assert tree(inbox) == {
        f"archive/processed/{STAMP}-a.csv": "exit=0",
        f"archive/processed/{STAMP}-a-report.xlsx": "report of a.csv",
        f"archive/processed/{STAMP}-b.xlsx": "exit=1",
        f"archive/processed/{STAMP}-b-report.xlsx": "report of b.xlsx",
        f"archive/failed/{STAMP}-c.CSV": "exit=2",
        f"archive/failed/{STAMP}-c.CSV.reason.txt":
            f"file: c.CSV\nreason: exit 2: see the report {STAMP}-c-report.xlsx\n",
        f"archive/failed/{STAMP}-c-report.xlsx": "report of c.CSV",
        f"archive/failed/{STAMP}-d.csv": "raise",
        f"archive/failed/{STAMP}-d.csv.reason.txt":
            "file: d.csv\nreason: RuntimeError: pipeline bug\n",
        f"archive/failed/{STAMP}-e.csv": "refuse",
        f"archive/failed/{STAMP}-e.csv.reason.txt":
            "file: e.csv\nreason: e.csv: not a spreadsheet\n",
    }
    failed = [(e["file"], e["exit_code"], e["error"]) for e in result.events if e.get("error")]
    assert failed == [
        (f"{STAMP}-d.csv", 2, "RuntimeError: pipeline bug"),
        (f"{STAMP}-e.csv", 2, "e.csv: not a spreadsheet"),
    ]


@pytest.mark.parametrize(
    ("codes", "expected"),
    [([], 0), ([0, 0], 0), ([0, 1], 1), ([1, 4, 0], 4), ([3], 3)],
    ids=["empty", "all-fine", "some-rows", "safety-limit", "account"],
)
def test_exit_code_is_the_worst(
    tmp_path: Path, inbox: Path, codes: list[int], expected: int
) -> None:
    """The run's exit code is the highest of its files', 0 for an empty inbox (logged)."""
    for i, code in enumerate(codes):
        drop(inbox, f"f{i}.csv", f"exit={code}", age_s=10 - i)
    result = run(tmp_path, FakePipeline())
    assert result.code == expected
    last = result.events[-1]
    assert (last["event"], last["status"]) == ("inbox", "done" if codes else "empty")


def test_temporary_and_other_names_are_left_alone(tmp_path: Path, inbox: Path) -> None:
    """Office lock files, hidden files, downloads in progress and other files stay put."""
    names = ["~$users.xlsx", ".users.csv", "users.tmp", "users.csv.part", "users.xlsx.crdownload",
             "notes.txt", "users.csv.tmp"]  # fmt: skip
    for name in names:
        drop(inbox, name, "exit=0", age_s=10)
    pipeline = FakePipeline()
    assert run(tmp_path, pipeline).code == 0
    assert pipeline.calls == []
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == sorted(names)


def test_file_still_being_written_waits_for_next_run(tmp_path: Path, inbox: Path) -> None:
    """A file that grows while the inbox settles is left in place and logged; others go on."""
    drop(inbox, "done.csv", "exit=0", age_s=60)
    growing = drop(inbox, "growing.csv", "exit=0", age_s=1)

    def writer_keeps_writing(seconds: float) -> None:
        assert seconds == 2.0
        with growing.open("a") as handle:
            handle.write("\n")

    pipeline = FakePipeline()
    result = run(tmp_path, pipeline, settle_s=2.0, sleep=writer_keeps_writing)
    assert [name for name, _ in pipeline.calls] == ["done.csv"]
    assert growing.exists()
    waiting = [e for e in result.events if e.get("status") == "still-being-written"]
    assert [(e["file"], e["level"]) for e in waiting] == [("growing.csv", "warning")]
    # next night, nobody writes any more: it is taken
    pipeline = FakePipeline()
    assert run(tmp_path, pipeline, settle_s=2.0).code == 0
    assert [name for name, _ in pipeline.calls] == ["growing.csv"]


def test_interrupted_files_are_finished_first(tmp_path: Path, inbox: Path) -> None:
    """A file left in .processing/ by a killed run is processed first, keeping its stamp."""
    job = leave_job(inbox / "archive", "20261126T010000Z", "old.csv", b"exit=0")
    (job / "report").mkdir()
    (job / "report" / "old-report.xlsx").write_text("half a report")
    drop(inbox, "new.csv", "exit=1", age_s=5)
    pipeline = FakePipeline()
    result = run(tmp_path, pipeline)
    assert [name for name, _ in pipeline.calls] == ["old.csv", "new.csv"]
    assert pipeline.calls[0][1] == job / "report" / "old-report.xlsx"  # the pipeline resumes it
    assert result.code == 1
    assert tree(inbox / "archive") == {
        "processed/20261126T010000Z-old.csv": "exit=0",
        "processed/20261126T010000Z-old-report.xlsx": "report of old.csv",
        f"processed/{STAMP}-new.csv": "exit=1",
        f"processed/{STAMP}-new-report.xlsx": "report of new.csv",
    }
    resumed = [e["file"] for e in result.events if e.get("status") == "resuming"]
    assert resumed == ["old.csv"]


def test_same_name_again_gets_a_free_archive_name(tmp_path: Path, inbox: Path) -> None:
    """The same file name dropped twice in one second does not overwrite the first archive."""
    drop(inbox, "users.csv", "exit=0", age_s=5)
    run(tmp_path, FakePipeline())
    drop(inbox, "users.csv", "exit=1", age_s=5)
    run(tmp_path, FakePipeline())
    assert tree(inbox / "archive" / "processed") == {
        f"{STAMP}-users.csv": "exit=0",
        f"{STAMP}-users-report.xlsx": "report of users.csv",
        f"{STAMP}-users-2.csv": "exit=1",
        f"{STAMP}-users-report-2.xlsx": "report of users.csv",
    }


def test_missing_inbox_is_refused(tmp_path: Path) -> None:
    """An inbox folder that does not exist is an input error (exit 2)."""
    with pytest.raises(InputError, match="no such folder"):
        run(tmp_path, FakePipeline())


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from batch.delivery.lock import run_lock
    with run_lock(Path(sys.argv[1]), command="batch inbox"):
        print("held", flush=True)
        time.sleep(60)
    """
)


def test_second_run_meets_the_lock(tmp_path: Path, inbox: Path) -> None:
    """While another process runs, the inbox run stops with LockHeld and touches nothing."""
    drop(inbox, "users.csv", "exit=0", age_s=5)
    lock = tmp_path / "state" / "batch.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        pipeline = FakePipeline()
        with pytest.raises(LockHeld) as caught:
            run(tmp_path, pipeline)
        assert caught.value.exit_code == 75 and f"pid {holder.pid}" in str(caught.value)
        assert pipeline.calls == [] and (inbox / "users.csv").exists()
    finally:
        holder.kill()
        holder.communicate()


def test_cli_without_terminal_writes_json_lines(tmp_path: Path, inbox: Path) -> None:
    """`batch inbox` off a terminal: every stderr line is JSON, stdout is for people."""
    (tmp_path / "batch.toml").write_text('[run]\njournal = "state/journal.sqlite"\n')
    shutil.copyfile(DEMO_ACCOUNT, tmp_path / "sandbox.json")  # --sandbox PATH must exist
    done = subprocess.run(
        [sys.executable, "-c", "from batch.cli.main import main; main()", "inbox", "inbox",
         "--sandbox", "sandbox.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    events = [orjson.loads(line) for line in done.stderr.splitlines()]
    assert done.returncode == 0, done.stderr
    assert [(e["event"], e["status"]) for e in events] == [("inbox", "empty")]
    lines = done.stdout.splitlines()
    assert "SANDBOX" in lines[0]  # the first line says no real account is touched
    assert lines[-1] == "inbox inbox: exit 0; files and reports in inbox/archive"


def test_cli_error_is_a_json_line(tmp_path: Path) -> None:
    """An error off a terminal is one JSON error event on stderr, with the exit code."""
    done = subprocess.run(
        [sys.executable, "-c", "from batch.cli.main import main; main()", "inbox", "inbox",
         "--config", "missing.toml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    (event,) = [orjson.loads(line) for line in done.stderr.splitlines()]
    assert done.returncode == 2
    assert (event["level"], event["message"], event["exit_code"]) == (
        "error",
        "config missing.toml: no such file",
        2,
    )


def test_each_report_is_mailed(
    tmp_path: Path, inbox: Path, mail_server: tuple[Mailbox, int]
) -> None:
    """With mail configured every file's report is mailed, a failed file's error too."""
    mailbox, port = mail_server
    drop(inbox, "a.csv", "exit=0", age_s=10)
    drop(inbox, "b.csv", "raise", age_s=5)
    mail = MailSettings(host="127.0.0.1", port=port, sender="batch@example.com",
                        recipients=("finance@example.com",), timeout_s=5)  # fmt: skip
    settings = Settings(journal_path=tmp_path / "state" / "j.sqlite", mail=mail)
    assert run(tmp_path, FakePipeline(), settings=settings).code == 2
    first, second = (received.message for received in mailbox.mails)
    (attachment,) = first.iter_attachments()
    assert attachment.get_filename() == f"{STAMP}-a-report.xlsx"
    assert attachment.get_content() == b"report of a.csv"
    assert first["Subject"] == "[SANDBOX] Zoom license batch: a.csv - OK"
    body = second.get_body(("plain",))
    assert body is not None and list(second.iter_attachments()) == []
    assert "Error: RuntimeError: pipeline bug" in body.get_content().splitlines()


def test_mail_failure_is_logged_and_files_still_archived(tmp_path: Path, inbox: Path) -> None:
    """An unreachable mail server makes the run exit 1 with an error event; nothing is lost."""
    drop(inbox, "a.csv", "exit=0", age_s=10)
    mail = MailSettings(host="127.0.0.1", port=free_port(), recipients=("x@example.com",),
                        timeout_s=5)  # fmt: skip
    settings = Settings(journal_path=tmp_path / "state" / "j.sqlite", mail=mail)
    result = run(tmp_path, FakePipeline(), settings=settings)
    assert result.code == 1
    errors = [e["message"] for e in result.events if e["level"] == "error"]
    assert errors == [f"cannot mail the report via 127.0.0.1:{mail.port}: cannot connect "
                      "(Connection refused)"]  # fmt: skip
    assert sorted(tree(inbox / "archive")) == [
        f"processed/{STAMP}-a-report.xlsx",
        f"processed/{STAMP}-a.csv",
    ]

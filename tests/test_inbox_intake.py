"""The inbox cannot be tricked or jammed: links, FIFOs, bad names, growing files, full disks.

Each case asserts the two promises: no byte the pipeline reads is missing from the archived
file (or the pipeline does not run), and the next file in the inbox is still processed.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import orjson
import pytest

from batch.delivery import FileOutcome, RunSummary
from batch.delivery.inbox import run_inbox
from batch.delivery.intake import Write
from batch.output import Output
from batch.settings import Limits, Settings

if TYPE_CHECKING:
    from conftest import Served, Workspace

NOW = datetime(2026, 11, 27, 22, 58, 0, tzinfo=UTC)
STAMP = "20261127T225800Z"


@dataclass
class Recorder:
    """The apply pipeline's stand-in: keeps the bytes of each file it was given; exit 0."""

    read: dict[str, bytes] = field(default_factory=dict)

    def __call__(self, path: Path, settings: Settings) -> FileOutcome:
        assert path.parent.parent.name == ".processing"
        assert settings.report_path is not None
        self.read[path.name] = path.read_bytes()
        settings.report_path.write_bytes(b"report")
        summary = RunSummary(path.name, "inbox", True, None, {"applied": 1}, (), 0, None)
        return FileOutcome(0, settings.report_path, summary, None)


@dataclass
class Result:
    code: int
    events: list[dict[str, Any]]

    def errors(self) -> dict[str, str]:
        """{file: error} of the error events."""
        return {e["file"]: e["error"] for e in self.events if e["level"] == "error"}


def run(tmp_path: Path, pipeline: Recorder, *, write: Write = os.write,
        limits: Limits | None = None) -> Result:  # fmt: skip
    """One inbox run over tmp_path/inbox with JSON events captured."""
    stream = io.StringIO()
    settings = Settings(journal_path=tmp_path / "state" / "journal.sqlite", settle_s=0)
    if limits is not None:
        settings = replace(settings, limits=limits)
    code = run_inbox(tmp_path / "inbox", tmp_path / "inbox" / "archive", settings, pipeline,
                     output=Output("json", stream=stream), now=lambda: NOW,
                     sleep=lambda s: None, write=write)  # fmt: skip
    return Result(code, [orjson.loads(line) for line in stream.getvalue().splitlines()])


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "next.csv").write_bytes(b"email\nnext@example.com\n")
    return folder


def failed(inbox: Path) -> dict[str, str]:
    """failed/: {name: reason text} of the .reason.txt files."""
    folder = inbox / "archive" / "failed"
    return {p.name.removesuffix(".reason.txt"): p.read_text() for p in folder.glob("*.reason.txt")}


def processed(inbox: Path) -> dict[str, bytes]:
    """processed/: {name: bytes} of the archived input files (reports left out)."""
    folder = inbox / "archive" / "processed"
    return {p.name: p.read_bytes() for p in folder.iterdir() if "-report" not in p.name}


def test_symlink_to_a_private_file_is_never_read(tmp_path: Path, inbox: Path) -> None:
    """A link in the inbox to a private file goes to failed/ as a link; the file is never read."""
    private = tmp_path / "secret.csv"
    private.write_text("email\nceo@example.com\n")
    private.chmod(0o600)
    (inbox / "users.csv").symlink_to(private)
    pipeline = Recorder()
    result = run(tmp_path, pipeline)
    assert result.code == 2
    assert list(pipeline.read) == ["next.csv"]
    link = inbox / "archive" / "failed" / f"{STAMP}-users.csv"
    assert link.is_symlink() and link.readlink() == private
    assert "symbolic link" in failed(inbox)[f"{STAMP}-users.csv"]
    assert "ceo@example.com" not in str(result.events)


@pytest.mark.parametrize(
    "make",
    [lambda p: os.mkfifo(p), lambda p: (p.parent / "target").mkdir() or p.symlink_to("target")],
    ids=["fifo", "link-to-folder"],
)
def test_special_entries_go_to_failed_unopened(tmp_path: Path, inbox: Path, make: Any) -> None:
    """A FIFO or a link to a folder named like a spreadsheet is moved to failed/ unopened."""
    make(inbox / "users.csv")
    pipeline = Recorder()
    result = run(tmp_path, pipeline)
    assert result.code == 2
    assert list(pipeline.read) == ["next.csv"]
    assert "regular files only" in failed(inbox)[f"{STAMP}-users.csv"]
    assert not (inbox / "users.csv").exists() and not (inbox / "users.csv").is_symlink()


LONG = "x" * 246 + ".csv"  # 250 bytes: "<stamp>-" in front passes the file system's 255


@pytest.mark.parametrize(
    ("name", "archived", "reason"),
    [
        (os.fsdecode(b"gebruikers-\xff.csv"), f"{STAMP}-gebruikers-\\xff.csv", "not valid UTF-8"),
        ("users\r\nBcc: x@example.com.csv", f"{STAMP}-users\\r\\nBcc: x@example.com.csv",
         "control character"),
        (LONG, None, "250 bytes long"),
        ("users.xls", f"{STAMP}-users.xls", ".xls files cannot be read"),
        ("users.ods", f"{STAMP}-users.ods", ".ods files cannot be read"),
        ("Users.NUMBERS", f"{STAMP}-Users.NUMBERS", ".numbers files cannot be read"),
    ],
    ids=["not-utf8", "line-break", "250-bytes", "xls", "ods", "numbers"],
)  # fmt: skip
def test_unusable_names_go_to_failed_with_a_reason(
    tmp_path: Path, inbox: Path, name: str, archived: str | None, reason: str
) -> None:
    """A file the inbox cannot use goes to failed/ with its reason, exit 2; the next file runs."""
    (inbox / name).write_bytes(b"email\nx@example.com\n")
    pipeline = Recorder()
    result = run(tmp_path, pipeline)
    assert result.code == 2
    assert list(pipeline.read) == ["next.csv"]
    assert os.listdir(inbox) == ["archive"]
    (entry,) = failed(inbox).items()
    if archived is not None:
        assert entry[0] == archived
    else:  # cut to fit, with a hash so two long names do not meet
        assert entry[0].startswith(f"{STAMP}-xxx") and entry[0].endswith(".csv")
        assert len(entry[0].encode()) <= 255 - len(".reason.txt")
    assert reason in entry[1]
    # the JSON log names it printably (no TypeError, no raw bytes)
    (error,) = [e for e in result.events if e["level"] == "error"]
    assert reason in error["error"]
    # the next run finds nothing left to retry
    assert run(tmp_path, Recorder()).code == 0


def test_file_over_the_size_limit_goes_to_failed(tmp_path: Path, inbox: Path) -> None:
    """A file over max_file_bytes is refused unread, naming the limit."""
    (inbox / "big.csv").write_bytes(b"email\n" + b"a@example.com\n" * 100)
    pipeline = Recorder()
    result = run(tmp_path, pipeline, limits=Limits(max_file_bytes=1000))
    assert result.code == 2 and list(pipeline.read) == ["next.csv"]
    assert "max_file_bytes" in failed(inbox)[f"{STAMP}-big.csv"]


def test_file_growing_while_copied_is_never_partly_applied(tmp_path: Path, inbox: Path) -> None:
    """A writer that goes on after settle_s: the half copy is dropped, the file waits, and the
    next run applies exactly the archived bytes."""
    growing = inbox / "growing.csv"
    growing.write_bytes(b"email\n" + b"first@example.com\n" * 100_000)  # more than one chunk
    os.utime(growing, (0, 0))  # the oldest: copied first

    def write_while_the_writer_appends(fd: int, data: bytes) -> int:
        with growing.open("ab") as writer:
            writer.write(b"late@example.com\n")
        return os.write(fd, data)

    pipeline = Recorder()
    result = run(tmp_path, pipeline, write=write_while_the_writer_appends)
    assert result.code == 0
    assert list(pipeline.read) == ["next.csv"]
    assert growing.exists()
    assert list((inbox / "archive" / ".processing").iterdir()) == []
    waiting = [e for e in result.events if e.get("status") == "still-being-written"]
    assert [e["file"] for e in waiting] == ["growing.csv"]
    # the writer is done: the next run takes it whole
    pipeline = Recorder()
    assert run(tmp_path, pipeline).code == 0
    whole = processed(inbox)[f"{STAMP}-growing.csv"]
    assert pipeline.read["growing.csv"] == whole
    assert whole.endswith(b"late@example.com\n")


def test_full_disk_leaves_no_copy_and_the_file_in_place(tmp_path: Path, inbox: Path) -> None:
    """ENOSPC half way through the copy: nothing is applied, no copy is left to be resumed,
    the file stays in the inbox (exit 2) and the next file is processed."""
    big = inbox / "big.csv"
    data = b"email\n" + b"someone@example.com\n" * 100_000  # more than one chunk
    big.write_bytes(data)
    os.utime(big, (0, 0))
    writes = 0

    def disk_fills_up(fd: int, data: bytes) -> int:
        nonlocal writes
        writes += 1
        if writes == 2:  # the second megabyte of big.csv; then someone makes room
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data)

    pipeline = Recorder()
    result = run(tmp_path, pipeline, write=disk_fills_up)
    assert result.code == 2
    assert list(pipeline.read) == ["next.csv"]
    assert "No space left on device" in result.errors()["big.csv"]
    assert big.exists() and list((inbox / "archive" / ".processing").iterdir()) == []
    # room again: the next run applies the whole file
    pipeline = Recorder()
    assert run(tmp_path, pipeline).code == 0
    assert pipeline.read["big.csv"] == processed(inbox)[f"{STAMP}-big.csv"] == data


def leave_job(inbox: Path, name: str, data: bytes, *, read: bytes | None = None,
              attempts: int = 0) -> Path:  # fmt: skip
    """A job folder a killed run left: the copy, and the record of what was read."""
    job = inbox / "archive" / ".processing" / f"20261126T010000Z-{name}"
    job.mkdir(parents=True)
    (job / name).write_bytes(data)
    read = data if read is None else read
    record = {"name": name, "size": len(read), "sha256": hashlib.sha256(read).hexdigest(),
              "attempts": attempts}  # fmt: skip
    (job / ".source.json").write_bytes(orjson.dumps(record))
    return job


@pytest.mark.parametrize(
    ("data", "read", "attempts", "reason"),
    [
        (b"email\na@example.com\n", b"email\na@example.com\nb@example.com\n", 0, "does not match"),
        (b"email\na@example.com\n", None, 2, "stopped 2 runs"),
    ],
    ids=["truncated-copy", "crashed-twice"],
)
def test_leftovers_that_must_not_be_resumed_go_to_failed(
    tmp_path: Path, inbox: Path, data: bytes, read: bytes | None, attempts: int, reason: str
) -> None:
    """A leftover copy shorter than what was read, or one that already stopped two runs, is
    not applied: it goes to failed/ with its reason and the next file is processed."""
    leave_job(inbox, "sync.csv", data, read=read, attempts=attempts)
    pipeline = Recorder()
    result = run(tmp_path, pipeline)
    assert result.code == 2
    assert list(pipeline.read) == ["next.csv"]
    assert reason in failed(inbox)["20261126T010000Z-sync.csv"]
    assert list((inbox / "archive" / ".processing").iterdir()) == []


@pytest.mark.parametrize("recorded", [False, True], ids=["while-copying", "before-rename"])
def test_unfinished_copy_is_dropped_and_the_original_taken(
    tmp_path: Path, inbox: Path, recorded: bool
) -> None:
    """A run killed while copying (or after recording what it read, before the copy got its
    name) leaves a temporary copy; the next run removes it and copies the original (still in
    the inbox) again."""
    job = inbox / "archive" / ".processing" / "20261126T010000Z-users.csv"
    job.mkdir(parents=True)
    (job / ".users.csv.copying").write_bytes(b"email\nhalf")
    if recorded:
        (job / ".source.json").write_bytes(orjson.dumps({"name": "users.csv", "attempts": 0}))
    (inbox / "users.csv").write_bytes(b"email\nwhole@example.com\n")
    pipeline = Recorder()
    assert run(tmp_path, pipeline).code == 0
    assert pipeline.read["users.csv"] == b"email\nwhole@example.com\n"
    assert not job.exists()


CRASHING_RUN = textwrap.dedent(
    """
    import io, os, sys
    from pathlib import Path
    from batch.delivery import FileOutcome
    from batch.delivery.inbox import run_inbox
    from batch.output import Output
    from batch.settings import Settings

    def process(path, settings):
        if path.read_bytes() == b"abort":
            os.abort()  # a worker killed by the file (out of memory, a crashing library)
        print("processed", path.name, flush=True)
        return FileOutcome(0, None, None, None)

    root = Path(sys.argv[1])
    settings = Settings(journal_path=root / "journal.sqlite", settle_s=0)
    sys.exit(run_inbox(root / "inbox", root / "inbox" / "archive", settings, process,
                       output=Output("json")))
    """
)


def test_file_that_crashes_the_run_twice_goes_to_failed(tmp_path: Path, inbox: Path) -> None:
    """A file that kills the process is retried once; the third run puts it in failed/ with its
    reason and processes the others."""
    bad = inbox / "bad.csv"
    bad.write_bytes(b"abort")
    os.utime(bad, (0, 0))  # the oldest: taken first
    codes = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", CRASHING_RUN, str(tmp_path)],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        codes.append(done.returncode)
    assert codes[:2] == [-6, -6]  # SIGABRT, twice
    assert codes[2] == 2
    assert "processed next.csv" in done.stdout
    ((name, reason),) = failed(inbox).items()  # stamped by the real clock
    assert name.endswith("-bad.csv") and "stopped 2 runs" in reason


def summary_sha256(report: Path) -> str:
    """The SHA-256 the report's Summary sheet gives for its input file."""
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        rows = list(workbook["Summary"].iter_rows(values_only=True))
    finally:
        workbook.close()
    (sha,) = [row[1] for row in rows if row and row[0] == "SHA-256"]
    return str(sha)


def test_batch_inbox_with_a_link_and_a_bad_name(ws: Workspace, served: Served) -> None:
    """`batch inbox` over a real sample, a link to a private file and a non-UTF-8 name: exit 2,
    every stderr line is JSON, the sample is applied and its report's SHA-256 is the archived
    file's."""
    inbox = ws.root / "inbox"
    inbox.mkdir()
    sample = inbox / "users-wide-en.csv"
    sample.write_bytes(ws.sample("users-wide-en.csv").read_bytes())
    private = ws.root / "private.csv"
    private.write_text("email,license\nboss@example.com,Licensed\n")
    (inbox / "private.csv").symlink_to(private)
    (inbox / os.fsdecode(b"lijst-\xe9.csv")).write_bytes(sample.read_bytes())
    config = ws.root / "batch.toml"
    config.write_text(f'[zoom]\napi_url = "{served.api_url}"\n[inbox]\nsettle_s = 0\n')
    run = ws.run("inbox", "inbox", "--config", config)
    assert run.code == 2, run.stderr
    events = [orjson.loads(line) for line in run.stderr.splitlines()]
    refused = {e["file"]: e["error"] for e in events if e.get("status") == "refused"}
    assert set(refused) == {"private.csv", "lijst-\\xe9.csv"}
    assert "users-wide-en.csv: 9 applied" in run.stdout
    folder = inbox / "archive" / "processed"
    (archived,) = folder.glob("*-users-wide-en.csv")
    (report,) = folder.glob("*-users-wide-en-report.xlsx")
    assert summary_sha256(report) == hashlib.sha256(archived.read_bytes()).hexdigest()
    assert "boss@example.com" not in run.stdout + run.stderr

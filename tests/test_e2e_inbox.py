"""`batch inbox` end to end, as cron runs it: real processes, a real lock, a served sandbox.

The inbox has no `--api-url`: a config file's `zoom.api_url` points it at the served sandbox,
as a nightly set-up would (that also checks the token is asked of the same host).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from batch.sandbox import Faults

if TYPE_CHECKING:
    from conftest import Served, Workspace

STAMP = r"\d{8}T\d{6}Z"
SAMPLE_NAMES = ("users-wide-en.csv", "gebruikers-nl.csv", "licenses-long.xlsx")


def write_config(ws: Workspace, *, api_url: str | None = None, settle_s: float = 0,
                 chunk_size: int | None = None) -> Path:  # fmt: skip
    """A batch.toml in the workspace: the served sandbox, the settle time, the chunk size."""
    lines = [f'[zoom]\napi_url = "{api_url}"'] if api_url else []
    lines.append(f"[inbox]\nsettle_s = {settle_s}")
    if chunk_size is not None:
        lines.append(f"[run]\nchunk_size = {chunk_size}")
    path = ws.root / "batch.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def fill_inbox(ws: Workspace, *names: str) -> Path:
    """An inbox holding copies of the samples, the first the oldest (it is processed first)."""
    inbox = ws.root / "inbox"
    inbox.mkdir(exist_ok=True)
    for age, name in zip(range(len(names) * 10, 0, -10), names, strict=False):
        copy = inbox / name
        shutil.copyfile(ws.sample(name), copy)
        os.utime(copy, (time.time() - age, time.time() - age))
    return inbox


def archived(inbox: Path, folder: str) -> list[str]:
    """File names in archive/<folder>/, sorted."""
    where = inbox / "archive" / folder
    return sorted(p.name for p in where.iterdir()) if where.is_dir() else []


def json_events(stderr: str) -> list[dict[str, object]]:
    """Every stderr line as a JSON object (the log format without a terminal)."""
    return [orjson.loads(line) for line in stderr.splitlines()]


def test_inbox_applies_archives_and_reports_each_file(ws: Workspace, served: Served) -> None:
    """Three samples dropped in the inbox are applied oldest first, each archived in processed/
    under a UTC stamp with its report beside it; the run exits 1, the worst of the files."""
    inbox = fill_inbox(ws, *SAMPLE_NAMES)
    config = write_config(ws, api_url=served.api_url)
    run = ws.run("inbox", "inbox", "--config", config)
    assert run.code == 1
    lines = run.stdout.splitlines()
    assert "SANDBOX" in lines[0]
    # the oldest file meets the untouched demo account: the sample's own counts
    assert lines[1] == "users-wide-en.csv: 9 applied, 4 unchanged, 16 invalid, 1 skipped (exit 1)"
    assert [line.split(":")[0] for line in lines[1:4]] == list(SAMPLE_NAMES)
    assert all(line.endswith("(exit 1)") for line in lines[1:4])
    assert lines[4] == "inbox inbox: exit 1; files and reports in inbox/archive"
    names = archived(inbox, "processed")
    assert len(names) == 6
    for name in SAMPLE_NAMES:
        (kept,) = [n for n in names if re.fullmatch(f"{STAMP}-{re.escape(name)}", n)]
        stamp, stem = kept.split("-", 1)[0], Path(name).stem
        assert f"{stamp}-{stem}-report.xlsx" in names
        assert (inbox / "archive" / "processed" / kept).read_bytes() == ws.sample(name).read_bytes()
        report = inbox / "archive" / "processed" / f"{stamp}-{stem}-report.xlsx"
        assert {line[3] for line in ws.results(report)} >= {"invalid", "unchanged"}
    assert sorted(p.name for p in inbox.iterdir()) == ["archive"]
    assert (archived(inbox, "failed"), archived(inbox, ".processing")) == ([], [])
    assert served.sandbox.stats.writes > 0


def test_empty_inbox_exits_0(ws: Workspace) -> None:
    """An empty inbox is a quiet night: exit 0, nothing archived, no report."""
    (ws.root / "inbox").mkdir()
    run = ws.run("inbox", "inbox", "--sandbox", ws.account)
    assert (run.code, run.stdout.splitlines()[-1]) == (
        0,
        "inbox inbox: exit 0; files and reports in inbox/archive",
    )
    assert archived(ws.root / "inbox", "processed") == []
    assert not (ws.root / "reports").exists()


def test_concurrent_runs_one_works_one_exits_75(ws: Workspace) -> None:
    """Two `batch inbox` processes started together on one folder and journal: one processes
    the file, the other exits 75 at once with an error naming the holder's pid."""
    inbox = fill_inbox(ws, "users-wide-en.csv")
    with ws.serve(Faults(latency_s=0.05)) as served:
        config = write_config(ws, api_url=served.api_url)
        first = ws.start("inbox", "inbox", "--config", config)
        second = ws.start("inbox", "inbox", "--config", config)
        outputs = {p.pid: (p.communicate(timeout=180), p.returncode) for p in (first, second)}
    codes = sorted(code for _, code in outputs.values())
    assert codes == [1, 75]
    ((worker, _),) = [(pid, out) for pid, (out, code) in outputs.items() if code == 1]
    ((_, stderr),) = [out for out, code in outputs.values() if code == 75]
    errors = [e for e in json_events(stderr) if e["level"] == "error"]
    assert len(errors) == 1
    message = str(errors[0]["message"])
    assert "another batch run holds the lock" in message
    assert f"pid {worker} on host " in message
    names = archived(inbox, "processed")
    assert len(names) == 2 and any(n.endswith("-users-wide-en-report.xlsx") for n in names)


def test_file_still_growing_is_left_for_the_next_run(ws: Workspace) -> None:
    """A file whose size changes while the run settles stays in the inbox (the others are
    processed); the next run, once it is complete, takes it."""
    inbox = fill_inbox(ws, "users-wide-en.csv")
    config = write_config(ws, settle_s=1)
    growing = inbox / "growing.csv"
    growing.write_text("Email,User type\n")
    process = ws.start("inbox", "inbox", "--config", config, "--sandbox", ws.account)

    def keep_writing() -> None:
        with growing.open("a") as out:
            while process.poll() is None:
                out.write("daan.bakker@example.com,Licensed\n")
                out.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    _, stderr = process.communicate(timeout=180)
    writer.join()
    assert process.returncode == 1
    assert growing.is_file()
    waiting = [e for e in json_events(stderr) if e.get("status") == "still-being-written"]
    assert [e["file"] for e in waiting] == ["growing.csv"]
    assert not any(n.endswith("growing.csv") for n in archived(inbox, "processed"))
    assert any(n.endswith("-users-wide-en.csv") for n in archived(inbox, "processed"))

    later = ws.run("inbox", "inbox", "--config", config, "--sandbox", ws.account)
    assert later.code == 1  # its repeated rows are duplicates: skipped
    assert not growing.exists()
    assert any(n.endswith("-growing.csv") for n in archived(inbox, "processed"))


def test_run_killed_mid_file_is_finished_by_the_next(ws: Workspace) -> None:
    """A run killed (SIGKILL) while applying a file does not block the next run, which
    finishes that file from archive/.processing/ and leaves the account as one whole run would."""
    inbox = fill_inbox(ws, "users-wide-en.csv")
    with ws.serve(Faults(latency_s=0.05)) as served:
        config = write_config(ws, api_url=served.api_url, chunk_size=1)
        killed = ws.start("inbox", "inbox", "--config", config)
        deadline = time.monotonic() + 120
        while served.sandbox.stats.writes < 2 and killed.poll() is None:
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.005)
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=30)
        assert killed.returncode == -signal.SIGKILL
        assert served.sandbox.stats.writes < 9, "the run finished before it was killed"
        (job,) = (inbox / "archive" / ".processing").iterdir()
        assert (job / "users-wide-en.csv").is_file()

        resumed = ws.run("inbox", "inbox", "--config", config)
        assert resumed.code == 1
        assert resumed.stdout.splitlines()[1].startswith("users-wide-en.csv: ")
        assert served.holdings() == ws.expected("users-wide-en.csv")
    (kept,) = [n for n in archived(inbox, "processed") if n.endswith(".csv")]
    assert re.fullmatch(f"{STAMP}-users-wide-en.csv", kept)
    report = kept.split("-", 1)[0] + "-users-wide-en-report.xlsx"
    assert archived(inbox, "processed") == sorted([kept, report])
    assert archived(inbox, ".processing") == []
    assert ws.holdings() == ws.expected("users-wide-en.csv")

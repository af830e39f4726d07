"""The nightly inbox: apply every spreadsheet dropped in a folder, archive it with its report.

    archive/
        .processing/<stamp>-<name>/<name>          a file being processed (and its report/)
        processed/<stamp>-<name>                   exit 0 or 1, with <stamp>-<stem>-report.xlsx
        failed/<stamp>-<name>                      exit 2 or more, or an exception

One run, under the run lock from start to end:

1. **Recovery.** Files left in `.processing/` by a killed run are processed first, oldest first
   (the apply pipeline resumes them through its journal, so nothing is applied twice).
2. **Settling.** `*.csv` / `*.xlsx` files (any case) of the inbox are looked at twice,
   `settings.settle_s` apart; a file whose size or time changed is still being written and is
   left for the next run (logged). Temporary names (`~$*`, `.*`, `*.tmp`, `*.part`,
   `*.crdownload`) and other files are ignored.
3. **Each file**, oldest first (mtime, then name): moved into `.processing/`, processed, then
   moved to `processed/` or `failed/` with a UTC stamp (`20261127T225800Z-users.csv`), its report
   beside it with the same stamp; the report is mailed when mail is configured. An exception in
   one file fails that file only (exit 2, or its BatchError's code).

The exit code is the worst (highest) of the files' codes; 0 when the inbox is empty.
"""

from __future__ import annotations

import fnmatch
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from batch.delivery import FileOutcome, RunSummary
from batch.delivery.lock import default_lock_path, run_lock
from batch.delivery.mail import MailError, send_report
from batch.errors import BatchError, InputError, RunStopped
from batch.output import Output
from batch.settings import Settings
from batch.vocabulary import EXIT_INPUT, EXIT_OK, EXIT_ROWS

Process = Callable[[Path, Settings], FileOutcome]

SUFFIXES: Final = (".csv", ".xlsx")
TEMPORARY_NAMES: Final = ("~$*", ".*", "*.tmp", "*.part", "*.crdownload")
PROCESSING: Final = ".processing"
PROCESSED: Final = "processed"
FAILED: Final = "failed"
REPORT_FOLDER: Final = "report"
STAMP_FORMAT: Final = "%Y%m%dT%H%M%SZ"


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def is_candidate(name: str) -> bool:
    """A spreadsheet name the inbox takes: CSV or XLSX, not a temporary or hidden file."""
    lowered = name.lower()
    if any(fnmatch.fnmatchcase(lowered, pattern) for pattern in TEMPORARY_NAMES):
        return False
    return lowered.endswith(SUFFIXES)


def run_inbox(
    inbox: Path,
    archive: Path,
    settings: Settings,
    process: Process,
    *,
    output: Output,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    lock_path: Path | None = None,
) -> int:
    """Process every settled file of `inbox`, archive each with its report; the worst exit code.

    `process(path, settings)` applies one file (the apply pipeline); its settings carry the
    report path to write. `now` and `sleep` are the clock (tests pass their own). Raises
    InputError when the inbox is not a folder and LockHeld when another run holds the lock.

    >>> run_inbox(Path("inbox"), Path("inbox/archive"), settings, apply_one, output=output)
    ... # doctest: +SKIP
    1
    """
    if not inbox.is_dir():
        raise InputError(f"inbox {inbox}: no such folder")
    with run_lock(lock_path or default_lock_path(settings)):
        for folder in (PROCESSING, PROCESSED, FAILED):
            (archive / folder).mkdir(parents=True, exist_ok=True)
        codes: list[int] = []
        for job in _leftovers(archive / PROCESSING, output):
            output.event("file", "warning", file=job.name, status="resuming",
                         message="left by an interrupted run; processed first")  # fmt: skip
            codes.append(_handle(job, archive, settings, process, output))
        for path in _settled(inbox, settings.settle_s, sleep, output):
            job = _free(
                archive / PROCESSING / f"{now().astimezone(UTC):{STAMP_FORMAT}}-{path.name}"
            )
            job.mkdir()
            moved = job / path.name
            shutil.move(path, moved)
            codes.append(_handle(moved, archive, settings, process, output))
        if not codes:
            output.event("inbox", status="empty", inbox=inbox)
            return EXIT_OK
        worst = max(codes)
        output.event("inbox", status="done", inbox=inbox, files=len(codes), exit_code=worst)
        return worst


def _leftovers(processing: Path, output: Output) -> Iterator[Path]:
    """Input files left in `.processing/` by a killed run, oldest stamp first."""
    for job in sorted(p for p in processing.iterdir() if p.is_dir()):
        inputs = [p for p in job.iterdir() if p.is_file()]
        if len(inputs) == 1:
            yield inputs[0]
            continue
        # nothing (or something unexpected) to resume: keep what is there in failed/
        output.event("file", "warning", file=job.name, status="cleaned",
                     message="an interrupted run left no single input file here")  # fmt: skip
        _empty_into(job, job.parent.parent / FAILED, job.name.split("-", 1)[0])


def _settled(
    inbox: Path, settle_s: float, sleep: Callable[[float], None], output: Output
) -> list[Path]:
    """The inbox files whose size and time stay the same for `settle_s`, oldest first."""
    seen: dict[Path, tuple[int, int]] = {}
    for path in inbox.iterdir():
        if not path.is_file():
            continue
        if not is_candidate(path.name):
            output.event("file", "debug", file=path.name, status="ignored")
            continue
        stat = path.stat()
        seen[path] = (stat.st_size, stat.st_mtime_ns)
    if seen and settle_s > 0:
        sleep(settle_s)
    ready: list[tuple[int, str, Path]] = []
    for path, before in seen.items():
        try:
            stat = path.stat()
        except FileNotFoundError:
            output.event("file", "warning", file=path.name, status="vanished")
            continue
        if (stat.st_size, stat.st_mtime_ns) != before:
            output.event("file", "warning", file=path.name, status="still-being-written",
                         message="left for the next run")  # fmt: skip
            continue
        ready.append((stat.st_mtime_ns, path.name, path))
    return [path for _, _, path in sorted(ready)]


def _handle(path: Path, archive: Path, settings: Settings, process: Process, output: Output) -> int:
    """Process one file from its `.processing/` job folder, archive it, mail it; its code."""
    job = path.parent
    stamp = job.name.split("-", 1)[0]
    report_dir = job / REPORT_FOLDER
    report_dir.mkdir(exist_ok=True)
    file_settings = replace(settings, report_path=report_dir / f"{path.stem}-report.xlsx")
    output.event("file", file=path.name, status="processing")
    try:
        outcome = process(path, file_settings)
    except RunStopped:
        raise  # a signal: the file stays in .processing/ and the next run finishes it
    except BatchError as error:
        outcome = FileOutcome(error.exit_code, None, None, str(error))
    except Exception as error:  # one broken file must not stop the others
        outcome = FileOutcome(EXIT_INPUT, None, None, f"{type(error).__name__}: {error}")
    code = outcome.exit_code
    destination = archive / (PROCESSED if code in (EXIT_OK, EXIT_ROWS) else FAILED)
    archived = _free(destination / f"{stamp}-{path.name}")
    shutil.move(path, archived)
    report = _archive_report(outcome.report_path, job, destination, stamp)
    _empty_into(job, destination, stamp)
    fields: dict[str, Any] = {"file": archived.name, "exit_code": code, "archived": archived}
    fields["report"] = report
    if outcome.summary is not None:
        fields["counts"] = dict(outcome.summary.counts)
    if outcome.error:
        output.event("file", "error", status="failed", error=outcome.error, **fields)
    else:
        output.event("file", status=destination.name, **fields)
    if settings.mail.enabled:
        code = max(code, _mail(settings, path.name, outcome, report, output))
    return code


def _archive_report(report: Path | None, job: Path, destination: Path, stamp: str) -> Path | None:
    """The report moved (or, when written outside the job folder, copied) beside its file."""
    if report is None or not report.is_file():
        return None
    target = _free(destination / f"{stamp}-{report.name}")
    if report.resolve().is_relative_to(job.resolve()):
        shutil.move(report, target)
    else:
        shutil.copy2(report, target)
    return target


def _empty_into(job: Path, destination: Path, stamp: str) -> None:
    """Move whatever is left in a job folder beside its file, then remove the folder."""
    for leftover in sorted(p for p in job.rglob("*") if p.is_file()):
        shutil.move(leftover, _free(destination / f"{stamp}-{leftover.name}"))
    shutil.rmtree(job, ignore_errors=True)


def _mail(
    settings: Settings, name: str, outcome: FileOutcome, report: Path | None, output: Output
) -> int:
    """Mail one file's report; 0 when sent, MailError's exit code when not (logged)."""
    summary = outcome.summary or RunSummary(
        file_name=name,
        command="inbox",
        is_sandbox=settings.uses_sandbox,
        account_id=None,
        counts={},
        seats_lines=(),
        exit_code=outcome.exit_code,
        report_path=report,
    )
    summary = replace(summary, report_path=report, error=summary.error or outcome.error)
    try:
        send_report(settings.mail, report, summary)
    except MailError as error:
        output.error(str(error), file=name)
        return error.exit_code
    output.event("mail", file=name, status="sent", recipients=len(settings.mail.recipients))
    return EXIT_OK


def _free(path: Path) -> Path:
    """`path`, or `name-2.ext`, `name-3.ext`, ... when it is taken."""
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(path)  # pragma: no cover - ten thousand copies of one name

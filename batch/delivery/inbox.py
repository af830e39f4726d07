"""The nightly inbox: apply every spreadsheet dropped in a folder, archive it with its report.

    archive/
        .processing/<stamp>-<name>/<name>          a file being processed (and its report/)
        processed/<stamp>-<name>                   exit 0 or 1, with <stamp>-<stem>-report.xlsx
        failed/<stamp>-<name>                      exit 2 or more, an exception, or refused
        failed/<stamp>-<name>.reason.txt           why it is there

One run, under the run lock from start to end:

1. **Recovery.** Files left in `.processing/` by a killed run are processed first, oldest first
   (the apply pipeline resumes them through its journal, so nothing is applied twice), but
   only when the copy still has the size and SHA-256 that were read from the inbox and it has
   not already stopped two runs; otherwise it goes to failed/ unapplied.
2. **Looking.** Spreadsheet names (`*.csv`, `*.xlsx`, and the unreadable `*.xls`, `*.ods`,
   `*.numbers`, ...) are looked at without following links. A symlink, FIFO, device or socket,
   a name that is not UTF-8, holds a control character or is too long, an unreadable format
   or a file over `max_file_bytes` is moved to failed/ unread, with its reason. Temporary names
   (`~$*`, `.*`, `*.tmp`, `*.part`, `*.crdownload`) and other files are ignored.
3. **Settling.** The other files are looked at twice, `settings.settle_s` apart; a file whose
   size or time changed is still being written and is left for the next run (logged).
4. **Each file**, oldest first (mtime, then name): copied into `.processing/` and verified
   (see `intake.take_copy`; a file that changes while it is copied is left for the next run,
   one that cannot be copied stays in the inbox with exit 2), the original removed, the copy
   processed, then moved to `processed/` or `failed/` with a UTC stamp
   (`20261127T225800Z-users.csv`), its report beside it with the same stamp; the report is
   mailed when mail is configured. An exception in one file fails that file only (exit 2, or
   its BatchError's code).

The exit code is the worst (highest) of the files' codes; 0 when the inbox is empty.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from batch.delivery import FileOutcome, RunSummary
from batch.delivery.intake import (
    TEMP_SUFFIX,
    Copied,
    Write,
    archive_name,
    file_digest,
    is_spreadsheet_name,
    refusal,
    shown,
    sync_folder,
    take_copy,
)
from batch.delivery.lock import default_lock_path, run_lock
from batch.delivery.mail import MailError, send_report
from batch.errors import BatchError, InputError, RunStopped
from batch.output import Output
from batch.settings import Settings
from batch.vocabulary import EXIT_INPUT, EXIT_OK, EXIT_ROWS

Process = Callable[[Path, Settings], FileOutcome]

TEMPORARY_NAMES: Final = ("~$*", ".*", "*.tmp", "*.part", "*.crdownload")
PROCESSING: Final = ".processing"
PROCESSED: Final = "processed"
FAILED: Final = "failed"
REPORT_FOLDER: Final = "report"
STAMP_FORMAT: Final = "%Y%m%dT%H%M%SZ"
SOURCE: Final = ".source.json"  # in a job folder: what was read (name, size, SHA-256, attempts)
MAX_ATTEMPTS: Final = 2  # a file that stopped this many runs goes to failed/


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def is_candidate(name: str) -> bool:
    """A name the inbox looks at: a spreadsheet (readable or not), not a temporary file."""
    lowered = name.lower()
    if any(fnmatch.fnmatchcase(lowered, pattern) for pattern in TEMPORARY_NAMES):
        return False
    return is_spreadsheet_name(lowered)


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
    write: Write = os.write,
) -> int:
    """Process every settled file of `inbox`, archive each with its report; the worst exit code.

    `process(path, settings)` applies one file (the apply pipeline); its settings carry the
    report path to write. `now` and `sleep` are the clock, `write` the copy's write (tests pass
    their own). Raises InputError when the inbox is not a folder and LockHeld when another run
    holds the lock.

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
        for job, problem in _leftovers(archive / PROCESSING):
            if problem is not None:
                codes.append(_fail_leftover(job, archive, problem, output))
                continue
            output.event("file", "warning", file=shown(job.name), status="resuming",
                         message="left by an interrupted run; processed first")  # fmt: skip
            codes.append(_handle(job, archive, settings, process, output))
        refused, settled = _look(inbox, settings, sleep, output)
        for path, reason in refused:
            codes.append(_refuse(path, archive, reason, now(), output))
        for path, seen in settled:
            code = _take(path, seen, archive, now(), output, write)
            if code is None:
                continue
            if isinstance(code, Path):
                code = _handle(code, archive, settings, process, output)
            codes.append(code)
        if not codes:
            output.event("inbox", status="empty", inbox=inbox)
            return EXIT_OK
        worst = max(codes)
        output.event("inbox", status="done", inbox=inbox, files=len(codes), exit_code=worst)
        return worst


def _leftovers(processing: Path) -> Iterator[tuple[Path, str | None]]:
    """Input files left in `.processing/` by a killed run, oldest stamp first, each with the
    reason it must not be resumed (None: resume it). Unfinished copies are removed: their
    original is still in the inbox."""
    for job in sorted(p for p in processing.iterdir() if p.is_dir()):
        for temp in job.glob(f".*{TEMP_SUFFIX}"):
            temp.unlink()
        inputs = [p for p in job.iterdir() if p.is_file() and not p.name.startswith(".")]
        source = _read_source(job)
        if source is None or [p.name for p in inputs] != [source.get("name")]:
            if not inputs and not (job / REPORT_FOLDER).exists():
                shutil.rmtree(job, ignore_errors=True)  # a copy that never finished
                continue
            yield job / (inputs[0].name if len(inputs) == 1 else "-"), (
                "an interrupted run left this without a verified copy; it was not applied "
                "again: check it and drop it in the inbox again"
            )
            continue
        path = inputs[0]
        if file_digest(path) != (source.get("size"), source.get("sha256")):
            yield path, (
                "the archive copy does not match the bytes read from the inbox (cut short by "
                "a full disk?); it was not applied: drop the file in the inbox again"
            )
        elif int(source.get("attempts", 0)) >= MAX_ATTEMPTS:
            yield path, (
                f"it stopped {MAX_ATTEMPTS} runs (a crash or a kill) while being processed and is "
                "not tried again: check the file (size, formulas) and the log"
            )
        else:
            yield path, None


def _look(
    inbox: Path, settings: Settings, sleep: Callable[[float], None], output: Output
) -> tuple[list[tuple[Path, str]], list[tuple[Path, tuple[int, int]]]]:
    """The entries refused at sight (with why), and the files whose size and time stay the
    same for `settle_s` (with them), oldest first."""
    refused: list[tuple[Path, str]] = []
    seen: dict[Path, tuple[int, int]] = {}
    for path in sorted(inbox.iterdir()):
        if path.is_dir() and not path.is_symlink():
            continue
        if not is_candidate(path.name):
            output.event("file", "debug", file=shown(path.name), status="ignored")
            continue
        try:
            reason = refusal(path, settings.limits)
            info = path.lstat()
        except FileNotFoundError:
            continue
        if reason is not None:
            refused.append((path, reason))
        else:
            seen[path] = (info.st_size, info.st_mtime_ns)
    if seen and settings.settle_s > 0:
        sleep(settings.settle_s)
    ready: list[tuple[int, str, Path]] = []
    for path, before in seen.items():
        try:
            info = path.lstat()
        except FileNotFoundError:
            output.event("file", "warning", file=shown(path.name), status="vanished")
            continue
        if (info.st_size, info.st_mtime_ns) != before:
            output.event("file", "warning", file=shown(path.name), status="still-being-written",
                         message="left for the next run")  # fmt: skip
            continue
        ready.append((info.st_mtime_ns, path.name, path))
    return refused, [(path, seen[path]) for _, _, path in sorted(ready)]


def _take(
    path: Path,
    settled: tuple[int, int],
    archive: Path,
    moment: datetime,
    output: Output,
    write: Write,
) -> Path | int | None:
    """The verified copy of an inbox file in its `.processing/` job folder (original removed);
    None when it is left for the next run, an exit code when it could not be copied."""
    job = _free(archive / PROCESSING / f"{moment.astimezone(UTC):{STAMP_FORMAT}}-{path.name}")

    def record(copied: Copied) -> None:  # before the copy gets its name: a named copy is verified
        _write_source(job, {"name": path.name, "size": copied.size, "sha256": copied.sha256,
                            "attempts": 0})  # fmt: skip

    try:
        job.mkdir()
        copied = take_copy(path, job / path.name, settled, write=write, before_rename=record)
    except OSError as error:  # the archive's disk is full or read-only: the file stays
        copied = f"could not be copied into the archive ({error.strerror}); left in the inbox"
    if isinstance(copied, str):
        shutil.rmtree(job, ignore_errors=True)
        waiting = copied.startswith(("still being written", "no longer"))
        if waiting:
            output.event("file", "warning", file=shown(path.name), status="still-being-written",
                         message=copied)  # fmt: skip
            return None
        output.event("file", "error", file=shown(path.name), status="not-taken", error=copied,
                     exit_code=EXIT_INPUT)  # fmt: skip
        return EXIT_INPUT
    path.unlink()
    sync_folder(path.parent)
    return copied.path


def _refuse(path: Path, archive: Path, reason: str, moment: datetime, output: Output) -> int:
    """Move an entry the inbox cannot use into failed/ unread, with its reason; exit 2."""
    stamp = f"{moment.astimezone(UTC):{STAMP_FORMAT}}"
    target = _free(archive / FAILED / archive_name(stamp, path.name))
    fields: dict[str, Any] = {"file": shown(path.name), "exit_code": EXIT_INPUT, "error": reason}
    try:
        os.rename(path, target)
    except OSError as error:
        note = f"could not be moved to failed/ ({error.strerror})"
        output.event("file", "error", status="refused", archived=None, note=note, **fields)
        return EXIT_INPUT
    _write_reason(target, path.name, reason)
    output.event("file", "error", status="refused", archived=target, **fields)
    return EXIT_INPUT


def _fail_leftover(path: Path, archive: Path, reason: str, output: Output) -> int:
    """Put a job left by an interrupted run that must not be resumed into failed/; exit 2."""
    job = path.parent
    stamp = job.name.split("-", 1)[0]
    target: Path | None = None
    if path.is_file():
        target = _free(archive / FAILED / archive_name(stamp, path.name))
        shutil.move(path, target)
        _write_reason(target, path.name, reason)
    _empty_into(job, archive / FAILED, stamp)
    output.event("file", "error", file=shown(path.name), status="not-resumed", error=reason,
                 archived=target, exit_code=EXIT_INPUT)  # fmt: skip
    return EXIT_INPUT


def _handle(path: Path, archive: Path, settings: Settings, process: Process, output: Output) -> int:
    """Process one file from its `.processing/` job folder, archive it, mail it; its code."""
    job = path.parent
    stamp = job.name.split("-", 1)[0]
    report_dir = job / REPORT_FOLDER
    report_dir.mkdir(exist_ok=True)
    file_settings = replace(settings, report_path=report_dir / f"{path.stem}-report.xlsx")
    output.event("file", file=shown(path.name), status="processing")
    source = _read_source(job) or {"name": path.name}
    _write_source(job, {**source, "attempts": int(source.get("attempts", 0)) + 1})
    try:
        outcome = process(path, file_settings)
    except (RunStopped, KeyboardInterrupt, SystemExit):
        # a signal: the file stays in .processing/ and the next run finishes it; a stop is not
        # a crash of this file, so it does not count towards MAX_ATTEMPTS
        _write_source(job, source)
        raise
    except BatchError as error:
        outcome = FileOutcome(error.exit_code, None, None, str(error))
    except Exception as error:  # one broken file must not stop the others
        outcome = FileOutcome(EXIT_INPUT, None, None, f"{type(error).__name__}: {error}")
    code = outcome.exit_code
    failed = code not in (EXIT_OK, EXIT_ROWS)
    destination = archive / (FAILED if failed else PROCESSED)
    archived = _free(destination / f"{stamp}-{path.name}")
    shutil.move(path, archived)
    report = _archive_report(outcome.report_path, job, destination, stamp)
    (job / SOURCE).unlink(missing_ok=True)
    _empty_into(job, destination, stamp)
    if failed:
        why = outcome.error or f"exit {code}: see the report {report.name if report else ''}"
        _write_reason(archived, path.name, why.strip())
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


def _read_source(job: Path) -> dict[str, Any] | None:
    """What the inbox read into this job folder (name, size, SHA-256, attempts), or None."""
    try:
        data = orjson.loads((job / SOURCE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _write_source(job: Path, source: dict[str, Any]) -> None:
    """Write the job's source record atomically (temp, fsync, rename)."""
    temp = job / f"{SOURCE}.tmp"
    with temp.open("wb") as handle:
        handle.write(orjson.dumps(source))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, job / SOURCE)


def _write_reason(archived: Path, name: str, reason: str) -> None:
    """`<archived>.reason.txt`: the file's name and why it is in failed/."""
    text = f"file: {shown(name)}\nreason: {reason}\n"
    with suppress(OSError):  # a full disk: the reason is still in the log
        archived.with_name(f"{archived.name}.reason.txt").write_text(text, encoding="utf-8")


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
        if leftover.name.startswith("."):
            continue  # the inbox's own bookkeeping (source record, unfinished copy)
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

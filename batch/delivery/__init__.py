"""Nightly runs and delivery: the run lock, the report mail and the inbox loop.

    lock.run_lock(path)                  one run at a time (exit 75 for the second)
    mail.send_report(mail, report, summary)
    inbox.run_inbox(inbox, archive, settings, process, output=...)

`RunSummary` is what a processed file tells the mail and the logs; `FileOutcome` is what the
per-file callable (the apply pipeline) hands back to the inbox loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RunSummary:
    """The figures of one processed file, for the mail body and the logs."""

    file_name: str
    command: str  # "apply", "inbox", ...
    is_sandbox: bool
    account_id: str | None
    counts: Mapping[str, int]  # result lines per outcome
    seats_lines: tuple[str, ...]  # e.g. "Licensed: 33 of 34 used after the run"
    exit_code: int
    report_path: Path | None
    error: str | None = None  # the one-line error when the file could not be processed
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class FileOutcome:
    """What processing one inbox file gave: its exit code, report and summary or error."""

    exit_code: int
    report_path: Path | None
    summary: RunSummary | None
    error: str | None

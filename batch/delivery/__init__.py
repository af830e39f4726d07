"""Nightly runs and delivery: the run lock, the report mail and the inbox loop.

    lock.run_lock(path)                  one run at a time (exit 75 for the second)
    mail.send_report(mail, report, summary)
    inbox.run_inbox(inbox, archive, settings, process, output=...)

`RunSummary` (owned by batch.counts) is what a processed file tells the mail and the logs;
`FileOutcome` is what the per-file callable (the apply pipeline) hands back to the inbox loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from batch.counts import RunSummary

__all__ = ["FileOutcome", "RunSummary"]


@dataclass(frozen=True)
class FileOutcome:
    """What processing one inbox file gave: its exit code, report and summary or error."""

    exit_code: int
    report_path: Path | None
    summary: RunSummary | None
    error: str | None

"""A run's report rebuilt from the journal alone: `batch report --run ID`.

When a run applied changes but its report could not be written (a full or read-only disk),
the journal still holds what the run planned and what became of each change. It does not
hold the input file's lines or the account's seats, so this report is smaller than a run's:

    Summary    the run: file name and SHA-256, command, mode, start, end, status, counts
    Changes    one line per planned change: email, what, state, Zoom's code and message

A change `sent` without an answer may or may not have reached Zoom; re-running the same file
finds out (it re-reads the account and does only what is missing).
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from pathlib import Path

import orjson
from openpyxl import Workbook

from batch.journal import OP_STATES, Journal
from batch.report import publish_new
from batch.report.cells import BOLD, SECTION_FONT, header_cells, safe, styled

_RUN_FACTS = (("File", "file_name"), ("SHA-256", "sha256"), ("Command", "command"),
              ("Mode", "mode"), ("Started (UTC)", "started"), ("Finished (UTC)", "finished"),
              ("Status", "status"))  # fmt: skip
CHANGES_HEADERS = ("Email", "Change", "Category", "State", "Code", "Message", "Updated (UTC)")
NOTE = (
    "Rebuilt from the journal: the input file's lines and the account's seats are not in it. "
    "A change `sent` without an answer may have reached Zoom; re-run the same file to finish."
)


def write_journal_report(
    journal: Journal, run_id: int, path: Path, *, replace_existing: bool = True
) -> Path:
    """Write the Summary and Changes of journal run `run_id` at `path` (KeyError: no run).

    Returns where it went: with `replace_existing` False an existing file is left alone and
    the report goes to `<stem>-2.xlsx`, ... (as `write_report` does).
    """
    run = journal.run(run_id)
    ops = journal.ops(run_id)
    wb = Workbook(write_only=True)
    summary = wb.create_sheet("Summary")
    summary.column_dimensions["A"].width = 22
    summary.column_dimensions["B"].width = 70
    summary.append([styled(summary, f"Journal report: run {run_id}", font=SECTION_FONT)])
    summary.append([])
    facts = [("Run", run_id), ("Journal", str(journal.path))]
    facts += [(label, run[key]) for label, key in _RUN_FACTS]
    states = Counter(op["state"] for op in ops)
    facts += [(f"Changes {state}", states[state]) for state in OP_STATES if states[state]]
    facts += [("Note", NOTE)]
    for label, value in facts:
        summary.append([styled(summary, label, font=BOLD), safe(summary, value)])
    changes = wb.create_sheet("Changes")
    changes.append(header_cells(changes, list(CHANGES_HEADERS)))
    for op in ops:
        values = (op["email"], _change(op["payload"]), op["category"], op["state"],
                  op["code"], op["message"], op["updated"])  # fmt: skip
        changes.append([safe(changes, value) for value in values])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        wb.save(temporary)
        if replace_existing:
            os.replace(temporary, path)
        else:
            path = publish_new(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path


def _change(payload: str) -> str:
    """`user type Licensed`, `webinar 500`, `large_meeting removed`, from the op's JSON."""
    data = orjson.loads(payload)
    parts = [f"user type {data['user_type']}"] if data.get("user_type") else []
    for kind, size in (data.get("addons") or {}).items():
        parts.append(f"{kind} {size}" if size is not None else f"{kind} removed")
    return ", ".join(parts)

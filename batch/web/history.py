"""The history page's lines: every run of the journal (web, CLI, cron), newest first.

The journal knows each apply's file, command, mode, times, status and its operations' states;
the web store adds who started a web run, from where, and its report. Web uploads that were only
previewed or refused are listed too (they are not in the journal: nothing was applied).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Final

from batch.web.store import Store

SOURCES: Final = {"web": "web", "inbox": "cron", "apply": "CLI"}
_RUNS_SQL: Final = """
SELECT runs.run_id, runs.file_name, runs.command, runs.mode, runs.started, runs.finished,
       runs.status,
       (SELECT count(*) FROM ops WHERE ops.run_id = runs.run_id AND state = 'applied'),
       (SELECT count(*) FROM ops WHERE ops.run_id = runs.run_id AND state = 'failed'),
       (SELECT count(*) FROM ops WHERE ops.run_id = runs.run_id)
FROM runs ORDER BY runs.run_id DESC LIMIT ?
"""


def journal_runs(journal: Path, limit: int = 500) -> list[dict[str, Any]]:
    """The journal's runs, newest first (none when there is no journal yet)."""
    if not journal.exists():
        return []
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        rows = db.execute(_RUNS_SQL, (limit,)).fetchall()
    except sqlite3.OperationalError:  # a journal without tables yet
        return []
    finally:
        db.close()
    keys = (
        "run_id",
        "file_name",
        "command",
        "mode",
        "started",
        "finished",
        "status",
        "applied",
        "failed",
        "operations",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def history(journal: Path, store: Store) -> list[dict[str, Any]]:
    """One line per run: the journal's applies joined with the web's runs, newest first."""
    web = store.by_journal_run()
    lines = []
    for run in journal_runs(journal):
        mine = web.get(run["run_id"])
        lines.append(
            {
                "when": run["started"],
                "file_name": run["file_name"],
                "source": "web" if mine else SOURCES.get(run["command"], run["command"]),
                "who": mine["user"] if mine else "",
                "mode": run["mode"],
                "status": _status(run["status"]) if not mine else mine["status"],
                "counts": f"{run['applied']} applied, {run['failed']} failed of "
                f"{run['operations']} changes",
                "web_id": mine["id"] if mine else None,
                "has_report": bool(mine and mine["report"]),
            }
        )
    for run in store.runs():
        if run["journal_run_id"] is None:
            lines.append(
                {
                    "when": run["created"],
                    "file_name": run["file_name"],
                    "source": "web",
                    "who": run["user"],
                    "mode": run["options"].get("mode") or "apply",
                    "status": run["status"],
                    "counts": ", ".join(f"{n} {k}" for k, n in run["counts"].items() if n),
                    "web_id": run["id"],
                    "has_report": False,
                }
            )
    lines.sort(key=lambda line: str(line["when"]), reverse=True)
    return lines


def _status(journal_status: str) -> str:
    """The journal's status in the API's words (a `running` run with no process was killed)."""
    return {"finished": "applied", "running": "applying"}.get(journal_status, journal_status)

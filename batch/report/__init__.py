"""The Excel result report (README, "The report"): Summary, Results, Problems, Seats, Chargeback.

    write_report(path, run, results, before=..., after=..., prices=..., currency=...)

The workbook is written with openpyxl in write-only mode; the big tables' data rows (Results,
Problems) are streamed into their sheets as XML built per column (`columns`, `sheetxml`), since
openpyxl's per-cell writer would take minutes for a million lines. The file is written beside
the target and then moved into place, so a half-written report never exists. No text that came
from the input is ever written as a formula.

Example:

    >>> path = default_report_path(Path("reports"), "users.csv", run.started)  # doctest: +SKIP
    >>> write_report(path, run, results, before=before, after=after)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pandas as pd
from openpyxl import Workbook

from batch.counts import outcome_counts
from batch.errors import InputError
from batch.model import AccountSnapshot, RunInfo
from batch.planning.seats import SeatMoves
from batch.report.cells import MAX_DATA_ROWS, page_marks
from batch.report.chargeback import write_chargeback
from batch.report.problems import write_problems
from batch.report.results import write_results
from batch.report.seats import seat_figures, write_seats
from batch.report.sheetxml import save_workbook
from batch.report.state import seat_moves
from batch.report.summary import write_summary

__all__ = [
    "SeatMoves",
    "check_report_target",
    "default_report_path",
    "publish_new",
    "seat_moves",
    "write_report",
]

_MAX_SAME_NAME: Final = 10_000  # reports of one file in one second, before giving up


def check_report_target(report: Path | None, source: Path) -> None:
    """Refuse (InputError, exit 2) a `--report` that is the input file, a folder or not a file.

    Checked before the run starts, so nothing is sent for a report that could not be written.
    """
    if report is None:
        return
    if report.is_dir():
        raise InputError(f"--report {report}: is a folder; give a file name ending in .xlsx")
    if report.exists() or report.is_symlink():
        if report.exists() and source.exists() and os.path.samefile(report, source):
            raise InputError(f"--report {report}: is the input file; give another name")
        if not stat.S_ISREG(report.stat().st_mode):
            raise InputError(f"--report {report}: is not a regular file; give another name")


def default_report_path(reports_dir: Path, file_name: str, now: datetime) -> Path:
    """`reports_dir/<file stem>-<UTC timestamp>.xlsx`, e.g. `reports/users-20261127T225800Z.xlsx`.

    A naive `now` is taken to be UTC.
    """
    moment = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    # control characters (a CR/LF in a file name) become "_": the name goes into mail headers
    stem = "".join("_" if ord(c) < 32 or ord(c) == 127 else c for c in Path(file_name).stem)
    stem = stem or "report"
    return reports_dir / f"{stem}-{moment:%Y%m%dT%H%M%SZ}.xlsx"


def write_report(
    path: Path,
    run: RunInfo,
    results: pd.DataFrame,
    *,
    before: AccountSnapshot | None = None,
    after: AccountSnapshot | None = None,
    prices: Mapping[str, float] | None = None,
    currency: str = "EUR",
    max_rows: int = MAX_DATA_ROWS,
    replace_existing: bool = True,
    counts: Mapping[str, int] | None = None,
    moves: SeatMoves | None = None,
) -> Path:
    """Write the run's report workbook at `path` (parents created) and return where it went.

    With `replace_existing` False an existing file is never touched: the report goes to
    `<stem>-2.xlsx`, `<stem>-3.xlsx`, ... instead (the name is taken atomically, so two runs
    never write the same file).

    `before`/`after` are the account before and after the run (None for validate; `after` None
    for plan and dry run: the state after is projected from the planned lines). `prices` maps a
    license label to its monthly price for the Chargeback sheet. `max_rows` is the number of
    data lines per Results/Problems sheet before the table continues on the next one.

    `counts` (result lines per outcome) and `moves` (the seats the run freed and granted) are
    the run's figures as the pipeline computed them once; without them they are taken from
    `results` (`batch.counts.outcome_counts`, `state.seat_moves`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    results = results.reset_index(drop=True)
    if counts is None:
        counts = outcome_counts(results)
    seats = None
    if before is not None:
        seats = seat_figures(moves if moves is not None else seat_moves(results), before, after)
    wb = Workbook(write_only=True)
    write_summary(wb, run, results, counts)
    tables = write_results(wb, run, results, max_rows=max_rows)
    tables += write_problems(wb, run, results, max_rows=max_rows)
    write_seats(wb, run, seats, read_after=after is not None)
    write_chargeback(wb, run, results, before, after, seats, prices, currency)
    for ws in wb.worksheets:
        page_marks(ws, run.file.name, sandbox=run.is_sandbox)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_workbook(wb, temporary, tables)
        if replace_existing:
            os.replace(temporary, path)
        else:
            path = publish_new(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path


def publish_new(temporary: Path, path: Path) -> Path:
    """Give the written `temporary` the first free name of `path`, `path-2`, ...; that name."""
    for n in range(1, _MAX_SAME_NAME):
        candidate = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
        try:  # the name is taken atomically: a file that exists is never overwritten
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        os.replace(temporary, candidate)
        return candidate
    raise FileExistsError(path)

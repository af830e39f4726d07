"""`batch report --run ID`: a run's report rebuilt from the journal (see report.from_journal)."""

from __future__ import annotations

from pathlib import Path

import click

from batch.cli.common import handle_errors
from batch.errors import InputError
from batch.settings import DEFAULT_JOURNAL_PATH, DEFAULT_REPORTS_DIR


@click.command("report", short_help="Write the report of a journal run (when its own was lost).")
@click.option("--run", "run_id", type=click.IntRange(1), required=True, help="The run's id.")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_JOURNAL_PATH,
    show_default=True,
    help="The run journal holding the run.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default reports/<file stem>-run<ID>-journal.xlsx).",
)
@handle_errors
def report_command(run_id: int, journal_path: Path, report_path: Path | None) -> None:
    """Write the report of journal run ID: what it planned and what became of each change.

    For a run whose own report could not be written. The journal holds no input lines or
    seats: this report lists the run and each change with its state, Zoom's code and message.
    """
    from batch.journal import Journal
    from batch.report import check_report_target
    from batch.report.from_journal import write_journal_report

    if not journal_path.is_file():
        raise InputError(f"journal {journal_path}: no such file; give --journal PATH")
    check_report_target(report_path, journal_path)
    with Journal(journal_path) as journal:
        try:
            run = journal.run(run_id)
        except KeyError:
            raise InputError(f"journal {journal_path}: has no run {run_id}") from None
        stem = Path(str(run["file_name"])).stem or "run"
        path = report_path or DEFAULT_REPORTS_DIR / f"{stem}-run{run_id}-journal.xlsx"
        path = write_journal_report(journal, run_id, path, replace_existing=report_path is not None)
    click.echo(f"Report: {path}")

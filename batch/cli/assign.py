"""`batch assign EMAIL LICENSE... [--remove LICENSE...]`: one user's licenses, on the command line.

Not a second implementation: the command line becomes a one-user file in the long layout
(`Email`, `License`, `Action`), written to a temporary folder and given to the same pipeline as
`batch apply FILE` (loader, file and account rules, planner, applier, journal, the account's
lock); so the codes (missing-prerequisite, no-seats, size-not-owned, ...) and the exit codes are
the same. The report is kept only with --report; the one result line is read from it.
When the account owns one size of an add-on, a license given without a size takes that size.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import replace
from pathlib import Path

import click
import pandas as pd

from batch.cli.common import (
    account_options,
    announce,
    build_settings,
    common_options,
    handle_errors,
    make_output,
    output_options,
)
from batch.errors import InputError
from batch.vocabulary import Action

HEADER = ("Email", "License", "Action")


def request_file(
    folder: Path, email: str, grants: tuple[str, ...], removals: tuple[str, ...]
) -> Path:
    """The command line as a long-layout CSV file in `folder`: one line per license."""
    if not grants and not removals:
        raise InputError("assign: name at least one LICENSE to give or --remove LICENSE to take")
    path = folder / f"assign-{_safe_name(email)}.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows([email, g, str(Action.ASSIGN)] for g in grants)
        writer.writerows([email, r, str(Action.REMOVE)] for r in removals)
    return path


def report_results(report: Path) -> pd.DataFrame:
    """The Results sheet of a report, as the result line needs it."""
    frame = pd.read_excel(report, sheet_name="Results", dtype=str, engine="openpyxl").fillna("")
    return frame.rename(columns=str.lower)


def _safe_name(email: str) -> str:
    """The email as a file-name part (reports are named after it)."""
    kept = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in email.strip())
    return kept[:80] or "user"


def result_line(email: str, results: pd.DataFrame) -> str:
    """One line: the user and, per license line, its outcome (and code and message if not fine)."""
    parts = []
    for line in results.itertuples(index=False):
        label = str(getattr(line, "license", "") or getattr(line, "action", ""))
        action = str(getattr(line, "action", ""))
        text = f"{label} {action} {line.outcome}".strip() if action == "remove" else ""
        text = text or f"{label} {line.outcome}".strip()
        code = str(getattr(line, "code", "") or "")
        message = str(getattr(line, "message", "") or "")
        if code:
            text += f" ({code}: {message})" if message else f" ({code})"
        elif message and str(line.outcome) not in ("applied", "planned"):
            text += f" ({message})"
        parts.append(text)
    return f"{email}: " + "; ".join(parts)


@click.command("assign", short_help="Change one user's licenses, with the same rules as a file.")
@click.argument("email")
@click.argument("licenses", nargs=-1)
@click.option(
    "--remove",
    "removals",
    multiple=True,
    metavar="LICENSE",
    help="A license to take from the user (repeatable), e.g. --remove 'Webinar 500'.",
)
@common_options
@account_options
@click.option("--dry-run", is_flag=True, default=None, help="Plan only: change nothing.")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run journal, an SQLite file (default .batch/journal.sqlite).",
)
@output_options
@handle_errors
def assign_command(
    email: str,
    licenses: tuple[str, ...],
    removals: tuple[str, ...],
    config_path: Path | None,
    **options: object,
) -> None:
    """Give EMAIL the LICENSEs (and take the --remove ones), with every rule of a file.

    LICENSE as in a file's License column: Licensed, Basic, On-prem, "Webinar 500", or an
    add-on without a size when the account owns one size of it. Prints one result line; writes
    a report only with --report. Exit codes as for apply.
    """
    import tempfile

    from batch.pipeline import apply_file

    given = options.get("report_path")
    keep = given if isinstance(given, Path) else None
    with tempfile.TemporaryDirectory(prefix="batch-assign-") as folder:
        file = request_file(Path(folder), email, licenses, removals)
        report = Path(folder) / "report.xlsx"
        settings = build_settings(config_path, **options)
        settings = replace(settings, report_path=keep or report)
        output = make_output(settings)
        announce(settings)
        outcome = apply_file(file, settings, output)
        results = report_results(outcome.report_path or report)
    click.echo(result_line(email.strip(), results))
    if keep is not None:
        click.echo(f"Report: {outcome.report_path}")
    sys.exit(outcome.exit_code)

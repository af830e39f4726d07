"""`batch inbox DIR`: for cron. Apply every file in DIR, archive it, one report each.

stdout: the account line first, one line per file, a last line with the exit code.
stderr: progress and events (JSON lines when not on a terminal), errors included, so a log
collector can parse every line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from batch.cli.common import (
    account_options,
    announce,
    build_settings,
    config_option,
    handle_errors,
    lock_wait_option,
    make_output,
    output_options,
    run_options,
    sandbox_option,
)
from batch.cli.confirm import YES
from batch.delivery import FileOutcome
from batch.delivery.inbox import run_inbox
from batch.delivery.intake import shown
from batch.delivery.lock import account_lock
from batch.errors import BatchError
from batch.output import Output
from batch.settings import Settings

if TYPE_CHECKING:
    from batch.pipeline import Confirm


@click.command("inbox", short_help="Apply every file dropped in DIR, archive each with its report.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--archive",
    "archive_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where processed files and their reports go (default DIR/archive): processed/ for "
    "exit 0-1, failed/ for the rest.",
)
@click.option(
    "--mail-to",
    "mail_to",
    multiple=True,
    metavar="ADDR",
    help="Mail each report to ADDR (repeatable; replaces [mail] recipients; needs [mail] host).",
)
@config_option
@sandbox_option
@account_options
@run_options
@lock_wait_option
@YES
@output_options
@handle_errors
def inbox_command(
    directory: Path,
    archive_dir: Path | None,
    mail_to: tuple[str, ...],
    config_path: Path | None,
    sandbox_path: Path | None,
    yes: bool,
    log_format: str | None,
    quiet: bool,
    **account_and_run: object,
) -> None:
    """Apply every CSV/XLSX file in DIR, oldest first, archive it with its report.

    Files still being written are left for the next run; files left by a killed run are
    finished first. Exit code: the worst of the files' codes (0 for an empty inbox); 75 when
    another run holds the lock. Run by hand on a terminal it asks before applying each file
    (not with --yes; cron, without a terminal, is never asked).
    """
    from batch.cli.confirm import asks, terminal_confirm
    from batch.cli.files import refuse_idle_options

    output = Output(log_format or "auto", quiet=quiet)
    try:
        settings = build_settings(
            config_path,
            sandbox_path=sandbox_path,
            mail_to=mail_to,
            log_format=log_format,
            quiet=quiet or None,
            inbox_dir=directory,
            **account_and_run,
            archive_dir=archive_dir,
        )
        refuse_idle_options(settings, {"sandbox_path": sandbox_path, **account_and_run}, 1)
        output = make_output(settings)
        announce(settings)
        confirm = terminal_confirm() if asks(yes) else None
        archive = settings.archive_dir or directory / "archive"
        with account_lock(settings):  # no apply on this account while the inbox runs
            process = _processor(output, confirm)
            code = run_inbox(directory, archive, settings, process, output=output)
    except BatchError as error:
        output.error(str(error), exit_code=error.exit_code)
        sys.exit(error.exit_code)
    click.echo(f"inbox {directory}: exit {code}; files and reports in {archive}")
    sys.exit(code)


def _processor(output: Output, confirm: Confirm | None) -> Callable[[Path, Settings], FileOutcome]:
    """The per-file step: the apply pipeline, its outcome turned into the inbox's FileOutcome."""

    def process(path: Path, settings: Settings) -> FileOutcome:
        from batch.pipeline import apply_file  # imported at the first file: empty runs stay light

        outcome = apply_file(path, settings, output, command="inbox", confirm=confirm)
        counts = ", ".join(f"{n} {name}" for name, n in outcome.counts.items() if n)
        click.echo(f"{shown(path.name)}: {counts or 'no lines'} (exit {outcome.exit_code})")
        return FileOutcome(outcome.exit_code, outcome.report_path, outcome, None)

    return process

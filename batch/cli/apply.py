"""`batch plan FILE...` and `batch apply FILE...`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from batch.cli.common import (
    account_options,
    announce,
    build_settings,
    common_options,
    handle_errors,
    lock_wait_option,
    make_output,
    output_options,
    run_options,
    sheet_option,
)
from batch.cli.confirm import YES
from batch.cli.files import refuse_idle_options, run_files
from batch.counts import RunSummary
from batch.delivery.mail import MailError, send_report
from batch.output import Output
from batch.settings import Settings

FILES = click.argument(
    "files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=Path)
)


@click.command("plan", short_help="Check files against the account; list what would change.")
@FILES
@common_options
@sheet_option
@account_options
@run_options
@output_options
@handle_errors
def plan_command(files: tuple[Path, ...], config_path: Path | None, **options: object) -> None:
    """Check each FILE against every rule and the account's current state; list what would change.

    Reads the account, writes nothing to it. Exits 0 when every line is planned or unchanged,
    1 when some are invalid (the worst of the files' codes).
    """
    from batch.pipeline import plan_file

    settings = build_settings(config_path, **options)
    refuse_idle_options(settings, options, len(files))
    output = make_output(settings)
    announce(settings)
    run_files(files, lambda path: plan_file(path, settings, output), output)


@click.command("apply", short_help="Plan files, then apply them in rate-limited chunks.")
@FILES
@common_options
@sheet_option
@account_options
@run_options
@click.option("--dry-run", is_flag=True, default=None, help="Plan only: change nothing.")
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 10_000),
    help="Operations per chunk: the unit of journaling and progress (default 200).",
)
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run journal, an SQLite file (default .batch/journal.sqlite).",
)
@click.option(
    "--mail-to",
    multiple=True,
    help="Mail the report to this address (repeatable; overrides the config's recipients).",
)
@lock_wait_option
@YES
@output_options
@handle_errors
def apply_command(
    files: tuple[Path, ...],
    config_path: Path | None,
    mail_to: tuple[str, ...],
    yes: bool,
    **options: object,
) -> None:
    """Plan each FILE, then apply it in rate-limited chunks; re-running changes nothing more.

    On a terminal it first shows the planned changes and asks `Apply N changes to ...? [y/N]`
    (not with --yes, never without a terminal). A run that was interrupted is finished by
    running the same file again: only what is still missing is applied.
    """
    from batch.cli.confirm import asks, terminal_confirm
    from batch.pipeline import apply_file

    settings = build_settings(config_path, mail_to=mail_to, **options)
    refuse_idle_options(settings, {**options, "yes": yes}, len(files))
    output = make_output(settings)
    announce(settings)
    confirm = terminal_confirm() if asks(yes) and not settings.dry_run else None

    def run_one(path: Path) -> RunSummary:
        return deliver(apply_file(path, settings, output, confirm=confirm), settings, output)

    run_files(files, run_one, output)


def deliver(outcome: RunSummary, settings: Settings, output: Output) -> RunSummary:
    """Mail the report when mail is configured; a mail that fails is logged and makes exit 1.

    The report stays in place whatever happens to the mail.
    """
    if not settings.mail.enabled:
        return outcome
    try:
        send_report(settings.mail, outcome.report_path, outcome)
    except MailError as error:
        output.error(str(error), file=outcome.file_name)
        return replace(outcome, exit_code=max(outcome.exit_code, error.exit_code))
    output.event("mail", file=outcome.file_name, status="sent")
    return outcome

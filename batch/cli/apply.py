"""`batch plan FILE` and `batch apply FILE`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from batch.cli.common import (
    account_options,
    announce,
    build_settings,
    common_options,
    finish,
    handle_errors,
    lock_wait_option,
    make_output,
    output_options,
    run_options,
    sheet_option,
)
from batch.delivery.mail import MailError, send_report
from batch.output import Output
from batch.pipeline import RunOutcome
from batch.settings import Settings


@click.command("plan")
@click.argument("file", type=click.Path(path_type=Path))
@common_options
@sheet_option
@account_options
@run_options
@output_options
@handle_errors
def plan_command(file: Path, config_path: Path | None, **options: object) -> None:
    """Check FILE against every rule and the account's current state; list what would change.

    Reads the account, writes nothing to it. Exits 0 when every line is planned or unchanged,
    1 when some are invalid.
    """
    from batch.pipeline import plan_file

    settings = build_settings(config_path, **options)
    output = make_output(settings)
    announce(settings)
    finish(plan_file(file, settings, output), output)


@click.command("apply")
@click.argument("file", type=click.Path(path_type=Path))
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
@output_options
@handle_errors
def apply_command(
    file: Path, config_path: Path | None, mail_to: tuple[str, ...], **options: object
) -> None:
    """Plan FILE, then apply it in rate-limited chunks; re-running it changes nothing more.

    A run that was interrupted is finished by running the same file again: the account is
    re-read and only what is still missing is applied.
    """
    from batch.pipeline import apply_file

    settings = build_settings(config_path, mail_to=mail_to, **options)
    output = make_output(settings)
    announce(settings)
    outcome = apply_file(file, settings, output)
    finish(deliver(outcome, settings, output), output)


def deliver(outcome: RunOutcome, settings: Settings, output: Output) -> RunOutcome:
    """Mail the report when mail is configured; a mail that fails is logged and makes exit 1.

    The report stays in place whatever happens to the mail.
    """
    if not settings.mail.enabled:
        return outcome
    try:
        send_report(settings.mail, outcome.report_path, outcome.summary())
    except MailError as error:
        output.error(str(error), file=outcome.file_name)
        return replace(outcome, exit_code=max(outcome.exit_code, error.exit_code))
    output.event("mail", file=outcome.file_name, status="sent")
    return outcome

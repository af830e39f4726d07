"""What every command shares: the common options, settings assembly and error handling."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from batch.errors import BatchError, InternalError
from batch.settings import DEFAULT_CONFIG_PATH, Settings, oauth_url_beside
from batch.vocabulary import Mode

if TYPE_CHECKING:
    from batch.counts import RunSummary
    from batch.output import Output

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("batch")


def common_options(func: F) -> F:
    """Add `--config`, `--report` and `--sandbox` to a command."""
    return config_option(report_option(sandbox_option(func)))


def reading_options(func: F) -> F:
    """Add `--config`, `--sandbox`, `--api-url`, `--oauth-url`: for commands reading an account."""
    return config_option(sandbox_option(account_options(func)))


def sandbox_option(func: F) -> F:
    """Add `--sandbox`: the emulated account a command that reads an account uses."""
    return click.option(
        "--sandbox",
        "sandbox_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Use the emulated account stored in this JSON file instead of Zoom.",
    )(func)


def report_option(func: F) -> F:
    """Add `--report`: where the one report of a one-file run goes."""
    return click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Where to write the Excel report (default reports/<file stem>-<UTC timestamp>.xlsx; "
        "one FILE only).",
    )(func)


def config_option(func: F) -> F:
    """Add `--config`."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Config file (TOML; default ./{DEFAULT_CONFIG_PATH} when it exists).",
    )(func)


def sheet_option(func: F) -> F:
    """Add `--sheet NAME`: the workbook sheet to read."""
    return click.option(
        "--sheet",
        help="The workbook sheet to read (default: the active sheet, or the only one with a "
        "header we recognise).",
    )(func)


def build_settings(config_path: Path | None, **options: Any) -> Settings:
    """Settings from defaults < config file < environment < command options."""
    from batch.cli.safety import check_account_options, check_config_file
    from batch.config import load_config

    warning = check_config_file(config_path)
    settings = load_config(config_path, os.environ)  # the environment's credentials included
    mail_to = options.pop("mail_to", ())
    if mail_to:
        settings = replace(settings, mail=replace(settings.mail, recipients=tuple(mail_to)))
    sheet = options.pop("sheet", None)
    if sheet is not None:
        settings = replace(settings, intake=replace(settings.intake, sheet=sheet))
    mode = options.pop("mode", None)
    if mode is not None:
        settings = replace(settings, mode=Mode(mode))
    if not options.get("oauth_url"):
        options["oauth_url"] = oauth_url_beside(options.get("api_url"))
    settings = settings.with_options(**options)
    if options.get("sandbox_path") is not None:
        # --sandbox wins over any credentials: such a run must never touch a real account.
        settings = replace(settings, credentials=None)
    check_account_options(settings, options, config_path)
    if warning:
        make_output(settings).warning(warning)
    return settings


def handle_errors(func: F) -> F:
    """Turn a BatchError into its one `Error:` line and exit code; never a traceback.

    A command with `--log-format` writes it through Output: a JSON `error` event when its logs
    are JSON lines (no terminal), so a log collector can parse every stderr line. Any other
    exception is an internal failure: exit 70, one line, the traceback only in the debug log
    (`BATCH_DEBUG=1`). Ctrl-C or SIGTERM before anything is sent: exit 130 or 143.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BatchError as error:
            _say(error, kwargs)
        except Interrupted as interrupt:
            click.echo("Error: interrupted before anything was sent", err=True)
            sys.exit(interrupt.exit_code)
        except KeyboardInterrupt:
            click.echo("Error: interrupted before anything was sent", err=True)
            sys.exit(130)
        except Exception as error:
            logger.debug("internal failure", exc_info=True)
            _say(InternalError(f"internal failure: {type(error).__name__}: {error}"), kwargs)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


def _say(error: BatchError, kwargs: dict[str, Any]) -> None:
    """Print `error` as its one line (a JSON event when the command's logs are JSON); exit."""
    if "log_format" in kwargs:
        # a command with logs: its error is a JSON line too when the logs are JSON
        from batch.output import Output

        Output(kwargs["log_format"] or "auto").error(str(error), exit_code=error.exit_code)
    else:
        click.echo(f"Error: {error}", err=True)
    sys.exit(error.exit_code)


class Interrupted(KeyboardInterrupt):
    """SIGTERM outside a run's apply step: the process stops like on Ctrl-C, with exit 143."""

    exit_code = 143


def stop_on_sigterm() -> None:
    """Make SIGTERM end the process like Ctrl-C (clean-ups run), with exit 143."""
    import signal

    def terminate(signum: int, frame: object) -> None:
        raise Interrupted()

    signal.signal(signal.SIGTERM, terminate)


def lock_wait_option(func: F) -> F:
    """Add `--wait SECONDS`: wait that long for another run's account lock (default 0)."""
    return click.option(
        "--wait",
        "lock_wait_s",
        type=click.FloatRange(0),
        help="When another run holds the account's lock, wait up to SECONDS for it "
        "(default: exit 75 at once).",
    )(func)


def output_options(func: F) -> F:
    """Add `--log-format` and `--quiet` to a command."""
    func = click.option(
        "--quiet", "-q", is_flag=True, help="Only errors and the final summary line."
    )(func)
    func = click.option(
        "--log-format",
        type=click.Choice(["auto", "text", "json"]),
        help="Progress and logs on stderr: auto (a progress bar on a terminal, JSON lines "
        "otherwise), text or json.",
    )(func)
    return func


def make_output(settings: Settings) -> Output:
    """The terminal/JSON output a command reports through."""
    from batch.output import Output

    return Output(settings.log_format, quiet=settings.quiet)


def finish(outcome: RunSummary, output: Output) -> None:
    """Print the run's summary on stdout and exit with the run's exit code."""
    output.summary(dict(outcome.counts), outcome.seats_lines)
    counts = ", ".join(f"{n} {name}" for name, n in outcome.counts.items() if n)
    name = "".join(c if c.isprintable() else repr(c)[1:-1] for c in outcome.file_name)
    click.echo(f"{outcome.command} {name}: {counts or 'no lines'}")
    click.echo(f"Report: {outcome.report_path}")
    sys.exit(outcome.exit_code)


def account_options(func: F) -> F:
    """Add `--api-url` and `--oauth-url`: talk to a served sandbox (or another Zoom host)."""
    func = click.option(
        "--oauth-url",
        help="Token endpoint (default https://zoom.us/oauth/token; with --api-url, the same "
        "host's /oauth/token).",
    )(func)
    func = click.option(
        "--api-url",
        help="Zoom API base URL (default https://api.zoom.us/v2), e.g. a served sandbox's "
        "http://127.0.0.1:8080/v2.",
    )(func)
    return func


def run_options(func: F) -> F:
    """Add the planning options: `--mode`, `--max-removals`, `--all-or-nothing`,
    `--full-account`."""
    func = click.option(
        "--full-account/--no-full-account",
        default=None,
        help="Read the add-ons of every Licensed and On-prem user, so Chargeback attributes "
        "every seat (default: off; on for inbox). Takes one request per such user.",
    )(func)
    func = click.option(
        "--all-or-nothing",
        is_flag=True,
        default=None,
        help="Refuse every grant of a license and size when they do not all fit in the free "
        "seats (default: first rows win).",
    )(func)
    func = click.option(
        "--max-removals",
        callback=check_max_removals,
        help="Sync only: the most removals per license type, a count (25) or a percentage of "
        "its holders (5%, the default); beyond it the run stops with exit 4 before any change.",
    )(func)
    func = click.option(
        "--mode",
        type=click.Choice(["apply", "sync"]),
        help="apply (default): do what the file says; sync: the file is the complete desired "
        "state of the license types it mentions, users not in it lose them.",
    )(func)
    return func


def check_max_removals(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a `--max-removals` that is no count or percentage, before any file is read."""
    from batch.planning.sync import parse_max_removals

    if value is not None:
        try:
            parse_max_removals(value)
        except BatchError as error:
            raise click.BadParameter(
                f"{value!r}: give a count (25) or a percentage (5%)"
            ) from error
    return value


def announce(settings: Settings) -> None:
    """The first output line of a command that reads the account says which account it is."""
    from batch.account import account_announcement

    click.echo(account_announcement(settings))

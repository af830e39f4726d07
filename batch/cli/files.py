"""Running a command over several files, and refusing options that would do nothing.

`batch validate|plan|apply FILE...` runs each file in turn, one report each; the exit code is
the worst (highest) of the files' codes. A file that cannot be used (exit 2) or is stopped by a
safety limit (exit 4) ends only its own run: the next file is still done. An account that
cannot be reached (exit 3) ends the whole command, since every later file would fail the same.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from batch.errors import AccountError, ApplyStopped, BatchError, InputError, NotConfirmed
from batch.vocabulary import Mode

if TYPE_CHECKING:
    from batch.counts import RunSummary
    from batch.output import Output
    from batch.settings import Settings


def refuse_idle_options(settings: Settings, given: Mapping[str, object], files: int) -> None:
    """Exit 2 (InputError) for an option given on the command line that has no effect here.

    `given` holds the command's options as click parsed them (None or empty: not given).
    """

    def has(name: str) -> bool:
        value = given.get(name)
        return value is not None and value != () and value is not False

    if has("report_path") and files > 1:
        raise InputError(
            f"--report names one report but {files} files were given: leave --report out "
            "(each file gets its own report in reports/) or give one file"
        )
    if has("max_removals") and settings.mode is not Mode.SYNC:
        raise InputError(
            "--max-removals has no effect without --mode sync (only sync removes licenses "
            "the file does not name): add --mode sync or leave --max-removals out"
        )
    if has("sandbox_path") and has("api_url"):
        raise InputError(
            "--sandbox and --api-url name two different accounts: give --sandbox for the "
            "emulated account in a file, or --api-url for a served one"
        )
    if settings.dry_run:
        for name, option in (("chunk_size", "--chunk-size"), ("journal_path", "--journal")):
            if has(name):
                raise InputError(
                    f"{option} has no effect with --dry-run (nothing is applied): "
                    f"leave one of them out"
                )
        if has("yes"):
            raise InputError(
                "--yes has no effect with --dry-run (a dry run asks nothing): leave one out"
            )


def run_files(
    files: Sequence[Path], run_one: Callable[[Path], RunSummary], output: Output
) -> NoReturn:
    """Run each file, print its result lines, exit with the worst code of them all."""
    from batch.cli.summary_table import print_outcome

    worst = 0
    for path in files:
        try:
            outcome = run_one(path)
        except NotConfirmed as declined:
            click.echo(f"{path.name}: {declined}")
            worst = max(worst, declined.exit_code)
            continue
        except BatchError as error:
            if len(files) == 1 or _account_refused(error):
                raise  # the account stops every file, not this one only
            message = str(error)
            if not message.startswith(path.name):
                message = f"{path.name}: {message}"
            output.error(message, exit_code=error.exit_code)
            worst = max(worst, error.exit_code)
            continue
        print_outcome(outcome, output)
        worst = max(worst, outcome.exit_code)
    sys.exit(worst)


def _account_refused(error: BatchError) -> bool:
    """True when the account stopped the run (before applying, or partway through it)."""
    cause = error.cause if isinstance(error, ApplyStopped) else error
    return isinstance(cause, AccountError)

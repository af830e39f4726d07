"""`batch validate FILE...`: file rules only, offline."""

from __future__ import annotations

from pathlib import Path

import click

from batch.cli.common import (
    build_settings,
    config_option,
    handle_errors,
    make_output,
    output_options,
    report_option,
    sheet_option,
)
from batch.cli.files import refuse_idle_options, run_files


@click.command("validate", short_help="Check files against the file rules only (offline).")
@click.argument(
    "files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=Path)
)
@config_option
@report_option
@sheet_option
@output_options
@handle_errors
def validate_command(
    files: tuple[Path, ...],
    config_path: Path | None,
    report_path: Path | None,
    sheet: str | None,
    log_format: str | None,
    quiet: bool,
) -> None:
    """Check each FILE against the file rules only (works offline, touches no account).

    Prints a summary, writes one report per file and exits 0 when every line is valid, 1 when
    some are invalid, 2 when a file cannot be used (the worst of the files' codes).
    """
    from batch.pipeline import validate_file

    settings = build_settings(
        config_path,
        report_path=report_path,
        sheet=sheet,
        log_format=log_format,
        quiet=quiet or None,
    )
    refuse_idle_options(settings, {"report_path": report_path}, len(files))
    output = make_output(settings)
    run_files(files, lambda path: validate_file(path, settings, output), output)

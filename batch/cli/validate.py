"""`batch validate FILE`: file rules only, offline."""

from __future__ import annotations

from pathlib import Path

import click

from batch.cli.common import (
    build_settings,
    common_options,
    finish,
    handle_errors,
    make_output,
    output_options,
    sheet_option,
)


@click.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
@common_options
@sheet_option
@output_options
@handle_errors
def validate_command(
    file: Path,
    config_path: Path | None,
    report_path: Path | None,
    sandbox_path: Path | None,
    sheet: str | None,
    log_format: str | None,
    quiet: bool,
) -> None:
    """Check FILE against the file rules only (works offline, touches no account).

    Prints a summary, writes the report and exits 0 when every line is valid, 1 when some
    are invalid, 2 when the file cannot be used.
    """
    from batch.pipeline import validate_file

    settings = build_settings(
        config_path,
        report_path=report_path,
        sandbox_path=sandbox_path,
        sheet=sheet,
        log_format=log_format,
        quiet=quiet or None,
    )
    output = make_output(settings)
    finish(validate_file(file, settings, output), output)

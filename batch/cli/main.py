"""The `batch` command group."""

from __future__ import annotations

import click

from batch import __version__
from batch.cli.apply import apply_command, plan_command
from batch.cli.inbox import inbox_command
from batch.cli.sandbox import sandbox_group
from batch.cli.validate import validate_command
from batch.cli.web import web_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="batch")
def cli() -> None:
    """Check and apply a spreadsheet of Zoom license assignments, with an Excel report."""


cli.add_command(validate_command)
cli.add_command(plan_command)
cli.add_command(apply_command)
cli.add_command(inbox_command)
cli.add_command(sandbox_group)
cli.add_command(web_group)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="batch")

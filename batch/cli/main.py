"""The `batch` command group."""

from __future__ import annotations

import os

import click

from batch import __version__, scrub
from batch.cli.apply import apply_command, plan_command
from batch.cli.assign import assign_command
from batch.cli.common import stop_on_sigterm
from batch.cli.export import export_command
from batch.cli.inbox import inbox_command
from batch.cli.report import report_command
from batch.cli.sandbox import sandbox_group
from batch.cli.show import show_command
from batch.cli.template import template_command
from batch.cli.validate import validate_command
from batch.cli.web import web_group
from batch.output import forward_logs


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="batch")
def cli() -> None:
    """Check and apply a spreadsheet of Zoom license assignments, with an Excel report."""


cli.add_command(validate_command)
cli.add_command(plan_command)
cli.add_command(apply_command)
cli.add_command(inbox_command)
cli.add_command(report_command)
cli.add_command(assign_command)
cli.add_command(export_command)
cli.add_command(show_command)
cli.add_command(template_command)
cli.add_command(sandbox_group)
cli.add_command(web_group)


def main() -> None:
    """Console-script entry point."""
    scrub.install()  # every line on stdout and stderr goes through the one scrubber
    # log records are events of the run's output; BATCH_DEBUG adds debug records and the
    # tracebacks of internal failures, for a bug report
    forward_logs(debug=bool(os.environ.get("BATCH_DEBUG")))
    stop_on_sigterm()
    cli(prog_name="batch")

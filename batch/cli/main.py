"""The `batch` command group.

Each command's module is imported when the command runs (or when help lists it), not at start:
`batch validate` does not pay for the applier, the sandbox server or the web app. The group
knows the commands by name and where they live.
"""

from __future__ import annotations

import gc
import importlib
import os
from typing import Final

import click

from batch import __version__, scrub
from batch.cli.common import stop_on_sigterm
from batch.output import forward_logs

GC_YOUNG_THRESHOLD: Final = 10_000  # new objects between two young collections (CPython: 700)

# command name -> "module:attribute" of its click command
COMMANDS: Final = {
    "validate": "batch.cli.validate:validate_command",
    "plan": "batch.cli.apply:plan_command",
    "apply": "batch.cli.apply:apply_command",
    "inbox": "batch.cli.inbox:inbox_command",
    "report": "batch.cli.report:report_command",
    "assign": "batch.cli.assign:assign_command",
    "export": "batch.cli.export:export_command",
    "show": "batch.cli.show:show_command",
    "template": "batch.cli.template:template_command",
    "sandbox": "batch.cli.sandbox:sandbox_group",
    "web": "batch.cli.web:web_group",
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name on first use (click's lazy-group pattern)."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command) and command.name == cmd_name
            self.add_command(command)
            _imported()
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="batch")
def cli() -> None:
    """Check and apply a spreadsheet of Zoom license assignments, with an Excel report."""


def _imported() -> None:
    """The command's modules are loaded: what they made lives until the process ends.

    `main` turns the cyclic garbage collector off for the start-up; here the objects made so
    far are moved where it never looks again (gc.freeze) and it is turned back on. Each full
    collection of the run then walks the run's own objects, not pandas' and pandera's
    hundreds of thousands. A young collection then waits for 10,000 new objects, not 700: a
    run makes objects by the hundred thousand (users, rows) and few of them in cycles. Time in
    the collector over `batch plan` of 100k lines went from 0.96 s to 0.21 s
    (benchmarks/README.md). A process that did not start in `main` (a test calling `cli`)
    keeps its collector as it is.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
        gc.enable()


def main() -> None:
    """Console-script entry point."""
    gc.disable()  # until the command's modules are loaded: see _imported
    scrub.install()  # every line on stdout and stderr goes through the one scrubber
    # log records are events of the run's output; BATCH_DEBUG adds debug records and the
    # tracebacks of internal failures, for a bug report
    forward_logs(debug=bool(os.environ.get("BATCH_DEBUG")))
    stop_on_sigterm()
    cli(prog_name="batch")

"""`batch inbox DIR`: for cron."""

from __future__ import annotations

import click


@click.command("inbox")
def inbox_command() -> None:
    """Apply every file in DIR, archive it, one report each."""
    raise click.UsageError("not built yet")

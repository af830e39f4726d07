"""`batch plan FILE` and `batch apply FILE`."""

from __future__ import annotations

import click


@click.command("plan")
def plan_command() -> None:
    """Check FILE against the account and list what would change."""
    raise click.UsageError("not built yet")


@click.command("apply")
def apply_command() -> None:
    """Plan FILE, then apply it in chunks."""
    raise click.UsageError("not built yet")

"""`batch validate FILE`: file rules only, offline."""

from __future__ import annotations

import click


@click.command("validate")
def validate_command() -> None:
    """Check FILE against the file rules only (works offline)."""
    raise click.UsageError("not built yet")

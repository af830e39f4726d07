"""`batch sandbox init|show|serve`."""

from __future__ import annotations

import click


@click.group("sandbox")
def sandbox_group() -> None:
    """Create, show or serve the emulated account."""

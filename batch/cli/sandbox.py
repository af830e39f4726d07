"""`batch sandbox init|show|serve`: create, inspect or serve the emulated account."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from batch.cli.common import handle_errors
from batch.sandbox import Faults, Sandbox, init_account, serve
from batch.sandbox.account import BASE, Account, read_account
from batch.settings import DEFAULT_SANDBOX_PATH
from batch.vocabulary import ADDON_NAMES, ADDONS, UserType

PATH_ARGUMENT = click.argument(
    "path",
    required=False,
    default=DEFAULT_SANDBOX_PATH,
    type=click.Path(dir_okay=False, path_type=Path),
)


def _existing(path: Path) -> Path:
    """The account file, created from the demo account (saying so) when it is missing."""
    if not path.exists():
        init_account(path)
        click.echo(f"Created {path} from the demo account.", err=True)
    return path


@click.group("sandbox")
def sandbox_group() -> None:
    """Create, show or serve the emulated account."""


@sandbox_group.command("init")
@PATH_ARGUMENT
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@handle_errors
def init_command(path: Path, force: bool) -> None:
    """Create PATH (default .batch/sandbox.json) from the demo account."""
    init_account(path, force=force)
    account = read_account(path)
    click.echo(f"Created {path}: demo account, {account.plan} plan, {len(account.users)} users.")


@sandbox_group.command("show", short_help="Show the plan, seats per license and size, and users.")
@PATH_ARGUMENT
@handle_errors
def show_command(path: Path) -> None:
    """Show the account: plan, seats per license and size, users and what they hold."""
    account = read_account(_existing(path))
    tables = _tables(account)
    title = (
        f"Sandbox account {account.id} ({path}): {account.plan} plan, On-prem user type "
        f"{'available' if account.on_prem else 'not available'}"
    )
    print_tables(title, tables)


Table = tuple[str, tuple[str, ...], list[tuple[str, ...]]]


def _tables(account: Account) -> list[Table]:
    seats: list[tuple[str, ...]] = []
    for key in sorted(
        account.purchased, key=lambda k: (ADDONS.index(k[0]) + 1 if k[1] else 0, k[1] or 0)
    ):
        kind, size = key
        name = "Licensed / On-prem" if key == BASE else f"{ADDON_NAMES[kind]} {size}"
        purchased, used = account.purchased[key], account.usage[key]
        seats.append((name, str(purchased), str(used), str(purchased - used)))
    counts: dict[tuple[str, str], int] = {}
    for user in account.users:
        counts[(str(user.type), user.status)] = counts.get((str(user.type), user.status), 0) + 1
    statuses = ("active", "pending", "inactive")
    by_type = [(str(t), *(str(counts.get((str(t), s), 0)) for s in statuses)) for t in UserType]
    users = [
        (
            user.email,
            f"{user.first_name} {user.last_name}".strip(),
            user.dept,
            str(user.type),
            user.status,
            *(str(user.addon(kind) or "") for kind in ADDONS),
        )
        for user in account.users
    ]
    return [
        ("Seats", ("License", "Purchased", "Used", "Free"), seats),
        ("Users by type and status", ("Type", *statuses), by_type),
        (
            f"Users ({len(account.users)})",
            ("Email", "Name", "Dept", "Type", "Status", *(ADDON_NAMES[k] for k in ADDONS)),
            users,
        ),
    ]


def print_tables(title: str, tables: list[Table]) -> None:
    """The title and the tables: drawn on a terminal, plain text otherwise (for pipes and logs)."""
    if sys.stdout.isatty():
        _print_rich(title, tables)
    else:
        click.echo(title)
        for name, headers, rows in tables:
            click.echo(f"\n{name}")
            click.echo(_plain_table(headers, rows))


def _plain_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    lines = [headers, tuple("-" * w for w in widths), *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _print_rich(title: str, tables: list[Table]) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console()
    console.print(f"[bold]{title}[/bold]")
    for name, headers, rows in tables:
        table = RichTable(title=name, title_justify="left")
        for header in headers:
            table.add_column(header)
        for row in rows:
            table.add_row(*row)
        console.print(table)


@sandbox_group.command("serve", short_help="Serve the account over HTTP on 127.0.0.1.")
@PATH_ARGUMENT
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="TCP port (0: any free port).")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--latency-ms", type=click.FloatRange(min=0), default=0.0, help="Added to every answer."
)
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests answered 500/502/503.")  # fmt: skip
@click.option("--drop-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests whose connection is dropped.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the faults.")
@handle_errors
def serve_command(
    path: Path,
    port: int,
    host: str,
    latency_ms: float,
    error_rate: float,
    drop_rate: float,
    seed: int,
) -> None:
    """Serve the account over HTTP (API under /v2, token at /oauth/token) until Ctrl-C."""
    faults = Faults(
        error_rate=error_rate, latency_s=latency_ms / 1000, drop_rate=drop_rate, seed=seed
    )
    sandbox = Sandbox.from_file(_existing(path), faults=faults)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with serve(sandbox, host=host, port=port) as url:
        click.echo(f"Sandbox {path} serving at {url} (API {url}/v2, token {url}/oauth/token)")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    flushes = sandbox._file.flushes if sandbox._file else 0
    click.echo(
        f"Stopped after {sandbox.stats.writes} writes ({flushes} saves); {path} is saved.", err=True
    )

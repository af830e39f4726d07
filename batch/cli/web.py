"""`batch web`: serve the web app; `batch web user ...` and `batch web token` manage its users."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from batch.cli.common import account_options, build_settings, handle_errors, sandbox_option
from batch.errors import InputError
from batch.settings import Settings


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _store(settings: Settings) -> Any:
    from batch.web.app import state_dir
    from batch.web.store import STORE_FILE_NAME, Store

    return Store(state_dir(settings) / STORE_FILE_NAME)


@click.group(
    "web",
    invoke_without_command=True,
    short_help="Serve the web app: upload, preview, apply, history.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (TOML; default ./batch.toml when it exists); its [web] section too.",
)
@sandbox_option
@account_options
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run journal (default .batch/journal.sqlite); the web's users and runs are kept "
    "beside it in web.sqlite.",
)
@click.option("--host", help="Address to listen on (default 127.0.0.1, or [web] host).")
@click.option(
    "--port", type=click.IntRange(1, 65535), help="Port to listen on (default 8000, or [web] port)."
)
@click.pass_context
@handle_errors
def web_group(
    ctx: click.Context,
    /,
    config_path: Path | None,
    host: str | None,
    port: int | None,
    **options: Any,
) -> None:
    """Serve the web app: upload a file, preview its plan, apply it, download the report.

    Sign-in is needed: add the first user with `batch web user add NAME --role admin`.
    """
    from dataclasses import replace

    settings = build_settings(config_path, **options)
    settings = replace(
        settings,
        web=replace(settings.web, host=host or settings.web.host, port=port or settings.web.port),
    )
    ctx.obj = settings
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from batch.account import account_announcement
    from batch.web.app import create_app

    click.echo(account_announcement(settings))
    click.echo(f"Serving on http://{settings.web.host}:{settings.web.port}/ (Ctrl+C stops it)")
    uvicorn.run(
        create_app(settings),
        host=settings.web.host,
        port=settings.web.port,
        log_level="info",
        proxy_headers=True,
        server_header=False,
    )


@web_group.group("user")
def user_group() -> None:
    """Add, list and remove the people who may sign in."""


@user_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["admin", "viewer"]),
    required=True,
    help="admin: upload, plan, apply, cancel; viewer: history, runs and reports only.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of prompting.",
)
@click.pass_context
@handle_errors
def user_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add a user; the password is prompted for (twice) or read from stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise InputError("the password must be at least 8 characters")
    store = _store(_settings(ctx))
    try:
        store.add_user(name, role, password)
    except ValueError as error:
        raise InputError(str(error)) from None
    click.echo(f"Added {name} ({role}).")


@user_group.command("list")
@click.pass_context
@handle_errors
def user_list(ctx: click.Context) -> None:
    """List the users and their roles."""
    for user in _store(_settings(ctx)).users():
        click.echo(f"{user.name}\t{user.role}")


@user_group.command("remove")
@click.argument("name")
@click.pass_context
@handle_errors
def user_remove(ctx: click.Context, name: str) -> None:
    """Remove a user and their API tokens."""
    if not _store(_settings(ctx)).remove_user(name):
        raise InputError(f"no user {name}")
    click.echo(f"Removed {name}.")


@web_group.command("token")
@click.argument("name")
@click.pass_context
@handle_errors
def token_command(ctx: click.Context, name: str) -> None:
    """Print a new API token for a user (shown once; keep it like a password)."""
    try:
        token = _store(_settings(ctx)).new_token(name)
    except KeyError:
        raise InputError(f"no user {name}") from None
    click.echo(token)

"""What every command shares: the common options, settings assembly and error handling."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from batch.errors import BatchError
from batch.settings import DEFAULT_CONFIG_PATH, Settings, credentials_from_env

F = TypeVar("F", bound=Callable[..., Any])


def common_options(func: F) -> F:
    """Add `--config`, `--report` and `--sandbox` to a command."""
    func = click.option(
        "--sandbox",
        "sandbox_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Use the emulated account stored in this JSON file instead of Zoom.",
    )(func)
    func = click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Where to write the Excel report (default reports/<file stem>-<UTC timestamp>.xlsx).",
    )(func)
    func = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Config file (TOML; default ./{DEFAULT_CONFIG_PATH} when it exists).",
    )(func)
    return func


def build_settings(config_path: Path | None, **options: Any) -> Settings:
    """Settings from defaults < config file < environment < command options."""
    from batch.config import load_config

    settings = load_config(config_path, os.environ)
    env_credentials = credentials_from_env(os.environ)
    if env_credentials is not None:
        settings = settings.with_options(credentials=env_credentials)
    settings = settings.with_options(**options)
    if settings.sandbox_path is not None and options.get("sandbox_path") is not None:
        # --sandbox wins over any credentials: the run must never touch a real account.
        from dataclasses import replace

        settings = replace(settings, credentials=None)
    return settings


def handle_errors(func: F) -> F:
    """Turn a BatchError into its one `Error:` line and exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BatchError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature

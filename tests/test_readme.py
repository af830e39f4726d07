"""The README documents every command and option, and starts with the two set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from batch.cli.main import cli

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "batch") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    context = click.Context(group)
    for name in group.list_commands(context):  # the lazy group imports each command here
        command = group.get_command(context, name)
        assert command is not None, name
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(cli)
OPTIONS = sorted(
    {
        (path, opt)
        for path, command in COMMANDS
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    }
)


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[p for p, _ in COMMANDS])
def test_every_command_is_documented(path: str) -> None:
    """Each command has its own heading or usage line in the README."""
    assert f"`{path}" in README, f"{path} is not documented in README.md"


@pytest.mark.parametrize("option", sorted({o for _, o in OPTIONS}))
def test_every_option_is_documented(option: str) -> None:
    """Each option of every command is named in the README."""
    assert re.search(rf"`{re.escape(option)}[ `=\]]", README), f"{option} missing in README.md"


def test_readme_starts_with_the_two_setup_commands() -> None:
    """The first two indented commands run the sample against the sandbox, then the tests."""
    commands = re.findall(r"^    (\S.*)$", README, flags=re.MULTILINE)[:2]
    assert "batch apply samples/" in commands[0]
    assert "pytest" in commands[1]
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    test_command = commands[1].split("&& .venv/bin/")[-1]
    assert test_command in ci, f"CI does not run the README's test command {test_command!r}"

"""Help and options agree: each command lists only what it uses, checks options before reading
files, refuses an option that would do nothing, and takes several files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from batch.cli.main import cli

if TYPE_CHECKING:
    from tests.conftest import Workspace

OUTPUT = {"--log-format", "--quiet", "--help"}
ACCOUNT = {"--sandbox", "--api-url", "--oauth-url"}
RUN = {"--mode", "--max-removals", "--all-or-nothing", "--full-account"}
# What each command really uses: the options its run reads, nothing more.
USED = {
    "validate": {"--config", "--report", "--sheet", *OUTPUT},
    "plan": {"--config", "--report", "--sheet", *ACCOUNT, *RUN, *OUTPUT},
    "apply": {
        "--config",
        "--report",
        "--sheet",
        *ACCOUNT,
        *RUN,
        *OUTPUT,
        "--wait",
        "--dry-run",
        "--chunk-size",
        "--journal",
        "--mail-to",
        "--yes",
    },
    "inbox": {"--config", "--archive", "--mail-to", *ACCOUNT, *RUN, "--wait", "--yes", *OUTPUT},
}


def help_options(*command: str) -> set[str]:
    """The long options a command's --help lists."""
    result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return set(re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", result.output, flags=re.MULTILINE))


@pytest.mark.parametrize("command", sorted(USED), ids=sorted(USED))
def test_help_lists_exactly_the_options_the_command_uses(command: str) -> None:
    """`batch CMD --help` lists the options CMD uses and no other (no --report for inbox, no
    --sandbox for validate)."""
    assert help_options(command) == USED[command]


@pytest.mark.parametrize("group", [(), ("sandbox",)], ids=["batch", "batch sandbox"])
def test_short_help_lines_are_not_cut(group: tuple[str, ...]) -> None:
    """The command list of a group shows each command's short help whole, with no '...'."""
    result = CliRunner().invoke(cli, [*group, "--help"], terminal_width=80)
    commands = result.output.split("Commands:")[1]
    assert "..." not in commands, commands


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["plan", "missing.csv", "--max-removals", "ten"],
            "Invalid value for '--max-removals': 'ten': give a count (25) or a percentage (5%)",
        ),
        (
            ["plan", "missing.csv", "--max-removals", "3"],
            "--max-removals has no effect without --mode sync",
        ),
        (
            ["apply", "missing.csv", "--dry-run", "--chunk-size", "10"],
            "--chunk-size has no effect with --dry-run",
        ),
        (["apply", "missing.csv", "--dry-run", "--yes"], "--yes has no effect with --dry-run"),
        (
            [
                "plan",
                "missing.csv",
                "--sandbox",
                "account.json",
                "--api-url",
                "http://127.0.0.1:9/v2",
            ],
            "--sandbox and --api-url name two different accounts",
        ),
        (
            ["validate", "a.csv", "b.csv", "--report", "r.xlsx"],
            "--report names one report but 2 files were given",
        ),
        (["inbox", "inbox", "--report", "r.xlsx"], "No such option '--report'"),
    ],
    ids=[
        "max-removals-ten",
        "max-removals-without-sync",
        "chunk-size-with-dry-run",
        "yes-with-dry-run",
        "sandbox-and-api-url",
        "report-with-two-files",
        "inbox-report",
    ],
)
def test_unusable_options_exit_2_before_any_file_is_read(
    ws: Workspace, args: list[str], error: str
) -> None:
    """A bad or idle option exits 2 naming it, before the (missing) file is looked at."""
    run = ws.run(*args, "--log-format", "text")
    assert run.code == 2
    assert error in run.stderr
    assert "missing.csv" not in run.stderr
    assert not (ws.root / "reports").exists()


def test_max_removals_with_sync_is_accepted(ws: Workspace) -> None:
    """`--max-removals 3 --mode sync` is used: the brake names 3."""
    run = ws.run(
        "plan", ws.sample("users-wide-en.csv"), "--mode", "sync", "--max-removals", "3",
        "--sandbox", ws.account, "--log-format", "text",
    )  # fmt: skip
    assert run.code == 4
    assert "more than --max-removals 3:" in run.stderr


def write_valid_csv(path: Path) -> Path:
    """A file every line of which passes the file rules."""
    path.write_text("Email,User type\nann.smit@example.com,Licensed\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("names", "code", "reports"),
    [
        (["good.csv", "users-wide-en.csv"], 1, 2),
        (["good.csv", "missing.csv", "good.csv"], 2, 2),
        (["good.csv"], 0, 1),
    ],
    ids=["valid-and-invalid-lines", "one-missing-file", "one-file"],
)
def test_validate_takes_several_files_one_report_each_worst_exit(
    ws: Workspace, names: list[str], code: int, reports: int
) -> None:
    """`batch validate A B ...` writes one report per usable file and exits with the worst code."""
    good = write_valid_csv(ws.root / "good.csv")
    paths = [
        good if n == "good.csv" else ws.sample(n) if n.endswith("en.csv") else ws.root / n
        for n in names
    ]
    run = ws.run("validate", *paths, "--log-format", "text")
    assert run.code == code
    assert len(list((ws.root / "reports").glob("*.xlsx"))) == reports
    assert run.stdout.count("Report: ") == reports
    if "missing.csv" in names:
        assert "Error: missing.csv: cannot be read" in run.stderr


def test_plan_takes_several_files(ws: Workspace) -> None:
    """`batch plan A B` plans both against the account, one report each, the worst exit code."""
    good = write_valid_csv(ws.root / "good.csv")
    run = ws.run("plan", good, ws.sample("gebruikers-nl.csv"), "--sandbox", ws.account)
    assert run.code == 1
    assert re.findall(r"^plan (\S+):", run.stdout, flags=re.MULTILINE) == [
        "good.csv",
        "gebruikers-nl.csv",
    ]
    assert len(list((ws.root / "reports").glob("*.xlsx"))) == 2


@pytest.mark.parametrize("command", ["sandbox", "template"])
def test_a_command_runs_with_the_garbage_collector_on(command: str) -> None:
    """The console script turns the collector off only while the command's modules load: a
    long-running command (`batch sandbox serve`, `batch web`) must not grow without bound."""
    import subprocess
    import sys

    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('collector on:', gc.isenabled(), gc.get_threshold()))\n"
        "from batch.cli.main import main\n"
        f"sys.argv = ['batch', {command!r}, '--help']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "collector on: True (10000, 10, 10)" in done.stdout

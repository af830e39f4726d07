"""`batch show [EMAIL...]`: seats, users by type and status, and what named users hold."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from batch.cli.main import cli
from batch.sandbox import DEMO_ACCOUNT

if TYPE_CHECKING:
    from tests.conftest import Served, Workspace


def show(tmp_path: Path, *emails: str) -> tuple[int, list[str]]:
    """`batch show EMAILS` on a copy of the demo account: (exit code, stdout lines)."""
    shutil.copyfile(DEMO_ACCOUNT, tmp_path / "account.json")
    result = CliRunner().invoke(
        cli, ["show", *emails, "--sandbox", str(tmp_path / "account.json"), "-q"]
    )
    return result.exit_code, [line.split() and " ".join(line.split()) for line in
                              result.output.splitlines()]  # fmt: skip


def test_show_seats_and_users_by_type(tmp_path: Path) -> None:
    """Without emails: the plan, seats purchased/used/free per license and size, the user counts."""
    code, lines = show(tmp_path)
    assert code == 0
    assert "Account sandbox: business plan, On-prem user type not available" in lines
    assert "Licensed 34 32 2" in lines
    assert "Webinar 1000 1 1 0" in lines
    assert "Basic 15 2 1" in lines and "Licensed 30 1 1" in lines
    assert "Users" not in lines


@pytest.mark.parametrize(
    ("email", "line"),
    [
        ("femke.meijer@example.com", "Femke Meijer Sales Licensed active 1000 500"),
        ("victor.peeters@example.com", "Licensed pending (not shown) (not shown) (not shown)"),
        ("eline.debruijn@example.com", "Eline de Bruijn Sales Basic active"),
    ],
    ids=["licensed-with-addons", "pending", "basic"],
)
def test_show_what_a_user_holds(tmp_path: Path, email: str, line: str) -> None:
    """With an email: the user's type, status and add-on sizes (a pending user's not shown)."""
    code, lines = show(tmp_path, email)
    assert code == 0
    assert any(text.startswith(email) and text.endswith(line) for text in lines if text)


def test_show_unknown_email_exits_1(tmp_path: Path) -> None:
    """An email that is not a user of the account is listed as such; the exit code is 1."""
    code, lines = show(tmp_path, "nobody@example.com")
    assert code == 1
    assert "nobody@example.com not a user of this account" in lines


def test_show_over_http(ws: Workspace, served: Served) -> None:
    """`batch show --api-url` reads a served account as it would a real one."""
    run = ws.run("show", "ann.smit@example.com", "--api-url", served.api_url, "-q")
    assert run.code == 0
    assert run.stdout.startswith("Using the SANDBOX served at")
    assert any(
        " ".join(line.split()).endswith("Licensed active 500") for line in run.stdout.splitlines()
    )

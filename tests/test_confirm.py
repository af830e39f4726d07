"""On a terminal `apply` shows the planned changes and asks before changing the account."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pexpect
import pytest

from tests.conftest import BATCH

if TYPE_CHECKING:
    from tests.conftest import Workspace

QUESTION = re.escape("Apply 9 changes to the SANDBOX account sandbox? [y/N]")


def spawn(ws: Workspace, *args: str) -> pexpect.spawn:
    """`batch ARGS` on a pseudo-terminal (stdin, stdout and stderr are a terminal)."""
    return pexpect.spawn(
        str(BATCH),
        [*args],
        cwd=str(ws.root),
        env=ws.env({"COLUMNS": "120"}),
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 120),
    )


def finish(child: pexpect.spawn) -> tuple[int, str]:
    """Wait for the process's end: its exit code and everything it printed after the question."""
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus), str(child.before)


@pytest.mark.parametrize(
    ("answer", "code", "changed"),
    [("n", 4, False), ("", 4, False), ("y", 1, True)],
    ids=["no", "enter-means-no", "yes"],
)
def test_apply_on_a_terminal_asks_first(
    ws: Workspace, answer: str, code: int, changed: bool
) -> None:
    """The plan's changes and seats are shown, then the question; only y applies them."""
    before = ws.account.read_bytes()
    child = spawn(ws, "apply", str(ws.sample("users-wide-en.csv")), "--sandbox", str(ws.account))
    child.expect(QUESTION)
    shown = str(child.before)
    assert "9 changes planned" in shown
    assert re.search(r"assign\s.*Webinar 500\s.*\b1\b", shown)
    assert "Seats after" in shown
    child.sendline(answer)
    exit_code, after = finish(child)
    assert exit_code == code
    assert (ws.account.read_bytes() != before) is changed
    if changed:
        assert ws.holdings() == ws.expected("users-wide-en.csv")
        assert "Report: " in after
    else:
        assert "nothing applied: the changes were not confirmed" in after
        assert not (ws.root / "reports").exists()


def test_yes_applies_without_asking(ws: Workspace) -> None:
    """`--yes` on a terminal applies at once."""
    child = spawn(
        ws, "apply", str(ws.sample("users-wide-en.csv")), "--sandbox", str(ws.account), "--yes"
    )
    exit_code, printed = finish(child)
    assert exit_code == 1
    assert "[y/N]" not in printed
    assert ws.holdings() == ws.expected("users-wide-en.csv")


def test_without_a_terminal_nothing_is_asked(ws: Workspace) -> None:
    """Without a terminal (cron, scripts) apply runs as it always did: no question."""
    run = ws.run("apply", ws.sample("users-wide-en.csv"), "--sandbox", ws.account)
    assert run.code == 1
    assert "[y/N]" not in run.stdout + run.stderr
    assert ws.holdings() == ws.expected("users-wide-en.csv")


def test_inbox_by_hand_asks_per_file_and_a_no_fails_that_file(ws: Workspace) -> None:
    """`batch inbox` on a terminal asks for each file; a declined file is archived in failed/
    with exit 4 and the account is unchanged."""
    inbox = ws.root / "inbox"
    inbox.mkdir()
    (inbox / "users.csv").write_bytes(ws.sample("users-wide-en.csv").read_bytes())
    before = ws.account.read_bytes()
    child = spawn(ws, "inbox", "inbox", "--sandbox", str(ws.account))
    child.expect(QUESTION)
    child.sendline("n")
    exit_code, _ = finish(child)
    assert exit_code == 4
    assert ws.account.read_bytes() == before
    assert sorted(p.name.split("-", 1)[1] for p in (inbox / "archive" / "failed").iterdir()) == [
        "users.csv",
        "users.csv.reason.txt",
    ]

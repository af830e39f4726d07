"""After a run the terminal shows the first problem lines, wrapped to its width, and the seats."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pexpect
import pytest
from rich.console import Console

from batch.cli.summary_table import problems_table
from tests.conftest import BATCH

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Workspace

LONG_MESSAGE = (
    "Webinar 500 needs joost.vanvliet@example.com to be Licensed or On-prem, but row 24 makes "
    "them Basic: make them Licensed or drop this add-on."
)
LINES = [
    ("24", "joost.vanvliet@example.com", "Webinar 500", "missing-prerequisite", LONG_MESSAGE),
    ("1048576", "a.very.long.address.of.someone@subdomain.example.com", "Large Meeting 1000",
     "user-not-found", "no user in this account"),
]  # fmt: skip


@pytest.mark.parametrize("width", [50, 80, 120, 200], ids=lambda w: f"{w}-columns")
def test_problem_table_fits_the_terminal_and_keeps_every_word(width: int) -> None:
    """Each line of the table fits the width; wrapping loses no character of any cell."""
    console = Console(width=width, record=True, color_system=None)
    console.print(problems_table(LINES, total=25, width=width))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    assert table_cells(text) == [tuple(re.sub(r"\s", "", cell) for cell in line) for line in LINES]
    assert "... and 23 more in the report" in text


def table_cells(text: str) -> list[tuple[str, ...]]:
    """The body cells of a rendered table, each cell's wrapped pieces joined (no whitespace)."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        pieces = [re.sub(r"\s", "", piece) for piece in line.split("│")[1:-1]]
        if pieces[0]:  # a Row number starts a new line of the table
            rows.append(pieces)
        else:
            rows[-1] = [done + more for done, more in zip(rows[-1], pieces, strict=True)]
    return [tuple(row) for row in rows]


def write_bad_file(path: Path, lines: int) -> Path:
    """A CSV of `lines` rows whose email is not an address (each one a problem line)."""
    rows = "".join(f"user{n}@example,Licensed\n" for n in range(lines))
    path.write_text("Email,User type\n" + rows, encoding="utf-8")
    return path


def on_terminal(ws: Workspace, *args: str) -> tuple[int, str]:
    """Run `batch ARGS` on a pseudo-terminal 100 columns wide; exit code and all it printed."""
    child = pexpect.spawn(
        str(BATCH), list(args), cwd=str(ws.root), env=ws.env(), encoding="utf-8", timeout=60,
        dimensions=(40, 100),
    )  # fmt: skip
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus), re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", str(child.before))


def test_validate_shows_the_first_20_problem_lines(ws: Workspace) -> None:
    """validate on a terminal lists rows 2-21 of 25 bad lines and says 5 more are in the report."""
    bad = write_bad_file(ws.root / "bad.csv", 25)
    code, printed = on_terminal(ws, "validate", str(bad))
    assert code == 1
    shown = re.findall(r"^│\s+(\d+) │", printed, flags=re.MULTILINE)
    assert shown == [str(n) for n in range(2, 22)]
    assert "... and 5 more in the report" in printed
    assert "invalid-email" in printed
    assert max(len(line) for line in printed.splitlines()) <= 100


def test_plan_shows_seats_after_as_planned(ws: Workspace) -> None:
    """plan on a terminal gives the seats per license as they will be after the run."""
    code, printed = on_terminal(
        ws, "plan", str(ws.sample("users-wide-en.csv")), "--sandbox", str(ws.account)
    )
    assert code == 1
    assert "Licensed: 34 of 34 used after the run, as planned" in printed
    assert "Webinar 500: 3 of 3 used after the run, as planned" in printed


def test_json_mode_has_only_the_summary_event(ws: Workspace) -> None:
    """Without a terminal stderr keeps its JSON lines: one summary event, no table."""
    run = ws.run("validate", write_bad_file(ws.root / "bad.csv", 3))
    events = [json.loads(line) for line in run.stderr.splitlines()]
    assert [e["counts"]["invalid"] for e in events if e["event"] == "summary"] == [3]
    assert "Problem lines" not in run.stderr

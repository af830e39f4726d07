"""`batch export`: the account as a wide input file, and `batch plan` of it plans nothing.

The round trip runs on the demo account, on the demo account after each sample was applied,
and on random accounts (hypothesis), as CSV and as XLSX.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.cli.main import cli
from batch.sandbox import DEMO_ACCOUNT
from tests.strategies import accounts

SAMPLES = DEMO_ACCOUNT.parent
ACCOUNTS = ("demo", "users-wide-en.csv", "gebruikers-nl.csv", "licenses-long.xlsx")


def invoke(folder: Path, *args: str) -> tuple[int, str]:
    """`batch ARGS` in this process against folder/account.json; (exit code, all output)."""
    common = ["--sandbox", str(folder / "account.json"), "--log-format", "text", "-q"]
    result = CliRunner().invoke(cli, [*args, *common], catch_exceptions=False)
    return result.exit_code, result.output


def plan_outcomes(report: Path) -> set[str]:
    """The outcomes on the plan report's Results sheet."""
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        rows = list(workbook["Results"].iter_rows(values_only=True))
    finally:
        workbook.close()
    column = list(rows[0]).index("Outcome")
    return {str(row[column]) for row in rows[1:]}


def prepared(tmp_path: Path, start: str) -> Path:
    """A folder with the demo account, after applying sample `start` unless it is "demo"."""
    shutil.copyfile(DEMO_ACCOUNT, tmp_path / "account.json")
    if start != "demo":
        code, _ = invoke(
            tmp_path, "apply", str(SAMPLES / start), "--report", str(tmp_path / "applied.xlsx"),
            "--journal", str(tmp_path / "journal.sqlite"),
        )  # fmt: skip
        assert code in (0, 1)
    return tmp_path


def round_trip(folder: Path, suffix: str, status: str) -> tuple[int, set[str]]:
    """Export (of those statuses) and plan the export unedited: (plan's exit code, outcomes)."""
    out = folder / f"export{suffix}"
    code, output = invoke(folder, "export", "--out", str(out), "--status", status)
    assert code == 0, output
    report = folder / f"plan-{suffix[1:]}.xlsx"
    code, _ = invoke(folder, "plan", str(out), "--report", str(report))
    return code, plan_outcomes(report)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("start", ACCOUNTS)
def test_export_of_active_users_plans_nothing(tmp_path: Path, start: str, suffix: str) -> None:
    """An unedited export of the active users plans nothing: every line unchanged, exit 0."""
    folder = prepared(tmp_path, start)
    before = (folder / "account.json").read_bytes()
    assert round_trip(folder, suffix, "active") == (0, {"unchanged"})
    assert json.loads((folder / "account.json").read_bytes()) == json.loads(before)


def test_export_of_every_status_plans_nothing(tmp_path: Path) -> None:
    """An unedited export of every user, pending and inactive ones too, plans nothing."""
    folder = prepared(tmp_path, "demo")
    assert round_trip(folder, ".xlsx", "active,pending,inactive") == (0, {"unchanged"})


def test_export_shows_what_each_user_holds(tmp_path: Path) -> None:
    """The users sheet has the input headers and each user's type, status and add-on sizes;
    the Seats sheet the account's seats."""
    folder = prepared(tmp_path, "demo")
    code, _ = invoke(folder, "export", "--out", str(folder / "e.xlsx"))
    assert code == 0
    workbook = openpyxl.load_workbook(folder / "e.xlsx", read_only=True)
    users = list(workbook["Users"].iter_rows(values_only=True))
    seats = list(workbook["Seats"].iter_rows(values_only=True))
    workbook.close()
    assert users[0] == (
        "Email", "First name", "Last name", "Department", "Cost center", "Status",
        "User type", "Large Meeting", "Webinar", "Zoom Events",
    )  # fmt: skip
    by_email = {row[0]: row + (None,) * (10 - len(row)) for row in users[1:]}
    assert len(by_email) == 50
    assert by_email["femke.meijer@example.com"][5:] == ("active", "Licensed", 1000, 500, None)
    assert by_email["victor.peeters@example.com"][5:7] == ("pending", "Licensed")
    assert seats[0] == ("License", "Purchased", "Used", "Free")
    assert ("Licensed", 34, 32, 2) in seats
    assert ("Webinar 1000", 1, 1, 0) in seats


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "active,gone"], "--status 'active,gone'"),
        (["--out", "users.txt"], "must end in .xlsx or .csv"),
    ],
    ids=["unknown-status", "unknown-format"],
)
def test_export_refuses_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    """A bad --status or --out: exit 2 and one Error line naming it."""
    shutil.copyfile(DEMO_ACCOUNT, tmp_path / "account.json")
    code, output = invoke(tmp_path, "export", *args)
    assert code == 2
    assert f"Error: {message}" in output or message in output


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_export_round_trip_on_random_accounts(tmp_path: Path, data: st.DataObject) -> None:
    """Random accounts: the export of the active users plans nothing."""
    folder = tmp_path / f"case-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / "account.json").write_text(json.dumps(data.draw(accounts(max_users=30))))
    suffix = data.draw(st.sampled_from([".xlsx", ".csv"]))
    code, outcomes = round_trip(folder, suffix, "active")
    assert code == 0 and outcomes <= {"unchanged"}

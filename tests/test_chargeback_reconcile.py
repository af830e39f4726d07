"""The Chargeback sheet adds up to the Seats sheet: per license, its total is Seats' Used after.

Runs the real pipeline (load, rules, the in-process sandbox, plan, apply, report) on every sample
and, with hypothesis, on random accounts and files, in apply, plan and dry-run, and reads both
sheets back from the workbook as finance would.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.output import Output
from batch.pipeline import apply_file, plan_file
from batch.report.chargeback import NOT_READ_LABEL
from batch.sandbox import DEMO_ACCOUNT
from batch.settings import Settings
from tests.strategies import accounts, email_of, license_files

if TYPE_CHECKING:
    from tests.conftest import Workspace

SAMPLES = DEMO_ACCOUNT.parent
SAMPLE_FILES = ("users-wide-en.csv", "gebruikers-nl.csv", "licenses-long.xlsx")
MODES = ("apply", "plan", "dry-run")


def run(
    command: str, file: Path, account: Path, tmp: Path, *, full_account: bool = False
) -> Path:
    """Run `command` (apply, plan, dry-run) on `file` against the sandbox `account`; the report."""
    report = tmp / f"{command}-{file.stem}.xlsx"
    config = Settings(
        sandbox_path=account,
        report_path=report,
        journal_path=tmp / "journal.sqlite",
        log_format="json",
        quiet=True,
        dry_run=command == "dry-run",
        full_account=full_account,
    )
    output = Output("json", quiet=True)
    if command == "plan":
        plan_file(file, config, output)
    else:
        apply_file(file, config, output)
    return report


def sheets(report: Path) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """(Seats' Used after per license, the Chargeback sheet's rows)."""
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        seats_rows = list(workbook["Seats"].iter_rows(values_only=True))
        charge_rows = list(workbook["Chargeback"].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = seats_rows[0]
    used_after = {}
    for row in seats_rows[1:]:
        if not row or row[0] is None or row[1] is None:
            break
        used_after[str(row[0])] = int(row[header.index("Used after")])
    return used_after, charge_rows


def chargeback_totals(rows: list[tuple[Any, ...]], first: str) -> Counter[str]:
    """The Total row of the table headed `first` (Department or Cost centre), per seat label:
    On-prem is counted with Licensed, whose seats it takes."""
    start = next(n for n, row in enumerate(rows) if row and row[0] == first)
    header = rows[start]
    total = next(row for row in rows[start + 1 :] if row and row[0] == "Total")
    totals: Counter[str] = Counter()
    for name, value in zip(header[1:], total[1:], strict=True):
        if name is None or name == "Total" or str(name).startswith(("Monthly", "Of which")):
            continue
        totals["Licensed" if name == "On-prem" else str(name)] += int(value)
    return totals


def assert_reconciles(report: Path) -> list[tuple[Any, ...]]:
    """Both Chargeback tables' totals equal Seats' Used after for every license."""
    used_after, rows = sheets(report)
    for first in ("Department", "Cost centre"):
        totals = chargeback_totals(rows, first)
        assert +totals == +Counter(used_after), (first, dict(totals), used_after)
    return rows


@pytest.mark.parametrize("command", MODES)
@pytest.mark.parametrize("sample", SAMPLE_FILES)
def test_chargeback_equals_seats_on_samples(tmp_path: Path, sample: str, command: str) -> None:
    """Every sample on the demo account: Chargeback's totals are Seats' Used after."""
    account = tmp_path / "account.json"
    shutil.copyfile(DEMO_ACCOUNT, account)
    assert_reconciles(run(command, SAMPLES / sample, account, tmp_path))


def test_issue_example_not_read_row(tmp_path: Path) -> None:
    """The wide sample's apply: Large Meeting 500 is 3 in both sheets, one seat in 'not read'."""
    account = tmp_path / "account.json"
    shutil.copyfile(DEMO_ACCOUNT, account)
    used_after, rows = sheets(run("apply", SAMPLES / "users-wide-en.csv", account, tmp_path))
    assert used_after["Large Meeting 500"] == 3
    assert chargeback_totals(rows, "Department")["Large Meeting 500"] == 3
    header = rows[0]
    not_read = next(row for row in rows if row and row[0] == NOT_READ_LABEL)
    assert not_read[header.index("Large Meeting 500")] == 1


@pytest.mark.parametrize("command", MODES)
def test_full_account_attributes_every_seat(tmp_path: Path, command: str) -> None:
    """With --full-account every seat of the demo account has a department: no 'not read' row."""
    account = tmp_path / "account.json"
    shutil.copyfile(DEMO_ACCOUNT, account)
    demo = json.loads(account.read_text())
    pending_addons = [
        u for u in demo["users"] if u["status"] == "pending" and any(
            u.get(k) for k in ("large_meeting", "webinar", "zoom_events"))
    ]  # fmt: skip
    assert not pending_addons  # else their seats could not be attributed
    report = run(command, SAMPLES / "users-wide-en.csv", account, tmp_path, full_account=True)
    rows = assert_reconciles(report)
    assert not any(row and row[0] == NOT_READ_LABEL for row in rows)


def test_pending_holders_are_marked(tmp_path: Path) -> None:
    """A pending user's license counts in its department and in the 'Of which pending' column."""
    account = tmp_path / "account.json"
    shutil.copyfile(DEMO_ACCOUNT, account)
    demo = json.loads(account.read_text())
    pending = [u for u in demo["users"] if u["status"] == "pending" and u["type"] != "Basic"]
    assert pending, "the demo account has a pending Licensed user"
    rows = assert_reconciles(run("plan", SAMPLES / "users-wide-en.csv", account, tmp_path))
    header = rows[0]
    total = next(row for row in rows if row and row[0] == "Total")
    assert total[header.index("Of which pending")] == len(pending)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_chargeback_equals_seats_on_random_accounts(tmp_path: Path, data: st.DataObject) -> None:
    """Random accounts and files, in apply, plan and dry-run: the sheets always agree."""
    account_data = data.draw(accounts(max_users=25))
    emails = [email_of(n) for n in range(len(account_data["users"]))]
    name, content = data.draw(license_files(emails))
    command = data.draw(st.sampled_from(MODES))
    full = data.draw(st.booleans())
    folder = tmp_path / f"case-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    account = folder / "account.json"
    account.write_text(json.dumps(account_data))
    file = folder / name
    file.write_bytes(content)
    assert_reconciles(run(command, file, account, folder, full_account=full))


def test_example_report_reconciles() -> None:
    """The example report in reports/examples/ adds up: Chargeback totals equal its Seats."""
    example = Path(__file__).parents[1] / "reports" / "examples" / "users-wide-en-report.xlsx"
    assert_reconciles(example)


@pytest.mark.parametrize(
    ("flag", "not_read"), [((), False), (("--no-full-account",), True)], ids=["default", "off"]
)
def test_inbox_reads_the_full_account_by_default(
    ws: Workspace, flag: tuple[str, ...], not_read: bool
) -> None:
    """The nightly inbox report attributes every seat unless --no-full-account is given."""
    inbox = ws.root / "inbox"
    inbox.mkdir()
    shutil.copyfile(SAMPLES / "users-wide-en.csv", inbox / "users-wide-en.csv")
    run = ws.run("inbox", inbox, "--sandbox", ws.account, *flag, "--log-format", "text")
    assert run.code == 1, run.stderr
    (report,) = (inbox / "archive" / "processed").glob("*-report.xlsx")
    rows = assert_reconciles(report)
    assert any(row and row[0] == NOT_READ_LABEL for row in rows) is not_read

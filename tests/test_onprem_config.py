"""`zoom.onprem = "auto" | true | false`: whether On-prem lines may be planned."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from batch.cli.main import cli
from batch.sandbox import DEMO_ACCOUNT


def plan_onprem(
    tmp_path: Path, setting: str | None, with_onprem_user: bool = False
) -> tuple[int, str, str]:
    """Plan one On-prem line on the demo account (no On-prem user unless asked) with
    `zoom.onprem` set: (exit code, the line's outcome, its code)."""
    account = json.loads(DEMO_ACCOUNT.read_text())
    if with_onprem_user:
        account["account"]["on_prem_user_type"] = True
        account["users"][0]["type"] = "On-prem"
    (tmp_path / "account.json").write_text(json.dumps(account))
    config = tmp_path / "batch.toml"
    config.write_text(f"[zoom]\nonprem = {setting}\n" if setting else "")
    file = tmp_path / "lines.csv"
    file.write_text("Email,User type\nhanna.mulder@example.com,On-prem\n")
    report = tmp_path / "r.xlsx"
    result = CliRunner().invoke(
        cli, ["plan", str(file), "--config", str(config), "--report", str(report),
              "--sandbox", str(tmp_path / "account.json"), "--log-format", "text", "-q"],
    )  # fmt: skip
    if result.exit_code == 2:
        return 2, result.output, ""
    rows = list(
        openpyxl.load_workbook(report, read_only=True)["Results"].iter_rows(values_only=True)
    )
    head = list(rows[0])
    line = rows[1] + (None,) * len(head)
    return result.exit_code, str(line[head.index("Outcome")]), str(line[head.index("Code")] or "")


@pytest.mark.parametrize(
    ("setting", "onprem_user", "expected"),
    [
        (None, False, (1, "invalid", "onprem-unavailable")),
        ('"auto"', False, (1, "invalid", "onprem-unavailable")),
        ('"auto"', True, (0, "planned", "")),
        ("true", False, (0, "planned", "")),
        ("false", True, (1, "invalid", "onprem-unavailable")),
    ],
    ids=["unset-is-auto", "auto-none", "auto-one-onprem-user", "true", "false-despite-user"],
)
def test_onprem_setting(
    tmp_path: Path, setting: str | None, onprem_user: bool, expected: tuple[int, str, str]
) -> None:
    """auto follows the account (an On-prem user exists or not); true and false say it outright."""
    assert plan_onprem(tmp_path, setting, onprem_user) == expected


def test_onprem_bad_value_is_refused(tmp_path: Path) -> None:
    """Any other value stops the run with exit 2, naming the key."""
    code, output, _ = plan_onprem(tmp_path, '"maybe"')
    assert code == 2
    assert "Error: config zoom.onprem: expected \"auto\", true or false, got 'maybe'" in output

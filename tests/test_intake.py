"""The intake corpus (tests/data/intake/, made by make_intake.py): files made the way admins'
programs make them, each planned against the demo account with `batch plan`, in-process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Final

import openpyxl
import pytest
from click.testing import CliRunner

from batch.cli.main import cli
from batch.sandbox import DEMO_ACCOUNT

INTAKE: Final = Path(__file__).resolve().parent / "data" / "intake"
CASES: Final[list[dict[str, Any]]] = json.loads((INTAKE / "expected.json").read_text("utf-8"))
LINE_COLUMNS: Final = ("Row", "Email", "License", "Action", "Outcome", "Code")


def case_id(case: dict[str, Any]) -> str:
    return case["file"] + "".join(f" {o}" for o in case.get("options", []))


def sheet_rows(report: Path, name: str) -> list[tuple[Any, ...]]:
    """All rows of one sheet of the report, as values."""
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        return [tuple(row) for row in workbook[name].iter_rows(values_only=True)]
    finally:
        workbook.close()


def results(report: Path) -> tuple[list[list[Any]], dict[int, str]]:
    """The Results sheet's lines as LINE_COLUMNS lists, and the messages by row."""
    rows = sheet_rows(report, "Results")
    header = list(rows[0])
    at = [header.index(name) for name in LINE_COLUMNS]
    message = header.index("Message")
    padded = [row + (None,) * (len(header) - len(row)) for row in rows[1:]]
    lines = [[row[i] if row[i] is not None else "" for i in at] for row in padded]
    messages: dict[int, str] = {}
    for row in padded:
        messages[int(row[0])] = messages.get(int(row[0]), "") + " | " + str(row[message] or "")
    return lines, messages


def summary_facts(report: Path) -> list[tuple[str, str]]:
    """The Summary sheet's (label, value) pairs of its Run section."""
    return [(str(r[0]), str(r[1])) for r in sheet_rows(report, "Summary") if len(r) > 1 and r[0]]


def plan(tmp_path: Path, case: dict[str, Any]) -> tuple[Any, Path]:
    """`batch plan` of one corpus file against a copy of the demo account, in-process."""
    account = tmp_path / "account.json"
    shutil.copyfile(DEMO_ACCOUNT, account)
    report = tmp_path / "report.xlsx"
    args = ["plan", str(INTAKE / case["file"]), "--sandbox", str(account), "--report", str(report)]
    return CliRunner().invoke(
        cli, [*args, *case.get("options", []), "--log-format", "text"]
    ), report


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_intake_file_plans_as_expected(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each corpus file plans to its expected lines and exit code, or is refused with its line."""
    monkeypatch.chdir(tmp_path)
    outcome, report = plan(tmp_path, case)
    assert outcome.exit_code == case["exit"], outcome.output
    if case["exit"] == 2:
        assert case["error"] in outcome.output
        assert not report.exists()
        return
    lines, messages = results(report)
    assert lines == case["lines"]
    for row, words in case.get("messages", {}).items():
        assert words in messages[int(row)]
    facts = summary_facts(report)
    assert (("Sheet", case["sheet"]) in facts) is (case["sheet"] is not None)
    assert [value for label, value in facts if label == "Input note"] == case["notes"]
    removed = [value for label, value in facts if label == "Held add-ons removed"]
    assert removed == ([case["removed"]] if "removed" in case else [])


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.get("sheet") or c.get("notes")],
    ids=[case_id(c) for c in CASES if c.get("sheet") or c.get("notes")],
)
def test_the_sheet_and_skipped_rows_are_named_on_the_terminal(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log lines name the sheet read and every note of the loader (rows skipped...)."""
    monkeypatch.chdir(tmp_path)
    outcome, _ = plan(tmp_path, case)
    if case["sheet"]:
        assert f"sheet={case['sheet']}" in outcome.output
    for note in case["notes"]:
        assert note in outcome.output


def test_the_corpus_script_writes_what_is_committed(tmp_path: Path) -> None:
    """Re-running make_intake.py gives the committed expectations (files and JSON agree)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_intake", INTAKE / "make_intake.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE = tmp_path
    assert json.loads(json.dumps(module.make())) == CASES
    for name in {c["file"] for c in CASES}:
        assert (tmp_path / name).read_bytes() == (INTAKE / name).read_bytes(), name

"""`batch template`: a blank workbook whose dropdown values, filled in by a script, validate."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest
from click.testing import CliRunner

from batch.cli.main import cli
from batch.sandbox import DEMO_ACCOUNT

if TYPE_CHECKING:
    from tests.conftest import Workspace


def dropdowns(path: Path) -> dict[str, list[str]]:
    """Header of each column with a dropdown -> its choices."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[1]
    headers = [str(c.value) for c in sheet[1]]
    found = {}
    for rule in sheet.data_validations.dataValidation:
        column = str(rule.sqref).split(":")[0].rstrip("0123456789")
        position = openpyxl.utils.column_index_from_string(column) - 1
        found[headers[position]] = str(rule.formula1).strip('"').split(",")
    return found


def fill(template: Path, filled: Path, on_prem: bool) -> int:
    """Fill the template as an admin would, every dropdown choice used once, each add-on with a
    Licensed user type in its row; the request lines written."""
    workbook = openpyxl.load_workbook(template)
    sheet = workbook.worksheets[1]
    headers = [str(c.value) for c in sheet[1]]
    choices = dropdowns(template)
    type_header = headers[5]
    licensed = choices[type_header][0]  # Licensed / Met licentie
    rows = 0  # request lines: one per filled license cell
    for header, values in choices.items():
        for value in values:
            if value == "On-prem" and not on_prem:
                continue
            row = {headers[0]: f"user{rows}@example.com", headers[3]: "Finance"}
            if header == type_header:
                row[header] = value
            else:
                row[type_header] = licensed
                row[header] = value
            sheet.append([row.get(h) for h in headers])
            rows += 1 if header == type_header else 2
    workbook.save(filled)
    return rows


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_filled_template_validates_clean(tmp_path: Path, lang: str) -> None:
    """Every dropdown value, filled in by a script, is a valid line for `batch validate`."""
    shutil.copyfile(DEMO_ACCOUNT, tmp_path / "account.json")
    runner = CliRunner()
    template = tmp_path / "template.xlsx"
    result = runner.invoke(
        cli, ["template", "--out", str(template), "--lang", lang,
              "--sandbox", str(tmp_path / "account.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    choices = dropdowns(template)
    sizes = [v for header, values in choices.items() for v in values if v.isdigit()]
    assert sorted(set(sizes)) == ["1000", "500"]  # the demo account owns 500 and 1000 only
    filled = tmp_path / "filled.xlsx"
    rows = fill(template, filled, on_prem=True)
    result = runner.invoke(
        cli, ["validate", str(filled), "--report", str(tmp_path / "v.xlsx"), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert f"validate filled.xlsx: {rows} valid\n" in result.output


def test_template_offline_lists_every_size(ws: Workspace) -> None:
    """When the account cannot be reached, a warning says so and every size Zoom sells is listed."""
    run = ws.run("template", "--out", "t.xlsx", "--api-url", "http://127.0.0.1:9/v2")
    assert run.code == 0
    assert "Warning: the account could not be read" in run.stdout
    choices = dropdowns(ws.root / "t.xlsx")
    assert choices["Webinar"][:4] == ["100", "500", "1000", "3000"]
    assert choices["Webinar"][-1] == "remove"


def test_template_refuses_other_formats(tmp_path: Path) -> None:
    """--out must be an .xlsx: exit 2 with an Error line."""
    result = CliRunner().invoke(cli, ["template", "--out", str(tmp_path / "t.csv")])
    assert result.exit_code == 2
    assert "Error: --out" in result.output

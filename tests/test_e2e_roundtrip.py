"""Two journeys users make: fixing the Problems sheet and sending it again, and a bad network."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from batch.sandbox import Faults
from tests.conftest import SAMPLES as SAMPLE_DIR
from tests.conftest import Workspace
from tests.test_e2e_apply import SAMPLES

WIDE = "users-wide-en.csv"

# Problem lines of the wide sample an admin can fix in the Problems sheet: email -> (column,
# the value written there instead). Each fix leaves a line the account can take.
FIXES = {
    "kees.vos@example": ("Email", "kees.vos@example.com"),  # invalid-email
    "lotte.peters@example.com": ("User type", "Licensed"),  # unknown-license "Premium"
    "noor.vanleeuwen@example.com": ("Zoom Events", "yes"),  # unknown-license "maybe"
    "quinten.dewit@example.com": ("Webinar", "500"),  # invalid-size 750
}


def _problems(report: Path) -> pd.DataFrame:
    return pd.read_excel(report, sheet_name="Problems", dtype=str, engine="calamine").fillna("")


def test_fixed_problems_sheet_passes_plan(ws: Workspace) -> None:
    """The Problems sheet, its values fixed and saved as XLSX, is a valid input for `batch plan`:
    the fixed lines are planned or unchanged, the others still say what is wrong."""
    first = ws.run("plan", SAMPLE_DIR / WIDE, "--sandbox", ws.account, "--report", "first.xlsx")
    assert first.code == 1
    problems = _problems(ws.root / "first.xlsx")
    assert list(problems.columns)[-1] == "Reason"
    assert set(FIXES) <= set(problems["Email"].str.strip())
    for email, (column, value) in FIXES.items():
        problems.loc[problems["Email"].str.strip() == email, column] = value
    fixed = ws.root / "fixed.xlsx"
    problems.to_excel(fixed, index=False, sheet_name="Problems")

    again = ws.run("plan", fixed, "--sandbox", ws.account, "--report", "again.xlsx")
    results = pd.read_excel(
        ws.root / "again.xlsx", sheet_name="Results", dtype=str, engine="calamine"
    ).fillna("")
    fixed_emails = {new if column == "Email" else old for old, (column, new) in FIXES.items()}
    mine = results[results["Email"].str.strip().isin(fixed_emails)]
    assert sorted(mine["Email"].str.strip()) == sorted(fixed_emails)
    assert set(mine["Outcome"]) <= {"planned", "unchanged"}, mine[["Email", "Outcome", "Code"]]
    others = results[~results["Email"].str.strip().isin(fixed_emails)]
    lines = others["Email"].str.strip() + " " + others["License"]
    outcomes = dict(zip(lines, others["Outcome"], strict=True))
    # the skipped duplicate, alone in the Problems sheet, is now simply planned
    assert outcomes.pop("pien.brouwer@example.com Large Meeting 500") == "planned"
    assert set(outcomes.values()) == {"invalid"}  # the unfixed lines are still refused
    assert again.code == 1


@pytest.mark.parametrize("seed", [3, 8], ids=["seed-3", "seed-8"])
def test_apply_over_a_failing_network_applies_every_valid_line(ws: Workspace, seed: int) -> None:
    """With 10% of answers 5xx and 2% of connections dropped, `batch apply` over loopback HTTP
    still ends every line as an uninterrupted run does and leaves the same account."""
    with ws.serve(Faults(error_rate=0.10, drop_rate=0.02, seed=seed)) as served:
        run = ws.run("apply", SAMPLE_DIR / WIDE, "--api-url", served.api_url, "--report", "a.xlsx")
        faults = dict(served.sandbox.stats.faults)
    assert (run.code, run.errors) == (1, [])
    assert ws.results(ws.root / "a.xlsx") == SAMPLES[WIDE]
    assert ws.holdings() == ws.expected(WIDE)
    assert sum(faults.values()) > 0, "no fault was injected: the test proves nothing"

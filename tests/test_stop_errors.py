"""A run that stops after planning or partway through applying names its report in one line."""

from __future__ import annotations

import signal
from pathlib import Path

import pandas as pd
import pytest

from batch.applying import partial_results
from batch.counts import exit_code_of, outcome_counts
from batch.errors import AccountError, ApplyStopped, BatchError, RunStopped, SafetyLimit

SO_FAR = pd.DataFrame({"email": ["a@x.com", "b@x.com"], "outcome": ["applied", "planned"]})


@pytest.mark.parametrize(
    ("stop", "line", "exit_code"),
    [
        (
            SafetyLimit("sync would remove 3 of 4 Licensed licenses (75%)"),
            "sync would remove 3 of 4 Licensed licenses (75%) (report: r.xlsx)",
            4,
        ),
        (
            ApplyStopped(AccountError("the daily limit is used up"), SO_FAR),
            "the daily limit is used up (report: r.xlsx)",
            3,
        ),
        (
            ApplyStopped(RuntimeError("boom"), SO_FAR),
            "internal failure while applying: RuntimeError: boom (report: r.xlsx)",
            70,
        ),
        (
            RunStopped(signal.SIGTERM, SO_FAR),
            "SIGTERM: stopped: run the same command again to finish (report: r.xlsx)",
            143,
        ),
    ],
    ids=["sync-brake", "account-stop", "our-failure", "sigterm"],
)
def test_a_stop_names_its_report(stop: BatchError, line: str, exit_code: int) -> None:
    """The stop with its report keeps its kind and exit code; its one line names the report."""
    assert isinstance(stop, SafetyLimit | ApplyStopped)
    named = stop.with_report(Path("r.xlsx"))
    assert (type(named), str(named), named.exit_code) == (type(stop), line, exit_code)


def test_a_stopped_apply_carries_its_results() -> None:
    """The results so far travel with the stop, through naming its report too."""
    stopped = ApplyStopped(AccountError("the daily limit is used up"), SO_FAR)
    named = stopped.with_report(Path("r.xlsx"))
    assert partial_results(named) is SO_FAR
    assert partial_results(AccountError("not a stop of applying")) is None


@pytest.mark.parametrize(
    ("outcomes", "exit_code"),
    [
        ([], 0),
        (["applied", "unchanged", "planned"], 0),
        (["applied", "failed"], 1),
        (["invalid"], 1),
        (["applied", "skipped"], 1),
    ],
    ids=["empty", "all-fine", "failed", "invalid", "skipped"],
)
def test_counts_decide_the_exit_code(outcomes: list[str], exit_code: int) -> None:
    """Every outcome is counted (zeros too); a problem line makes exit 1."""
    counts = outcome_counts(pd.DataFrame({"outcome": pd.Series(outcomes, dtype="string")}))
    assert sum(counts.values()) == len(outcomes)
    assert len(counts) == 7
    assert exit_code_of(counts) == exit_code

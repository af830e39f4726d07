"""The run's figures, counted once: result lines per outcome, the problem lines, the seat lines.

    counts = outcome_counts(results)          {"applied": 3, "failed": 1, ...}, all seven
    exit_code_of(counts)                      1 when a line is invalid, failed or skipped, else 0
    RunSummary(...)                           what a run ends with: the CLI, the logs, the mail

The pipeline counts a run's results here, once, and hands the counts on: the report's Summary
sheet, the terminal summary, the JSON `summary` event and the report mail all show these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from batch.model import AccountSnapshot, SeatKey, Seats
from batch.vocabulary import EXIT_OK, EXIT_ROWS, PROBLEM_OUTCOMES, Outcome

ProblemLine = tuple[str, str, str, str, str]  # row, email, license, code, message
SHOWN_PROBLEMS: Final = (
    20  # problem lines a RunSummary carries for the terminal; the report has all
)


@dataclass(frozen=True)
class RunSummary:
    """What a run ends with: its exit code, report and figures, for the CLI, logs and mail.

    An inbox file that could not be processed has no counts and its one-line `error`.
    """

    file_name: str
    command: str  # "validate", "plan", "apply", "inbox"
    is_sandbox: bool
    account_id: str | None
    counts: Mapping[str, int]  # result lines per outcome (outcome_counts: all seven)
    seats_lines: tuple[str, ...]  # e.g. "Licensed: 33 of 34 used after the run"
    exit_code: int
    report_path: Path | None
    error: str | None = None  # the one-line error when the file could not be processed
    notes: tuple[str, ...] = ()
    problems: tuple[ProblemLine, ...] = ()  # the first SHOWN_PROBLEMS problem lines
    problem_count: int = 0  # all of them


def outcome_counts(results: pd.DataFrame) -> dict[str, int]:
    """Result lines per outcome, every outcome present (zeros too), in the spec's order.

    >>> outcome_counts(pd.DataFrame({"outcome": ["applied", "failed", "applied"]}))["applied"]
    2
    """
    found = Counter(results["outcome"].astype(str))
    return {str(o): int(found.get(str(o), 0)) for o in Outcome}


def exit_code_of(counts: Mapping[str, int]) -> int:
    """EXIT_ROWS when a line is a problem (invalid, failed, skipped), else EXIT_OK."""
    return EXIT_ROWS if any(counts.get(str(o), 0) for o in PROBLEM_OUTCOMES) else EXIT_OK


def problem_table(results: pd.DataFrame) -> pd.DataFrame:
    """The result lines whose outcome is a problem, in result order."""
    return results[results["outcome"].astype(str).isin([str(o) for o in PROBLEM_OUTCOMES])]


def problem_lines(problems: pd.DataFrame) -> tuple[ProblemLine, ...]:
    """Row, email, license, code and message of result lines, as text (a sync line has no row)."""

    def text(value: object) -> str:
        return "" if value is None or value is pd.NA or value != value else str(value)

    columns = [
        problems.get(c, pd.Series("", index=problems.index))
        for c in ("row", "email", "license", "code", "message")
    ]
    return tuple(
        (text(r), text(e), text(lic), text(c), text(m))
        for r, e, lic, c, m in zip(*columns, strict=True)
    )


def seats_lines(
    before: AccountSnapshot | None,
    after: AccountSnapshot | None,
    projected: Mapping[SeatKey, Seats] | None = None,
) -> tuple[str, ...]:
    """One line per license and size: how many seats are used of those purchased.

    After the run when the account was read again, else as planned (`projected`), else now.
    """
    from batch.report.labels import seat_label, seat_order  # batch.report imports this module

    seats: Mapping[SeatKey, Seats]
    if after is not None:
        seats, when = after.seats, "after the run"
    elif projected is not None:
        seats, when = projected, "after the run, as planned"
    elif before is not None:
        seats, when = before.seats, "now"
    else:
        return ()
    return tuple(
        f"{seat_label(key)}: {seats[key].used} of {seats[key].purchased} used {when}"
        for key in sorted(seats, key=seat_order)
    )

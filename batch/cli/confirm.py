"""Asking before changing an account: the plan's summary, then `Apply N changes to ...? [y/N]`.

Asked only when stdin is a terminal and `--yes` was not given, so cron and scripts (no
terminal) run as before. A plan without changes asks nothing. Answering anything but y/yes
applies nothing: the run ends with exit 4 ("stopped before any change") and writes no report.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from batch.vocabulary import Action, Kind, Outcome, license_label

if TYPE_CHECKING:
    from batch.model import AccountSnapshot
    from batch.pipeline import Confirm
    from batch.planning import Plan


YES = click.option(
    "--yes",
    "-y",
    is_flag=True,
    help="Apply without asking (on a terminal it shows the changes and asks first; without a "
    "terminal it never asks).",
)


def asks(yes: bool) -> bool:
    """True when a run should ask before applying: a person at a terminal, no `--yes`."""
    return not yes and sys.stdin.isatty()


def account_name(account: AccountSnapshot) -> str:
    """How the question names the account."""
    if account.is_sandbox:
        return f"the SANDBOX account {account.account_id}"
    return f"Zoom account {account.account_id}"


def plan_summary(the_plan: Plan) -> Table:
    """Changes per action and license, sync removals apart, and the seats after the plan."""
    planned = the_plan.results[the_plan.results["outcome"].astype(str) == str(Outcome.PLANNED)]
    is_sync = (
        planned["sync"].fillna(False).astype(bool) if "sync" in planned else planned["row"].isna()
    )
    changes = Counter(
        (
            "removed by sync" if sync else str(action),
            str(label),
        )
        for action, label, sync in zip(planned["action"], planned["license"], is_sync, strict=True)
    )
    table = Table(title=f"{len(planned)} changes planned", title_justify="left")
    table.add_column("Action")
    table.add_column("License")
    table.add_column("Lines", justify="right")
    order = [str(a) for a in Action] + ["removed by sync"]
    for (action, label), number in sorted(
        changes.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
    ):
        table.add_row(action, label, str(number))
    return table


def seats_table(the_plan: Plan) -> Table:
    """Seats purchased and used per license and size once the plan is applied."""
    table = Table(title="Seats after", title_justify="left")
    table.add_column("License")
    table.add_column("Used", justify="right")
    table.add_column("Purchased", justify="right")
    order = list(Kind)
    for (kind, size), seats in sorted(
        the_plan.seats_after.items(), key=lambda item: (order.index(item[0][0]), item[0][1] or 0)
    ):
        label = "Licensed" if kind is Kind.BASE else license_label(kind, size=size)
        table.add_row(label, str(seats.used), str(seats.purchased))
    return table


def terminal_confirm() -> Confirm:
    """The confirm callback of the apply pipeline: show the plan, ask, True on yes.

    The plan and the question go to stdout, beside the other lines meant for people (stderr
    may be a log file even when someone types at the terminal).
    """

    def confirm(the_plan: Plan, account: AccountSnapshot) -> bool:
        console = Console(file=sys.stdout, highlight=False)
        console.print(plan_summary(the_plan))
        console.print(seats_table(the_plan))
        changes = int((the_plan.results["outcome"].astype(str) == str(Outcome.PLANNED)).sum())
        return click.confirm(f"Apply {changes} changes to {account_name(account)}?", default=False)

    return confirm

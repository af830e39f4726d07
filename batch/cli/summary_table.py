"""What a person sees at the end of a run: the counts, the first problem lines, the seats after.

On a terminal (rich output) stderr gets the counts table, then a table of the first 20 problem
lines (Row, Email, License, Code, Message, wrapped to the terminal's width) with "... and N
more in the report", then the seats per license after the run (as planned for plan and dry
runs). In JSON or text mode only the `summary` event is written, as before. stdout gets the
counts line and the report's path in every mode.
"""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich.console import Console
from rich.table import Table

from batch.output import Output
from batch.pipeline import ProblemLine, RunOutcome

PROBLEM_HEADERS = ("Row", "Email", "License", "Code", "Message")


def problems_table(problems: Sequence[ProblemLine], total: int) -> Table:
    """A table of problem lines that wraps Message (and long emails) to the console's width."""
    table = Table(
        title="Problem lines",
        title_justify="left",
        caption=f"... and {total - len(problems)} more in the report"
        if total > len(problems)
        else None,
        caption_justify="left",
        expand=False,
    )
    table.add_column("Row", justify="right", no_wrap=True)
    table.add_column("Email", overflow="fold", max_width=32)
    table.add_column("License", overflow="fold", max_width=20)
    table.add_column("Code", overflow="fold", max_width=24)
    table.add_column("Message", overflow="fold", min_width=20, ratio=1)
    for line in problems:
        table.add_row(*line)
    return table


def print_summary(outcome: RunOutcome, console: Console) -> None:
    """The counts table, the problem lines and the seats lines, on a rich console."""
    counts = Table(title="Result lines", title_justify="left")
    counts.add_column("Outcome")
    counts.add_column("Lines", justify="right")
    for name, number in outcome.counts.items():
        if number:
            counts.add_row(str(name), str(number))
    console.print(counts)
    if outcome.problem_count:
        console.print(problems_table(outcome.problems, outcome.problem_count))
    for line in outcome.seats_lines:
        console.print(line, markup=False)


def print_outcome(outcome: RunOutcome, output: Output) -> None:
    """Summarise one file's run: the terminal summary (or `summary` event), then stdout lines."""
    if output.style == "rich" and not output.quiet:
        print_summary(outcome, Console(file=output.stream, highlight=False))
    else:
        output.summary(dict(outcome.counts), outcome.seats_lines)
    counts = ", ".join(f"{n} {name}" for name, n in outcome.counts.items() if n)
    click.echo(f"{outcome.command} {outcome.file_name}: {counts or 'no lines'}")
    click.echo(f"Report: {outcome.report_path}")

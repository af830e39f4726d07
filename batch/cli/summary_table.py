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

from batch.counts import ProblemLine, RunSummary
from batch.output import Output

PROBLEM_HEADERS = ("Row", "Email", "License", "Code", "Message")


def problem_widths(problems: Sequence[ProblemLine], width: int) -> tuple[int, ...]:
    """Column widths (text only) that fit `width`: Row, License and Code as wide as their text
    when there is room, Email and Message sharing the rest (Message two parts in three)."""
    room = max(width - (3 * len(PROBLEM_HEADERS) + 1), 30)  # borders and padding
    natural = [
        max([len(PROBLEM_HEADERS[i]), *(len(line[i]) for line in problems)]) for i in range(4)
    ]
    row, email, license_, code = natural
    fixed = min(license_, 18), min(code, 21)
    if room - row - sum(fixed) < 36:  # a narrow terminal: License and Code wrap too
        fixed = min(license_, 9), min(code, 9)
    if room - row - sum(fixed) < 14:  # very narrow: the least that still reads
        fixed = min(license_, 6), min(code, 6)
    rest = max(room - row - sum(fixed), 12)
    email_width = min(email, max(rest // 3, 6))
    return row, email_width, fixed[0], fixed[1], max(rest - email_width, 6)


def problems_table(problems: Sequence[ProblemLine], total: int, width: int) -> Table:
    """A table of problem lines, every cell wrapped so the table fits `width` columns."""
    more = total - len(problems)
    table = Table(
        title="Problem lines",
        title_justify="left",
        caption=f"... and {more} more in the report" if more > 0 else None,
        caption_justify="left",
    )
    for header, column_width in zip(PROBLEM_HEADERS, problem_widths(problems, width), strict=True):
        table.add_column(
            header,
            justify="right" if header == "Row" else "left",
            width=column_width,
            overflow="fold",
        )
    for line in problems:
        table.add_row(*line)
    return table


def print_summary(outcome: RunSummary, console: Console) -> None:
    """The counts table, the problem lines and the seats lines, on a rich console."""
    counts = Table(title="Result lines", title_justify="left")
    counts.add_column("Outcome")
    counts.add_column("Lines", justify="right")
    for name, number in outcome.counts.items():
        if number:
            counts.add_row(str(name), str(number))
    console.print(counts)
    if outcome.problem_count:
        console.print(problems_table(outcome.problems, outcome.problem_count, console.width))
    for line in outcome.seats_lines:
        console.print(line, markup=False)


def print_outcome(outcome: RunSummary, output: Output) -> None:
    """Summarise one file's run: the terminal summary (or `summary` event), then stdout lines."""
    if output.style == "rich" and not output.quiet:
        print_summary(outcome, Console(file=output.stream, highlight=False))
    else:
        output.summary(dict(outcome.counts), outcome.seats_lines)
    counts = ", ".join(f"{n} {name}" for name, n in outcome.counts.items() if n)
    click.echo(f"{outcome.command} {outcome.file_name}: {counts or 'no lines'}")
    click.echo(f"Report: {outcome.report_path}")

"""The `Summary` sheet: what ran on what (SANDBOX in big red letters when it was one), result
lines per outcome and per license, and a bar chart of licenses by outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill

from batch.model import RunInfo
from batch.report.cells import (
    BOLD,
    CHART_COLOURS,
    DATETIME_FORMAT,
    NOTE_FONT,
    OUTCOME_COLOURS,
    SECTION_FONT,
    excel_datetime,
    fit_to_width,
    header_cells,
    safe,
    styled,
)
from batch.report.labels import sort_labels
from batch.vocabulary import ADDON_SIZES, ADDONS, Action, Kind, Outcome, parse_license_word

SUMMARY_SHEET: Final = "Summary"
SANDBOX_TITLE: Final = "SANDBOX: emulated account, not a real Zoom account"
OFFLINE_TITLE: Final = "Offline check: no Zoom account was read"
SANDBOX_FONT: Final = Font(bold=True, size=22, color="FFFFFF")
SANDBOX_FILL: Final = PatternFill("solid", fgColor="C00000")
ACCOUNT_FONT: Final = Font(bold=True, size=18, color="1F3864")
OUTCOMES: Final = tuple(str(o) for o in Outcome)
COLUMN_WIDTHS: Final = (26.0, 24.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0)
NOT_A_LICENSE: Final = "not a license"


def is_license(label: str) -> bool:
    """True for a license Zoom has: a user type, or an add-on with one of its sizes."""
    parsed = parse_license_word(label) if label else None
    if parsed is None:
        return False
    kind, user_type, size = parsed
    if kind is Kind.BASE:
        return user_type is not None
    return size in ADDON_SIZES.get(kind, ())


def title(run: RunInfo) -> str:
    """The report's title line: SANDBOX, the account id, or offline."""
    if run.is_sandbox:
        return SANDBOX_TITLE
    if run.account_id:
        return f"Zoom account {run.account_id}"
    return OFFLINE_TITLE


def license_counts(results: pd.DataFrame) -> pd.DataFrame:
    """Result lines per license (rows, report order) and outcome (columns, spec order)."""
    if results.empty:
        return pd.DataFrame(columns=list(OUTCOMES), dtype="int64")
    labels = results["license"].astype("string").fillna("")
    table = pd.crosstab(labels, results["outcome"].astype("string"))
    return table.reindex(index=sort_labels(table.index), columns=list(OUTCOMES), fill_value=0)


def input_facts(run: RunInfo) -> list[tuple[str, object]]:
    """What was read of the file: the sheet, the header's row, the loader's notes (rows skipped
    above the header, a Totals row), and the columns carried through unread."""
    loaded = run.file
    facts: list[tuple[str, object]] = []
    if loaded.sheet is not None:
        facts.append(("Sheet", loaded.sheet))
    facts.append(("Header row", loaded.header_row))
    facts += [("Input note", note) for note in loaded.notes]
    if loaded.extra_columns:
        facts.append(("Carried columns", ", ".join(loaded.extra_columns)))
    return facts


def removal_facts(results: pd.DataFrame) -> list[tuple[str, object]]:
    """Add-ons taken from users who hold them, apart from the counts: a run that removes what
    people use should say so where it is read first."""
    if results.empty or "kind" not in results:
        return []
    removes = (
        (results["action"].astype("string") == Action.REMOVE.value)
        & results["kind"].astype("string").isin([k.value for k in ADDONS])
        & results["outcome"].astype("string").isin([Outcome.PLANNED.value, Outcome.APPLIED.value])
    )
    if not removes.any():
        return []
    taken = results.loc[removes.fillna(False).to_numpy(dtype=bool)]
    by_label = taken["license"].astype("string").value_counts().sort_index()
    listed = ", ".join(f"{n} {label}" for label, n in by_label.items())
    return [("Held add-ons removed", f"{len(taken)} ({listed})")]


def _account_text(run: RunInfo) -> str:
    if run.is_sandbox:
        where = f" ({run.sandbox_path})" if run.sandbox_path else ""
        return f"SANDBOX{where}"
    return run.account_id or "none (offline)"


def write_summary(
    wb: Workbook, run: RunInfo, results: pd.DataFrame, counts: Mapping[str, int]
) -> None:
    """Write the Summary sheet; `counts` are the run's result lines per outcome (batch.counts)."""
    ws = wb.create_sheet(SUMMARY_SHEET)
    for letter, width in zip("ABCDEFGHI", COLUMN_WIDTHS, strict=True):
        ws.column_dimensions[letter].width = width
    fit_to_width(ws)  # landscape: its 134 characters of columns print at ~80%, >= 8 pt
    ws.row_dimensions[1].height = 36  # write-only: row sizes are set before the row is written
    if run.is_sandbox:
        banner = [styled(ws, None, fill=SANDBOX_FILL) for _ in COLUMN_WIDTHS[1:]]
        ws.append([styled(ws, title(run), font=SANDBOX_FONT, fill=SANDBOX_FILL), *banner])
    else:
        ws.append([styled(ws, title(run), font=ACCOUNT_FONT)])
    ws.append([styled(ws, f"License batch report: {run.file.name}", font=SECTION_FONT)])
    ws.append([])

    command = run.command + (" (dry run)" if run.dry_run else "")
    facts: list[tuple[str, object]] = [
        ("File", run.file.name),
        ("SHA-256", run.file.sha256),
        ("Account", _account_text(run)),
        ("Command", command),
        ("Mode", str(run.mode)),
        ("Layout", run.file.layout),
        *input_facts(run),
        *removal_facts(results),
        ("Started (UTC)", excel_datetime(run.started)),
        ("Finished (UTC)", excel_datetime(run.finished)),
        ("Run by", run.user),
        ("Tool version", run.tool_version),
        *(("Note", note) for note in run.notes),
    ]
    ws.append([styled(ws, "Run", font=SECTION_FONT)])
    for label, value in facts:
        cell = (
            styled(ws, value, number_format=DATETIME_FORMAT)
            if label.endswith("(UTC)")
            else safe(ws, value)
        )
        ws.append([styled(ws, label, font=BOLD), cell])
    ws.append([])
    row = 4 + len(facts) + 1

    ws.append([styled(ws, "Result lines per outcome", font=SECTION_FONT)])
    ws.append(header_cells(ws, ["Outcome", "Lines"], numbers=[1]))
    for outcome, count in counts.items():
        fill = PatternFill("solid", fgColor=OUTCOME_COLOURS[outcome])
        ws.append([styled(ws, outcome, fill=fill), count])
    ws.append([styled(ws, "Total", font=BOLD), styled(ws, sum(counts.values()), font=BOLD)])
    ws.append([])
    row += 1 + 1 + len(counts) + 1 + 1

    table = license_counts(results)
    ws.append([styled(ws, "Result lines per license", font=SECTION_FONT)])
    header_row = row + 2
    ws.append(header_cells(ws, ["License", *OUTCOMES, "Total"], numbers=range(1, 9)))
    # Licenses first (these are charted), then what the file named that is no license: one
    # "not a license" row (charted too), then each such label on its own
    real = [str(label) and is_license(str(label)) for label in table.index]
    licenses, others = table[real], table[[not r for r in real]]
    for label, values in zip(licenses.index, licenses.to_numpy().tolist(), strict=True):
        ws.append([safe(ws, str(label)), *values, sum(values)])
    charted = len(licenses)
    if len(others):
        group = others.sum(axis=0).astype(int).tolist()
        ws.append([styled(ws, NOT_A_LICENSE, font=NOTE_FONT), *group, sum(group)])
        charted += 1
        for label, values in zip(others.index, others.to_numpy().tolist(), strict=True):
            ws.append([safe(ws, f"  {label or '(none)'}"), *values, sum(values)])
    last_row = header_row + len(table) + (1 if len(others) else 0)
    if len(table):
        shown = pd.concat([licenses, others.sum(axis=0).to_frame().T]) if len(others) else licenses
        most = int(shown.to_numpy().sum(axis=1).max())
        ws.add_chart(_chart(ws, header_row, header_row + charted, most), f"A{last_row + 3}")
    else:
        ws.append([styled(ws, "No result lines.", font=NOTE_FONT)])


def _chart(ws: object, header_row: int, last_row: int, most: int) -> BarChart:
    """A stacked bar chart of result lines per license, one colour per outcome."""
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Result lines per license and outcome"
    chart.y_axis.title = "Lines"
    chart.y_axis.number_format = "0"
    chart.y_axis.majorUnit = max(1, -(-most // 5))  # whole lines, about five gridlines
    chart.x_axis.delete = False  # openpyxl 3.1 hides axes in Excel unless told
    chart.y_axis.delete = False
    chart.height = 7.5 + 0.5 * (last_row - header_row)
    chart.width = 17
    data = Reference(ws, min_col=2, max_col=1 + len(OUTCOMES), min_row=header_row, max_row=last_row)
    categories = Reference(ws, min_col=1, min_row=header_row + 1, max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    for series, outcome in zip(chart.series, OUTCOMES, strict=True):
        series.graphicalProperties.solidFill = CHART_COLOURS[outcome]
        series.graphicalProperties.line.solidFill = CHART_COLOURS[outcome]
    return chart

"""The `Chargeback` sheet: licenses held after the run per department and per cost centre.

A user's department and cost centre come from the input file when the user is in it (and the
cell is filled), else from the account. With a price table (license label -> monthly price) each
group gets its monthly cost and the table a total; without one, counts only and a note on how to
configure prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from batch.model import AccountSnapshot, RunInfo
from batch.report.cells import (
    BOLD,
    MONEY_FORMAT,
    NOTE_FONT,
    estimate_width,
    frame_table,
    header_cells,
    safe,
    styled,
)
from batch.report.labels import sort_labels
from batch.report.state import changing_lines, holding_table, projected_holdings
from batch.vocabulary import UserType

CHARGEBACK_SHEET: Final = "Chargeback"
DEPARTMENT_HEADER: Final = "Department"
COST_CENTER_HEADER: Final = "Cost centre"
TOTAL_LABEL: Final = "Total"
NO_GROUP: Final = "(none)"
FREE_LABELS: Final = frozenset({str(UserType.BASIC)})  # held by everyone, costs nothing
OFFLINE_NOTE: Final = "validate does not read the account: run plan or apply for chargeback."
PRICES_HINT: Final = (
    "No price table configured: add one to the config file to see monthly costs, e.g. "
    '[prices] Licensed = 14.99, "Webinar 500" = 79.0 (license label = monthly price).'
)


def _file_groups(run: RunInfo, field: str) -> pd.Series:
    """email -> the input file's cell of `field` (first row of the user), where filled."""
    header = run.file.fields.get(field)
    if header is None or header not in run.file.source.columns:
        return pd.Series(dtype="string")
    requests = run.file.requests.drop_duplicates("email")
    requests = requests[requests["email"].astype(str) != ""]
    rows = pd.to_numeric(requests["row"], errors="coerce")
    known = rows.isin(run.file.source.index)
    values = run.file.source[header].reindex(rows[known].astype("int64").to_numpy())
    values = values.astype("string").fillna("").str.strip()
    emails = requests.loc[known, "email"].astype(str).to_numpy()
    groups = pd.Series(values.to_numpy(), index=emails, dtype="string")
    return groups[(groups != "").to_numpy()]


def _account_groups(state: AccountSnapshot, field: str) -> pd.Series:
    """email -> the account's department or cost centre of the user, where filled."""
    attribute = "dept" if field == "department" else "cost_center"
    values = [getattr(user, attribute).strip() for user in state.users.values()]
    groups = pd.Series(values, index=list(state.users), dtype="string")
    return groups[(groups != "").to_numpy()]


def chargeback_table(
    run: RunInfo, state: AccountSnapshot, holdings: pd.DataFrame, field: str
) -> pd.DataFrame:
    """Licenses per group (rows) and label (columns) after the run, groups sorted, no totals.

    A user's group is the input file's cell when the user is in the file, else the account's.
    """
    paid = holdings.loc[~holdings["label"].isin(list(FREE_LABELS)).to_numpy()]
    from_file = paid["email"].map(_file_groups(run, field)).astype("string")
    from_account = paid["email"].map(_account_groups(state, field)).astype("string")
    group = from_file.fillna(from_account).fillna(NO_GROUP)
    if paid.empty:
        return pd.DataFrame()
    table = pd.crosstab(group.to_numpy(), paid["label"].to_numpy())
    table.index.name, table.columns.name = "group", "label"
    return table.reindex(columns=sort_labels(table.columns)).sort_index()


def write_chargeback(
    wb: Workbook,
    run: RunInfo,
    results: pd.DataFrame,
    before: AccountSnapshot | None,
    after: AccountSnapshot | None,
    prices: Mapping[str, float] | None,
    currency: str,
) -> None:
    """Write the Chargeback sheet."""
    ws = wb.create_sheet(CHARGEBACK_SHEET)
    state = after or before
    if state is None:
        offline = (DEPARTMENT_HEADER, TOTAL_LABEL)
        frame_table(ws, offline, [estimate_width(h, []) for h in offline], 0)
        ws.append(header_cells(ws, offline))
        ws.append([styled(ws, OFFLINE_NOTE, font=NOTE_FONT)])
        return
    if after is not None:
        holdings = holding_table(after)
    else:
        assert before is not None
        holdings = projected_holdings(before, changing_lines(results))
    prices = dict(prices or {})
    by_department = chargeback_table(run, state, holdings, "department")
    by_cost_center = chargeback_table(run, state, holdings, "cost_center")
    labels = sort_labels([*by_department.columns, *by_cost_center.columns])
    cost_header = f"Monthly cost ({currency})"
    tail = [TOTAL_LABEL, cost_header] if prices else [TOTAL_LABEL]
    headers = [DEPARTMENT_HEADER, *labels, *tail]
    groups = [*by_department.index, *by_cost_center.index, COST_CENTER_HEADER]
    widths = [estimate_width(DEPARTMENT_HEADER, groups)] + [
        estimate_width(h, []) for h in headers[1:]
    ]
    frame_table(ws, headers, widths, len(by_department) + 1)
    numbers = range(1, len(headers))  # every column after the group's name holds numbers
    ws.append(header_cells(ws, headers, numbers))
    _write_groups(ws, by_department, labels, prices)
    ws.append([])
    ws.append(header_cells(ws, [COST_CENTER_HEADER, *labels, *tail], numbers))
    _write_groups(ws, by_cost_center, labels, prices)
    ws.append([])
    for note in _notes(run, after, labels, prices, currency):
        ws.append([styled(ws, note, font=NOTE_FONT)])


def _write_groups(
    ws: WriteOnlyWorksheet, table: pd.DataFrame, labels: list[str], prices: Mapping[str, float]
) -> None:
    table = table.reindex(columns=labels, fill_value=0).fillna(0).astype("int64")
    price_row = [float(prices.get(label, 0.0)) for label in labels]
    totals = [0] * len(labels)
    grand_cost = 0.0
    for group, counts in zip(table.index, table.to_numpy().tolist(), strict=True):
        row: list[object] = [safe(ws, str(group)), *counts, sum(counts)]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        if prices:
            cost = round(sum(c * p for c, p in zip(counts, price_row, strict=True)), 2)
            grand_cost += cost
            row.append(styled(ws, cost, number_format=MONEY_FORMAT))
        ws.append(row)
    total_row: list[object] = [
        styled(ws, value, font=BOLD) for value in [TOTAL_LABEL, *totals, sum(totals)]
    ]
    if prices:
        total_row.append(styled(ws, round(grand_cost, 2), font=BOLD, number_format=MONEY_FORMAT))
    ws.append(total_row)


def _notes(
    run: RunInfo,
    after: AccountSnapshot | None,
    labels: list[str],
    prices: Mapping[str, float],
    currency: str,
) -> list[str]:
    notes = [
        "Licenses held after the run"
        + (" (projected from the planned lines)." if after is None else ".")
        + " Department and cost centre from the input file for users in it, else the account."
    ]
    if not prices:
        notes.append(PRICES_HINT)
        return notes
    listed = ", ".join(f"{label} {prices[label]:.2f}" for label in labels if label in prices)
    notes.append(f"Monthly prices ({currency}): {listed}.")
    missing = [label for label in labels if label not in prices]
    if missing:
        notes.append(f"No price for {', '.join(missing)}: counted at 0.")
    return notes

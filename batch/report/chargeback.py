"""The `Chargeback` sheet: licenses held after the run per department and per cost centre.

A user's department and cost centre come from the input file when the user is in it (and the
cell is filled), else from the account. With a price table (license label -> monthly price) each
group gets its monthly cost and the table a total; without one, counts only and a note on how to
configure prices.

It always adds up to the Seats sheet: per license, the table's total equals Seats' "Used after"
(Licensed and On-prem together take the Licensed seats). Add-ons are only known for the users
whose settings the run read (the file's users; every Licensed and On-prem user with
`--full-account`); the seats held by the others are one row, "holders not read in this run", so
nothing in use goes missing. Licenses held by pending and inactive users are counted like the
others (they take seats) and, when there are any, two columns say how many of each row's are.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from batch.columns import give_back, positions_in, texts_at
from batch.model import AccountSnapshot, RunInfo
from batch.report.cells import (
    BOLD,
    MONEY_FORMAT,
    NOTE_FONT,
    TWO_LINE_HEIGHT,
    estimate_width,
    frame_table,
    header_cells,
    safe,
    styled,
    two_line_width,
)
from batch.report.labels import seat_key, seat_label, sort_labels
from batch.report.seats import SeatFigures
from batch.report.state import changing_lines, holding_table, projected_holdings
from batch.vocabulary import UserType

NOTE_LINE_CHARS: Final = 110  # a note line fits the printed page of a split table
CHARGEBACK_SHEET: Final = "Chargeback"
DEPARTMENT_HEADER: Final = "Department"
COST_CENTER_HEADER: Final = "Cost centre"
TOTAL_LABEL: Final = "Total"
NO_GROUP: Final = "(none)"
NOT_READ_LABEL: Final = "holders not read in this run"
PENDING_HEADER: Final = "Of which pending"
INACTIVE_HEADER: Final = "Of which inactive"
FREE_LABELS: Final = frozenset({str(UserType.BASIC)})  # held by everyone, costs nothing
OFFLINE_NOTE: Final = "validate does not read the account: run plan or apply for chargeback."
PRICES_HINT: Final = (
    "No price table configured: add one to the config file to see monthly costs, e.g. "
    '[prices] Licensed = 14.99, "Webinar 500" = 79.0 (license label = monthly price).'
)


@dataclass(frozen=True)
class _Paid:
    """The paid licenses held after the run, each one's user looked up once: among the file's
    users and among the account's (one Arrow lookup each, where `emails.map(...)` per field and
    status hashed a Python string per license)."""

    licenses: pd.DataFrame  # holding_table rows
    file_rows: np.ndarray[Any, np.dtype[np.int64]]  # each file user's first row
    in_file: np.ndarray[Any, np.dtype[np.int64]]  # position in file_rows, -1: not in the file
    in_account: np.ndarray[Any, np.dtype[np.int64]]  # position among the account's users, -1


def _paid(run: RunInfo, state: AccountSnapshot, holdings: pd.DataFrame) -> _Paid:
    licenses = holdings.loc[~holdings["label"].isin(list(FREE_LABELS)).to_numpy()]
    emails = licenses["email"].astype("str")
    requests = run.file.requests[["email", "row"]]  # only these: the file has many columns
    requests = requests.loc[~requests["email"].duplicated().to_numpy()]
    requests = requests[requests["email"].astype(str) != ""]
    rows = pd.to_numeric(requests["row"], errors="coerce")
    known = rows.isin(run.file.source.index).to_numpy()
    file_users = pd.Index(requests["email"].astype(str)[known], dtype="str")
    return _Paid(
        licenses,
        np.asarray(rows[known], dtype=np.int64),
        positions_in(emails, file_users),
        positions_in(emails, state.user_table.frame.index),
    )


def _groups(run: RunInfo, state: AccountSnapshot, paid: _Paid, field: str) -> pd.Series:
    """Each paid license's group: the input file's cell of `field` (the user's first row) when
    the user is in the file and it is filled, else the account's, else NO_GROUP."""
    column = state.user_table.frame["dept" if field == "department" else "cost_center"]
    group = texts_at(column.astype("str").fillna("").str.strip(), paid.in_account)
    group = group.where(group != "", NO_GROUP)
    header = run.file.fields.get(field)
    if header is not None and header in run.file.source.columns:
        cells = run.file.source[header].reindex(paid.file_rows)
        from_file = texts_at(cells.astype("str").fillna("").str.strip(), paid.in_file)
        group = from_file.where(from_file != "", group)
    group.index = paid.licenses.index
    return group


def _crosstab(
    paid: pd.DataFrame, group: pd.Series, statuses: pd.Series, status: str
) -> pd.DataFrame:
    """Licenses per group (rows) and label (columns), groups sorted, no totals; with `status`
    ("pending", "inactive"), only the licenses of users of that status."""
    if status:
        keep = (statuses == status).to_numpy()
        paid, group = paid.loc[keep], group.loc[keep]
    if paid.empty:
        return pd.DataFrame()
    # pd.crosstab of a million lines holds ~120 MB of Python strings; codes and one bincount
    group_codes, groups = pd.factorize(group)
    label_codes, labels = pd.factorize(paid["label"])
    counts = np.bincount(
        group_codes * len(labels) + label_codes, minlength=len(groups) * len(labels)
    ).reshape(len(groups), len(labels))
    table = pd.DataFrame(
        counts,
        index=pd.Index(np.asarray(groups, dtype=object), name="group"),
        columns=pd.Index(np.asarray(labels, dtype=object), name="label"),
    )
    return table.reindex(columns=sort_labels(table.columns)).sort_index()


def not_read_counts(seats: SeatFigures, holdings: pd.DataFrame) -> dict[str, int]:
    """Per label, the seats in use after the run (as Seats counts them) that no read holder
    accounts for: Seats' "Used after" minus the licenses of the holders read. Licensed and
    On-prem holders together take the Licensed seats; the difference goes in `Licensed`.
    Negative when more holders were read than the account counts seats (a note says so).
    """
    labels = holdings["label"]
    held = labels.map({label: _seat_label_of(label) for label in labels.unique()}).value_counts()
    return {
        line.label: line.used_after - int(held.get(line.label, 0))
        for line in seats.lines
        if line.used_after != int(held.get(line.label, 0))
    }


def _seat_label_of(label: str) -> str:
    """The Seats label whose seats a license label takes (On-prem takes a Licensed seat)."""
    key = seat_key(label)
    return seat_label(key) if key is not None else ""


def write_chargeback(
    wb: Workbook,
    run: RunInfo,
    results: pd.DataFrame,
    before: AccountSnapshot | None,
    after: AccountSnapshot | None,
    seats: SeatFigures | None,
    prices: Mapping[str, float] | None,
    currency: str,
) -> None:
    """Write the Chargeback sheet (`seats`: the Seats sheet's figures, None without an account)."""
    ws = wb.create_sheet(CHARGEBACK_SHEET)
    state = after or before
    if state is None or before is None or seats is None:
        offline = (DEPARTMENT_HEADER, TOTAL_LABEL)
        frame_table(ws, offline, [estimate_width(h, []) for h in offline], 0)
        ws.append(header_cells(ws, offline))
        ws.append([styled(ws, OFFLINE_NOTE, font=NOTE_FONT)])
        return
    if after is not None:
        holdings = holding_table(after)
    else:
        holdings = projected_holdings(before, changing_lines(results))
    give_back()  # the account's holdings before the run, freed: back to the system
    prices = dict(prices or {})
    not_read = not_read_counts(seats, holdings)
    paid = _paid(run, state, holdings)
    statuses = texts_at(state.user_table.frame["status"], paid.in_account)
    tables = {}
    for field in ("department", "cost_center"):
        group = _groups(run, state, paid, field)  # once for the three tables
        tables[field] = _Groups(
            *(
                _crosstab(paid.licenses, group, statuses, status)
                for status in ("", "pending", "inactive")
            )
        )
    marked = any(not t.pending.empty or not t.inactive.empty for t in tables.values())
    labels = sort_labels(
        [*(c for t in tables.values() for c in t.all.columns), *(k for k, n in not_read.items())]
    )
    cost_header = f"Monthly cost ({currency})"
    tail = [TOTAL_LABEL, *([cost_header] if prices else [])]
    tail += [PENDING_HEADER, INACTIVE_HEADER] if marked else []
    headers = [DEPARTMENT_HEADER, *labels, *tail]
    by_department = tables["department"].all
    groups = [*by_department.index, *tables["cost_center"].all.index, NOT_READ_LABEL]
    # the number columns' headers take two lines, so a table of the usual licenses prints on
    # one page wide instead of across two (with one column alone on the second)
    widths = [estimate_width(DEPARTMENT_HEADER, groups)] + [two_line_width(h) for h in headers[1:]]
    frame_table(ws, headers, widths, len(by_department) + 1 + bool(not_read), repeat=1)
    numbers = range(1, len(headers))  # every column after the group's name holds numbers
    header_row = 1
    for n, field in enumerate(("department", "cost_center")):
        if n:
            ws.append([])
        first = DEPARTMENT_HEADER if field == "department" else COST_CENTER_HEADER
        ws.row_dimensions[header_row].height = TWO_LINE_HEIGHT  # write-only: before the row
        ws.append(header_cells(ws, [first, *labels, *tail], numbers, wrap=True))
        written = _write_groups(ws, tables[field], labels, prices, not_read, marked=marked)
        header_row += 1 + written + 1  # the next header: after this table and a blank row
    ws.append([])
    for note in _notes(run, after, labels, prices, currency, not_read):
        # one printed line each: a long note would run across the page break of a split table
        for line in textwrap.wrap(note, NOTE_LINE_CHARS):
            ws.append([styled(ws, line, font=NOTE_FONT)])


@dataclass(frozen=True)
class _Groups:
    """One table's licenses per group: all of them, and those of pending and inactive users."""

    all: pd.DataFrame
    pending: pd.DataFrame
    inactive: pd.DataFrame


def _write_groups(
    ws: WriteOnlyWorksheet,
    groups: _Groups,
    labels: list[str],
    prices: Mapping[str, float],
    not_read: Mapping[str, int],
    *,
    marked: bool,
) -> int:
    """Write one table's rows below its header (its groups, not-read row and Total); returns
    how many rows that was."""
    table = groups.all.reindex(columns=labels, fill_value=0).fillna(0).astype("int64")
    price_row = [float(prices.get(label, 0.0)) for label in labels]
    totals = [0] * len(labels)
    grand_cost = 0.0
    rows: list[tuple[str, list[int], list[object]]] = [
        (str(group), counts, [_of(groups.pending, group), _of(groups.inactive, group)])
        for group, counts in zip(table.index, table.to_numpy().tolist(), strict=True)
    ]
    if not_read:
        rows.append((NOT_READ_LABEL, [int(not_read.get(label, 0)) for label in labels], ["", ""]))
    for group, counts, statuses in rows:
        row: list[object] = [safe(ws, group), *counts, sum(counts)]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        if prices:
            cost = round(sum(c * p for c, p in zip(counts, price_row, strict=True)), 2)
            grand_cost += cost
            row.append(styled(ws, cost, number_format=MONEY_FORMAT))
        if marked:
            row += statuses
        if group == NOT_READ_LABEL:
            row[0] = styled(ws, NOT_READ_LABEL, font=NOTE_FONT)
        ws.append(row)
    total_row: list[object] = [
        styled(ws, value, font=BOLD) for value in [TOTAL_LABEL, *totals, sum(totals)]
    ]
    if prices:
        total_row.append(styled(ws, round(grand_cost, 2), font=BOLD, number_format=MONEY_FORMAT))
    if marked:
        total_row += [
            styled(ws, int(t.to_numpy().sum()) if not t.empty else 0, font=BOLD)
            for t in (groups.pending, groups.inactive)
        ]
    ws.append(total_row)
    return len(rows) + 1


def _of(table: pd.DataFrame, group: object) -> int:
    """Licenses of one group in a per-status table (0 when the group has none)."""
    if table.empty or group not in table.index:
        return 0
    return int(table.to_numpy()[table.index.get_loc(group)].sum())


def _notes(
    run: RunInfo,
    after: AccountSnapshot | None,
    labels: list[str],
    prices: Mapping[str, float],
    currency: str,
    not_read: Mapping[str, int],
) -> list[str]:
    notes = [
        "Licenses held after the run"
        + (" (projected from the planned lines)." if after is None else ".")
        + " Department and cost centre from the input file for users in it, else the account."
        + " Each license's total equals Seats' Used after (Licensed and On-prem together take"
        " the Licensed seats)."
    ]
    if any(n > 0 for n in not_read.values()):
        notes.append(
            f"{NOT_READ_LABEL}: seats in use by users whose add-ons this run did not read (users "
            "not in the file, and pending users, whose add-ons Zoom does not show); run with "
            "--full-account (config report.full_account = true) to attribute them."
        )
    for label, n in not_read.items():
        if n < 0:
            notes.append(
                f"{label}: {-n} more holders were read than the account counts seats in use: "
                "the account changed while it was read; run plan again to check."
            )
    if not prices:
        notes.append(PRICES_HINT)
        return notes
    listed = ", ".join(f"{label} {prices[label]:.2f}" for label in labels if label in prices)
    notes.append(f"Monthly prices ({currency}): {listed}.")
    missing = [label for label in labels if label not in prices]
    if missing:
        notes.append(f"No price for {', '.join(missing)}: counted at 0.")
    return notes

"""`batch export [--out FILE.xlsx|csv] [--status active,pending,inactive]`: the account as a file.

The account's users in the wide input layout (Email, First name, Last name, Department, Cost
center, Status, User type, Large Meeting, Webinar, Zoom Events with sizes), so the next file can
start from it; the XLSX has a `Seats` sheet too. Add-ons are read for every Licensed and On-prem
user that is not pending (one request each, at the account's rate limit, behind a progress bar);
a pending user's add-on cells stay blank, since Zoom does not show them, and a blank cell asks
for no change. `batch plan` of an unedited export plans nothing.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import click

from batch.cli.common import (
    announce,
    build_settings,
    handle_errors,
    make_output,
    output_options,
    reading_options,
)
from batch.errors import InputError
from batch.model import AccountSnapshot, AccountUser
from batch.vocabulary import ADDONS

STATUSES: Final = ("active", "pending", "inactive")
HEADERS: Final = (
    "Email", "First name", "Last name", "Department", "Cost center", "Status", "User type",
    "Large Meeting", "Webinar", "Zoom Events",
)  # fmt: skip
SEATS_HEADERS: Final = ("License", "Purchased", "Used", "Free")
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def user_row(user: AccountUser) -> list[str | int | None]:
    """One user as a wide input row: held add-on sizes, blank where none (or not shown)."""
    addons: list[str | int | None] = [user.addon(kind) for kind in ADDONS]
    return [
        user.email,
        user.first_name,
        user.last_name,
        user.dept,
        user.cost_center,
        user.status,
        str(user.type) if user.type is not None else "",
        *addons,
    ]


def export_rows(state: AccountSnapshot, statuses: Sequence[str]) -> list[list[str | int | None]]:
    """The users of those statuses, by email."""
    wanted = set(statuses)
    return [user_row(u) for _, u in sorted(state.users.items()) if u.status in wanted]


def seat_rows(state: AccountSnapshot) -> list[list[str | int]]:
    """Per license and size: purchased, used and free seats."""
    from batch.report.labels import seat_label, seat_order

    return [
        [seat_label(key), s.purchased, s.used, s.purchased - s.used]
        for key, s in sorted(state.seats.items(), key=lambda item: seat_order(item[0]))
    ]


def write_csv(path: Path, rows: list[list[str | int | None]]) -> None:
    """UTF-8 with a BOM (Excel opens it right); a text cell that Excel would take for a formula
    starts with an apostrophe."""

    def cell(value: str | int | None) -> str:
        text = "" if value is None else str(value)
        return "'" + text if text.startswith(FORMULA_START) else text

    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADERS)
        writer.writerows([cell(v) for v in row] for row in rows)
    temporary.replace(path)


def write_xlsx(path: Path, rows: list[list[str | int | None]], state: AccountSnapshot) -> None:
    """The users sheet, then the Seats sheet; text never becomes a formula."""
    from openpyxl import Workbook

    from batch.report.cells import estimate_width, frame_table, header_cells, safe

    wb = Workbook(write_only=True)
    users = wb.create_sheet("Users")
    widths = [estimate_width(h, [r[n] for r in rows]) for n, h in enumerate(HEADERS)]
    frame_table(users, HEADERS, widths, len(rows))
    users.append(header_cells(users, HEADERS))
    for row in rows:
        users.append([safe(users, v) for v in row])
    seats = wb.create_sheet("Seats")
    lines = seat_rows(state)
    frame_table(seats, SEATS_HEADERS, [estimate_width(h, [r[0] for r in lines]) for h in
                                       SEATS_HEADERS], len(lines))  # fmt: skip
    seats.append(header_cells(seats, SEATS_HEADERS))
    for line in lines:
        seats.append(line)
    temporary = path.with_name(f".{path.name}.tmp")
    wb.save(temporary)
    temporary.replace(path)


def parse_statuses(text: str) -> tuple[str, ...]:
    """`active,pending` -> ("active", "pending"); an unknown status is refused."""
    given = tuple(s.strip().lower() for s in text.split(",") if s.strip())
    unknown = [s for s in given if s not in STATUSES]
    if unknown or not given:
        raise InputError(
            f"--status {text!r}: give one or more of {', '.join(STATUSES)}, comma-separated"
        )
    return given


def out_path(out: Path | None, reports_dir: Path, account_id: str) -> Path:
    """--out as given (.xlsx or .csv), else reports/<account>-users-<UTC stamp>.xlsx."""
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return reports_dir / f"{account_id}-users-{stamp}.xlsx"
    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise InputError(f"--out {out}: the file must end in .xlsx or .csv")
    return out


@click.command("export", short_help="Write the account's users and holdings as an input file.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the users: FILE.xlsx (with a Seats sheet) or FILE.csv "
    "(default reports/<account>-users-<UTC timestamp>.xlsx).",
)
@click.option(
    "--status",
    "status_text",
    default=",".join(STATUSES),
    show_default=True,
    help="Which users: active, pending and/or inactive, comma-separated.",
)
@reading_options
@output_options
@handle_errors
def export_command(
    out: Path | None, status_text: str, config_path: Path | None, **options: object
) -> None:
    """Write the account's users as a wide input file: who holds what, to start the next file.

    Reads every user and the add-ons of every Licensed and On-prem user (one request each, at
    the account's rate limit). `batch plan` of the unedited file plans nothing.
    """
    from batch.account import read_account_now

    statuses = parse_statuses(status_text)
    if out is not None:
        out_path(out, Path(), "")  # refuse a bad --out before reading the account
    settings = build_settings(config_path, **options)
    output = make_output(settings)
    announce(settings)
    state = read_account_now(settings, output, full_account=True)
    path = out_path(out, settings.reports_dir, state.account_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = export_rows(state, statuses)
    with output.stage("Writing the file", total=None):
        if path.suffix.lower() == ".csv":
            write_csv(path, rows)
        else:
            write_xlsx(path, rows, state)
    click.echo(f"export: {len(rows)} users ({', '.join(statuses)}) written to {path}")
    sys.exit(0)

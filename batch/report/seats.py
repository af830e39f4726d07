"""The `Seats` sheet: per license and size, purchased, used before, freed, granted, used after,
free after.

Freed and granted are the run's seat moves (`SeatMoves`, handed in: the lines this run applied,
planned lines for plan and dry run).
Used after is the account's own count when it was read again after the run, and must equal
used before - freed + granted; when it does not, a note line says so. Without an account
(validate) the sheet only says why it is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from openpyxl import Workbook

from batch.model import AccountSnapshot, RunInfo, SeatKey
from batch.planning.seats import SeatMoves
from batch.report.cells import (
    NOTE_FONT,
    WARNING_FONT,
    estimate_width,
    frame_table,
    header_cells,
    styled,
)
from batch.report.labels import seat_label, seat_order

SEATS_SHEET: Final = "Seats"
SEATS_HEADERS: Final = (
    "License", "Purchased", "Used before", "Freed", "Granted", "Used after", "Free after",
)  # fmt: skip
OFFLINE_NOTE: Final = (
    "validate checks the file only and does not read the account: "
    "run plan or apply for seat figures."
)


@dataclass(frozen=True)
class SeatLine:
    """One Seats row."""

    label: str
    purchased: int
    used_before: int
    freed: int
    granted: int
    used_after: int

    @property
    def free_after(self) -> int:
        """Purchased seats not used after the run (negative when over-used)."""
        return self.purchased - self.used_after


@dataclass(frozen=True)
class SeatFigures:
    """The Seats rows and the note lines (mismatches between the account and the arithmetic)."""

    lines: list[SeatLine]
    notes: list[str]


def seat_figures(
    moves: SeatMoves, before: AccountSnapshot, after: AccountSnapshot | None
) -> SeatFigures:
    """Per license and size, the seats before, moved by the run (`moves`) and after it."""
    keys: set[SeatKey] = set(before.seats) | set(moves.freed) | set(moves.granted)
    if after is not None:
        keys |= set(after.seats)
    lines: list[SeatLine] = []
    notes: list[str] = []
    for key in sorted(keys, key=seat_order):
        was = before.seats.get(key)
        purchased = was.purchased if was is not None else 0
        used_before = was.used if was is not None else 0
        freed, granted = moves.freed[key], moves.granted[key]
        expected = used_before - freed + granted
        used_after = expected
        if after is not None:
            now = after.seats.get(key)
            used_after = now.used if now is not None else 0
            purchased = now.purchased if now is not None else purchased
            if used_after != expected:
                notes.append(
                    f"{seat_label(key)}: the account counts {used_after} used after the run, "
                    f"but {used_before} - {freed} + {granted} = {expected}: "
                    "something else changed the account during the run."
                )
        lines.append(SeatLine(seat_label(key), purchased, used_before, freed, granted, used_after))
    return SeatFigures(lines, notes)


def write_seats(
    wb: Workbook, run: RunInfo, figures: SeatFigures | None, *, read_after: bool
) -> None:
    """Write the Seats sheet (`figures` None: no account was read; `read_after`: it was read
    again after the run)."""
    ws = wb.create_sheet(SEATS_SHEET)
    if figures is None:
        frame_table(ws, SEATS_HEADERS, [estimate_width(h, []) for h in SEATS_HEADERS], 0)
        ws.append(header_cells(ws, SEATS_HEADERS))
        ws.append([styled(ws, OFFLINE_NOTE, font=NOTE_FONT)])
        return
    rows = [
        [s.label, s.purchased, s.used_before, s.freed, s.granted, s.used_after, s.free_after]
        for s in figures.lines
    ]
    widths = [estimate_width(h, [r[n] for r in rows]) for n, h in enumerate(SEATS_HEADERS)]
    frame_table(ws, SEATS_HEADERS, widths, len(rows))
    ws.append(header_cells(ws, SEATS_HEADERS, numbers=range(1, len(SEATS_HEADERS))))
    for row in rows:
        ws.append(row)
    ws.append([])
    if read_after:
        how = "as the account counts them after the run"
    elif run.command == "plan" or run.dry_run:
        how = "projected from the planned lines (nothing was changed)"
    else:
        how = "used before - freed + granted (the account was not read again)"
    ws.append([styled(ws, f"Used after: {how}. Freed/Granted: lines of this run.", font=NOTE_FONT)])
    for warning in figures.notes:
        ws.append([styled(ws, warning, font=WARNING_FONT)])

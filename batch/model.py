"""The data that passes between the stages: loaded file, account snapshot, results, run info.

    load(file) -> LoadedFile            (requests table, one line per user and license)
    rules / plan(LoadedFile, AccountSnapshot) -> results table (one line per result)
    apply(...) -> results table with applied/failed outcomes
    report(RunInfo, results, ...) -> workbook

Tables are pandas DataFrames whose columns are fixed here (REQUEST_COLUMNS, RESULT_COLUMNS) so
that every stage is vectorised; small things are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

import pandas as pd

from batch.vocabulary import Kind, Mode, UserType

# ---------------------------------------------------------------------------------------------
# The requests table: what the loader makes of a file, one line per user and requested license.
#
#   request  int    position of the line (0..n-1), stable id through every stage
#   row      int    the row number the admin sees in Excel (header is row 1; blank lines count)
#   email    str    trimmed (non-breaking spaces too) and lower-cased; "" when the cell is blank
#   email_input str the email cell as typed (for messages and the Problems sheet)
#   column   str    the input column the request came from (its header as written)
#   raw      str    the cell text as typed ("" for a blank cell)
#   kind     str    a vocabulary.Kind value, or "" when the license word is not recognised
#   user_type str   for kind "base": a UserType value, "" when the word is not recognised
#   size     Int64  add-on size as written (may be an unknown size); <NA> when none was given
#   action   str    "assign" or "remove" (Action values); "" when the action word is unknown
#
# The rules add, per request: outcome, code, message (see RESULT_COLUMNS).
REQUEST_COLUMNS: Final = (
    "request", "row", "email", "email_input", "column", "raw",
    "kind", "user_type", "size", "action",
)  # fmt: skip

# Optional request columns the loader adds; tables made without them read as "" (see rules).
#   load_code str   a file-rule code the loader already knows ("conflict": `Webinar 500` in the
#                   Large Meeting column), "" when none
#   note      str   what the loader read in a way the admin should see ("read as jan@x.nl");
#                   it starts the line's Message
REQUEST_NOTE_COLUMNS: Final = ("load_code", "note")

# The results table: one line per result, the report's `Results` sheet in this order, then
# internal columns the report may use (request, kind, size) and not show.
RESULT_COLUMNS: Final = ("row", "email", "license", "action", "outcome", "code", "message")
RESULT_INTERNAL_COLUMNS: Final = (
    "request", "kind", "user_type", "size", "done_earlier", "previous",
)  # fmt: skip
# previous: what the user held before (the planner fills it; "" from the file rules)


@dataclass(frozen=True)
class LoadedFile:
    """A spreadsheet as loaded: its requests plus what the report needs to echo it back."""

    name: str  # file name as given (no directories)
    sha256: str  # of the file's bytes
    layout: Literal["wide", "long"]
    source: pd.DataFrame  # every input column as text, original headers, index = Excel row
    fields: dict[str, str]  # canonical field (vocabulary.FIELD_ALIASES keys) -> header as written
    extra_columns: tuple[str, ...]  # unknown columns, carried through to the report, in order
    requests: pd.DataFrame  # REQUEST_COLUMNS (+ REQUEST_NOTE_COLUMNS from the loader)
    sheet: str | None = None  # the workbook sheet read; None for a CSV
    header_row: int = 1  # the header's row number as Excel shows it
    skipped_rows: tuple[int, ...] = ()  # non-empty rows above the header, left out
    notes: tuple[str, ...] = ()  # what the loader read in a way worth saying (Summary, logs)


# ---------------------------------------------------------------------------------------------
# The account as the client reads it (or the sandbox holds it).


@dataclass(frozen=True)
class AccountUser:
    """One user of the account with what they hold."""

    id: str | None  # Zoom does not return an id for pending users
    email: str  # lower-case
    type: UserType | None  # None for types the product does not manage (e.g. 4, 99)
    status: Literal["active", "pending", "inactive"]
    first_name: str = ""
    last_name: str = ""
    dept: str = ""
    cost_center: str = ""
    # held add-on sizes; None = not held. `addons_known` False means the settings were not read.
    large_meeting: int | None = None
    webinar: int | None = None
    zoom_events: int | None = None
    addons_known: bool = True

    def addon(self, kind: Kind) -> int | None:
        """The held size of an add-on kind, or None."""
        value: int | None = getattr(self, kind.value)
        return value


@dataclass(frozen=True)
class Seats:
    """Purchased and used seats of one license and size (size None for the base license)."""

    purchased: int
    used: int

    @property
    def free(self) -> int:
        """Seats that can still be granted (never negative)."""
        return max(self.purchased - self.used, 0)


SeatKey = tuple[Kind, int | None]  # (Kind.BASE, None) or (Kind.WEBINAR, 500)


@dataclass(frozen=True)
class AccountSnapshot:
    """The account's state at one moment: its users and its seats per license and size."""

    account_id: str
    plan: str  # "pro", "business", ... (rate limits depend on it)
    on_prem_available: bool
    users: dict[str, AccountUser]  # by lower-case email
    seats: dict[SeatKey, Seats]  # owned plans only: a size not in here is not owned
    is_sandbox: bool = False
    read_at: datetime | None = None

    def owned_sizes(self, kind: Kind) -> tuple[int, ...]:
        """The sizes of an add-on kind that the account has a plan of, ascending."""
        return tuple(sorted(s for (k, s) in self.seats if k is kind and s is not None))


# ---------------------------------------------------------------------------------------------
# A run, for the report's Summary sheet and the logs.


@dataclass(frozen=True)
class RunInfo:
    """What ran, on what, when: the report's Summary header."""

    command: Literal["validate", "plan", "apply", "inbox"]
    file: LoadedFile
    started: datetime  # UTC
    finished: datetime  # UTC
    mode: Mode = Mode.APPLY
    dry_run: bool = False
    account_id: str | None = None  # None for validate (offline)
    is_sandbox: bool = False
    sandbox_path: str | None = None
    tool_version: str = ""
    user: str = ""  # who ran it (login name) and on what host
    notes: tuple[str, ...] = field(default_factory=tuple)

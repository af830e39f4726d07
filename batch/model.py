"""The data that passes between the stages: loaded file, account snapshot, results, run info.

    load(file) -> LoadedFile            (requests table, one line per user and license)
    rules / plan(LoadedFile, AccountSnapshot) -> results table (one line per result)
    apply(...) -> results table with applied/failed outcomes
    report(RunInfo, results, ...) -> workbook

Tables are pandas DataFrames whose columns are fixed here (REQUEST_COLUMNS, RESULT_COLUMNS) so
that every stage is vectorised; small things are frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, cast

import numpy as np
import pandas as pd

from batch.vocabulary import PAID_TYPES, Kind, Mode, UserType

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

# Invisible characters that cling to pasted emails; removed wherever they are.
INVISIBLE_EMAIL_CHARACTERS: Final = "[\u200b\u200c\u200d\u2060\ufeff]"


def normalise_emails(cells: pd.Series) -> pd.Series:
    """Emails as compared, everywhere (the loader's `email`, the planner's keys, the journal's
    op ids): invisible characters removed, trimmed (NBSP too), lower-cased.

    >>> normalise_emails(pd.Series([" Ann@X.com\u00a0", "bo\u200bb@x.com"])).tolist()
    ['ann@x.com', 'bob@x.com']
    """
    cells = cells.astype(str)
    if not cells.str.isascii().all():  # the regex pass only when a cell can need it
        cells = cells.str.replace(INVISIBLE_EMAIL_CHARACTERS, "", regex=True)
        cells = cells.str.replace("\u00a0", " ")
    return cells.str.strip().str.lower()


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


@dataclass(frozen=True, slots=True)
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

# The users table: one row per user, indexed by lower-case email (AccountUser's fields).
#   id        str    "" when Zoom gave none (pending users)
#   type      str    a UserType value, "" for types the product does not manage
#   status, first_name, last_name, dept, cost_center   str
#   large_meeting, webinar, zoom_events                 Int64, <NA> when not held
#   addons_known                                        bool
USER_TEXT_COLUMNS: Final = (
    "id",
    "type",
    "status",
    "first_name",
    "last_name",
    "dept",
    "cost_center",
)
USER_SIZE_COLUMNS: Final = ("large_meeting", "webinar", "zoom_events")
_TYPES: Final = {t.value: t for t in UserType}


class UserTable(Mapping[str, AccountUser]):
    """An account's users as columns: a read-only Mapping email -> AccountUser.

    A million users cost a few arrays, not a million objects; an AccountUser is made when one
    is looked up or iterated. `frame` is the table itself (see USER_TEXT_COLUMNS), for the
    vectorised planner.

    >>> users = UserTable.of([AccountUser("id1", "ann@x.com", UserType.LICENSED, "active")])
    >>> users["ann@x.com"].type, len(users), users.frame["type"].tolist()
    (<UserType.LICENSED: 'Licensed'>, 1, ['Licensed'])
    """

    __slots__ = ("_rows", "frame")

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._rows: list[AccountUser] | None = None  # made on the first lookup by email

    @classmethod
    def of(cls, users: Iterable[AccountUser] | Mapping[str, AccountUser]) -> UserTable:
        """The table of some users (a Mapping's values are used; the emails are the users')."""
        if isinstance(users, UserTable):
            return users
        people = list(users.values()) if isinstance(users, Mapping) else list(users)
        emails = list(users) if isinstance(users, Mapping) else [u.email for u in people]
        columns: dict[str, Any] = {
            "id": [u.id or "" for u in people],
            "type": [u.type.value if u.type is not None else "" for u in people],
            "status": [u.status for u in people],
            "first_name": [u.first_name for u in people],
            "last_name": [u.last_name for u in people],
            "dept": [u.dept for u in people],
            "cost_center": [u.cost_center for u in people],
        }
        for name in USER_SIZE_COLUMNS:
            data = np.array([getattr(u, name) or 0 for u in people], dtype=np.int64)
            columns[name] = pd.arrays.IntegerArray(data, data == 0)
        columns["addons_known"] = np.array([u.addons_known for u in people], dtype=bool)
        return cls.from_columns(emails, columns)

    @classmethod
    def from_columns(cls, emails: Iterable[str], columns: Mapping[str, Any]) -> UserTable:
        """The table of column data (see USER_TEXT_COLUMNS); missing text columns read as ""."""
        index = pd.Index(list(emails), name="email", dtype="str")
        frame = pd.DataFrame(index=index)
        for name in USER_TEXT_COLUMNS:
            frame[name] = pd.array(columns[name], dtype="str") if name in columns else ""
        for name in USER_SIZE_COLUMNS:
            frame[name] = pd.array(columns.get(name, [pd.NA] * len(index)), dtype="Int64")
        frame["addons_known"] = np.asarray(columns.get("addons_known", True), dtype=bool)
        frame["addons_known"] = frame["addons_known"].astype(bool)
        return cls(frame)

    def __getitem__(self, email: str) -> AccountUser:
        # A lookup by email is a hash lookup; the users are made once, in batches, on the first
        # one (making one row's user from the frame costs a millisecond: a loop over all users
        # doing that took minutes at 100k).
        try:
            position = self.frame.index.get_loc(email)
        except (KeyError, TypeError):
            raise KeyError(email) from None
        if not isinstance(position, int):  # an email twice in the index: not a user table
            raise KeyError(email)
        if self._rows is None:
            self._rows = list(self.values())
        return self._rows[position]

    def __contains__(self, email: object) -> bool:
        return email in self.frame.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.frame.index.tolist())

    def __len__(self) -> int:
        return len(self.frame)

    def values(self) -> Iterator[AccountUser]:  # type: ignore[override]  # an iterator will do
        for start in range(0, len(self.frame), 10_000):
            yield from _made(self.frame.iloc[start : start + 10_000])

    def pick(self, emails: Iterable[str]) -> list[AccountUser]:
        """The users of some emails (each one in the table), made from their rows alone."""
        return list(_made(self.frame.loc[list(emails)]))

    def items(self) -> Iterator[tuple[str, AccountUser]]:  # type: ignore[override]
        for user in self.values():
            yield user.email, user

    def __repr__(self) -> str:
        return f"UserTable({len(self)} users)"


def readable_holders(users: Mapping[str, AccountUser]) -> set[str]:
    """Users whose add-ons can be read and may hold some: Licensed or On-prem, not pending.
    A whole account (a UserTable) is read from its columns, without a user object each."""
    if isinstance(users, UserTable):
        frame = users.frame
        paid = frame["type"].isin([t.value for t in PAID_TYPES])
        chosen = (paid & (frame["status"] != "pending")).to_numpy(dtype=bool)
        return set(frame.index[chosen])
    return {e for e, u in users.items() if u.type in PAID_TYPES and u.status != "pending"}


def _made(frame: pd.DataFrame) -> Iterator[AccountUser]:
    """The AccountUser objects of some rows of a users table."""
    sizes = [
        [None if pd.isna(v) else int(v) for v in frame[name].tolist()] for name in USER_SIZE_COLUMNS
    ]
    rows = zip(
        frame.index.tolist(),
        *(frame[name].tolist() for name in USER_TEXT_COLUMNS),
        *sizes,
        frame["addons_known"].tolist(),
        strict=True,
    )
    # one zip over the columns, and the cast's type as text (written as Literal[...] it is
    # built again for every user): a 100k-user account is made several times in a run
    for email, uid, type_, status, first, last, dept, cost, large, webinar, events, known in rows:
        yield AccountUser(
            id=uid or None,
            email=email,
            type=_TYPES.get(type_),
            status=cast('Literal["active", "pending", "inactive"]', status),
            first_name=first,
            last_name=last,
            dept=dept,
            cost_center=cost,
            large_meeting=large,
            webinar=webinar,
            zoom_events=events,
            addons_known=bool(known),
        )


@dataclass(frozen=True)
class AccountSnapshot:
    """The account's state at one moment: its users and its seats per license and size."""

    account_id: str
    plan: str  # "pro", "business", ... (rate limits depend on it)
    on_prem_available: bool
    users: Mapping[str, AccountUser]  # by lower-case email; kept as a UserTable (columns)
    seats: dict[SeatKey, Seats]  # owned plans only: a size not in here is not owned
    is_sandbox: bool = False
    read_at: datetime | None = None

    def __post_init__(self) -> None:
        # a dict of users (tests, the client) is stored as columns: a million users stay small
        object.__setattr__(self, "users", UserTable.of(self.users))

    @property
    def user_table(self) -> UserTable:
        """The users as columns (`user_table.frame`)."""
        return cast(UserTable, self.users)

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

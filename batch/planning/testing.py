"""Hand-built planner inputs for tests: a file-rules results table and an account snapshot.

They stand in for the loader, the file rules and the Zoom client, so planner tests (and the
apply step's) need none of them.

    >>> requests, results = file_tables([(2, "Ann@Example.com", "Webinar 500")])
    >>> snapshot = account([user("ann@example.com", webinar=None)], {"Webinar 500": 1})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from batch.model import (
    REQUEST_COLUMNS,
    RESULT_COLUMNS,
    RESULT_INTERNAL_COLUMNS,
    AccountSnapshot,
    AccountUser,
    SeatKey,
    Seats,
)
from batch.planning.seats import seat_of_label
from batch.vocabulary import PAID_TYPES, Kind, UserType, license_label, parse_license_word

# (row, email as typed, license word, action="assign", outcome="valid", code="")
FileLine = Sequence[object]


def file_tables(lines: Iterable[FileLine]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The requests table and the file-rules results table of long-layout lines.

    Each line is (row, email, license word[, action[, outcome[, code]]]); an unrecognised
    license word gives kind "".
    """
    req_rows, res_rows = [], []
    for request, line in enumerate(lines):
        row, email, word = int(str(line[0])), str(line[1]), str(line[2])
        action = str(line[3]) if len(line) > 3 else "assign"
        outcome = str(line[4]) if len(line) > 4 else "valid"
        code = str(line[5]) if len(line) > 5 else ""
        parsed = parse_license_word(word)
        kind, user_type, size = parsed if parsed else (None, None, None)
        key = " ".join(email.replace("\u00a0", " ").split()).lower()
        req_rows.append(
            {"request": request, "row": row, "email": key, "email_input": email,
             "column": "license", "raw": word, "kind": kind.value if kind else "",
             "user_type": str(user_type or ""), "size": size, "action": action}
        )  # fmt: skip
        res_rows.append(
            {"row": row, "email": email,
             "license": license_label(kind, user_type, size) if kind else word,
             "action": action, "outcome": outcome, "code": code, "message": "",
             "request": request, "kind": kind.value if kind else "",
             "user_type": str(user_type or ""), "size": size, "done_earlier": False,
             "previous": ""}
        )  # fmt: skip
    requests = pd.DataFrame(req_rows, columns=list(REQUEST_ORDER))
    results = pd.DataFrame(res_rows, columns=list(RESULT_ORDER))
    for table in (requests, results):
        table["size"] = table["size"].astype("Int64")
        table["row"] = table["row"].astype("Int64")
        table["request"] = table["request"].astype("int64")
    results["done_earlier"] = results["done_earlier"].astype(bool)
    return requests, results


REQUEST_ORDER = REQUEST_COLUMNS
RESULT_ORDER = (*RESULT_COLUMNS, *RESULT_INTERNAL_COLUMNS)


def user(
    email: str,
    type: UserType | str = UserType.LICENSED,
    status: str = "active",
    *,
    large_meeting: int | None = None,
    webinar: int | None = None,
    zoom_events: int | None = None,
    addons_known: bool = True,
) -> AccountUser:
    """An account user; the id is derived from the email (pending users have none)."""
    return AccountUser(
        id=None if status == "pending" else "id-" + email.split("@")[0],
        email=email.lower(),
        type=UserType(type),
        status=status,  # type: ignore[arg-type]  # tests pass the three statuses only
        large_meeting=large_meeting,
        webinar=webinar,
        zoom_events=zoom_events,
        addons_known=addons_known,
    )


def seat_key_of_label(label: str) -> SeatKey:
    """`Licensed` -> (BASE, None), `Webinar 500` -> (WEBINAR, 500)."""
    key = seat_of_label(label)
    if key is None:
        raise ValueError(label)
    return key


def account(
    users: Iterable[AccountUser],
    purchased: Mapping[str, int],
    *,
    on_prem_available: bool = False,
) -> AccountSnapshot:
    """A snapshot whose used seats are counted from the users, as the sandbox does."""
    people = {u.email: u for u in users}
    seats: dict[SeatKey, Seats] = {}
    for label, bought in purchased.items():
        key = seat_key_of_label(label)
        if key[0] is Kind.BASE:
            used = sum(u.type in PAID_TYPES for u in people.values())
        else:
            used = sum(u.addon(key[0]) == key[1] for u in people.values())
        seats[key] = Seats(bought, used)
    return AccountSnapshot("test", "business", on_prem_available, people, seats)


__all__ = ["account", "file_tables", "user"]

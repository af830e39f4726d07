"""Hypothesis strategies: random sandbox accounts (README, `batch sandbox`) and license files.

    accounts()            -> section-5 account data: consistent (purchased >= used), tight seats
    license_files(emails) -> (file name, CSV bytes) in the wide or the long layout, mixing the
                             account's users, unknown and broken emails, every kind of cell word,
                             duplicates and conflicts

Sizes come from small pools so that owned, not owned and unknown sizes all turn up often.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import strategies as st

from batch.vocabulary import ADDON_NAMES, ADDONS, PAID_TYPES, Kind, UserType
from tests.accounts import FAST_LIMITS, account

# The sizes an account may own or a user hold: two or three per add-on keep collisions likely.
POOL_SIZES: dict[Kind, tuple[int, ...]] = {
    Kind.LARGE_MEETING: (500, 1000),
    Kind.WEBINAR: (500, 1000, 3000),
    Kind.ZOOM_EVENTS: (500, 1000),
}
UNKNOWN_EMAILS = ("nobody@example.com", "ghost@example.org")
BROKEN_EMAILS = ("", "not-an-email", "u1 at example.com")


def email_of(index: int) -> str:
    """The email of the account's user number `index`."""
    return f"u{index}@example.com"


@st.composite
def accounts(draw: st.DrawFn, min_users: int = 5, max_users: int = 40) -> dict[str, Any]:
    """A business account: random user types, statuses and add-ons; seats purchased >= used.

    Purchased seats exceed usage by 0-2 per license and size (often 0), so grants compete for
    seats and size changes must free their old seat first; some sizes are not owned at all.
    """
    on_prem = draw(st.booleans())
    types = [UserType.BASIC, UserType.LICENSED] + ([UserType.ON_PREM] if on_prem else [])
    statuses = st.sampled_from(["active"] * 6 + ["pending", "inactive"])
    users = []
    for index in range(draw(st.integers(min_users, max_users))):
        user_type = draw(st.sampled_from(types))
        user: dict[str, Any] = {
            "email": email_of(index),
            "type": str(user_type),
            "status": draw(statuses),
        }
        for kind in ADDONS:
            held = None
            if user_type in PAID_TYPES:
                held = draw(st.sampled_from((None, *POOL_SIZES[kind])))
            user[kind.value] = held
        users.append(user)
    paid = sum(UserType(u["type"]) in PAID_TYPES for u in users)
    hosts = paid + draw(st.integers(0, 3))
    plans: dict[str, dict[str, int]] = {}
    for kind in ADDONS:
        owned: dict[str, int] = {}
        for size in POOL_SIZES[kind]:
            used = sum(u[kind.value] == size for u in users)
            if used or draw(st.booleans()):
                owned[str(size)] = used + draw(st.sampled_from((0, 0, 1, 2)))
        if owned:
            plans[kind.value] = owned
    return account(
        users, hosts=hosts, plans=plans, limits=FAST_LIMITS, on_prem=on_prem, account_id="stateful"
    )


def size_words(kind: Kind) -> st.SearchStrategy[str]:
    """A size as admins write it: pool sizes (1000 as `1.000` too), other known and bad sizes."""
    pool = [str(s) for s in POOL_SIZES[kind]]
    other = {Kind.LARGE_MEETING: "3000", Kind.WEBINAR: "100", Kind.ZOOM_EVENTS: "3000"}[kind]
    return st.sampled_from([*pool, *pool, "1.000", "1000.0", other, "750"])


def addon_cells(kind: Kind) -> st.SearchStrategy[str]:
    """A wide add-on cell: blank, a size, a yes-word or a no-word."""
    return st.one_of(
        st.just(""),
        st.just(""),
        size_words(kind),
        st.sampled_from(["yes", "x", "ja", "no", "remove", "0", "nee"]),
    )


USER_TYPE_CELLS = ["", "", "Basic", "Licensed", "On-prem", "Met licentie", "basis", "2", "Gold"]
LONG_NAMES = {
    Kind.LARGE_MEETING: ("Large Meeting", "Grote vergadering"),
    Kind.WEBINAR: ("Webinar", "Webinars"),
    Kind.ZOOM_EVENTS: ("Zoom Events",),
}
ACTION_CELLS = ["", "", "assign", "remove", "toewijzen", "verwijderen"]


@st.composite
def long_license_cells(draw: st.DrawFn) -> str:
    """A long-layout `license` cell: a user type word or an add-on with or without a size."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["Licensed", "Basic", "On-prem", "Met licentie", "Basis"]))
    kind = draw(st.sampled_from(ADDONS))
    name = draw(st.sampled_from(LONG_NAMES[kind]))
    if draw(st.integers(0, 4)) == 0:
        return name
    return f"{name} {draw(size_words(kind))}"


@st.composite
def email_cells(draw: st.DrawFn, email: str) -> str:
    """The email cell of a row about `email`: sometimes in capitals and padded, sometimes
    replaced by an unknown or a broken email."""
    pick = draw(st.integers(0, 11))
    if pick == 0:
        return draw(st.sampled_from(UNKNOWN_EMAILS))
    if pick == 1:
        return draw(st.sampled_from(BROKEN_EMAILS))
    if pick == 2:
        return f" {email.upper()}\u00a0"
    return email


@st.composite
def license_files(draw: st.DrawFn, emails: list[str], max_users: int = 10) -> tuple[str, bytes]:
    """A CSV license file of random rows for some of these users, wide or long; (name, bytes).

    Wide files have a row per user and a few repeated users (duplicates, conflicts, sizes that
    do not stack); long files one to three rows per user. An empty `emails` list gives only
    unknown and broken emails.
    """
    pool = emails or list(UNKNOWN_EMAILS)
    users = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=max_users, unique=True))
    wide = draw(st.booleans())
    again = draw(st.lists(st.sampled_from(users), max_size=3 if wide else 2 * len(users)))
    about = draw(st.permutations(users + again))
    rows: list[list[str]] = []
    if wide:
        kinds = draw(st.lists(st.sampled_from(ADDONS), unique=True, max_size=3))
        with_type = draw(st.booleans()) or not kinds
        header = ["Email", *(["User Type"] if with_type else []), *(ADDON_NAMES[k] for k in kinds)]
        for email in about:
            row = [draw(email_cells(email))]
            if with_type:
                row.append(draw(st.sampled_from(USER_TYPE_CELLS)))
            rows.append(row + [draw(addon_cells(k)) for k in kinds])
    else:
        header = ["email", "license", "action"]
        for email in about:
            action = draw(st.sampled_from(ACTION_CELLS))
            rows.append([draw(email_cells(email)), draw(long_license_cells()), action])
    rows[0][0] = users[0]  # one row names a user: a file of blank rows is refused as a whole
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return f"{'wide' if wide else 'long'}.csv", text.getvalue().encode("utf-8")

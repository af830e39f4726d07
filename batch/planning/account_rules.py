"""Account rules: who each line is about, what the user holds, and what the line would change.

Every function works on the planner's working table `w` (one line per result, file order; its
columns are declared once, in `table.WorkingTable`) in place, on the lines still `valid`; the
first rule that refuses a line wins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias, cast

import numpy as np
import pandas as pd

from batch.columns import (
    int_texts,
    isin_texts,
    mapped_texts,
    positions_in,
    scatter,
    set_where,
    texts_at,
)
from batch.model import AccountSnapshot
from batch.vocabulary import ADDON_NAMES, ADDONS, PAID_TYPES, Action, Code, Kind, Outcome, UserType

from .seats import BASE_KEY, seat_texts
from .table import Working

PAID = [str(t) for t in PAID_TYPES]
PAIR_SEP = "\x1f"
VALID = str(Outcome.VALID)


def users_frame(snapshot: AccountSnapshot) -> pd.DataFrame:
    """The account's users as the planner reads them, indexed by lower-case email (`key`).

    The columns keep the user table's arrays (Arrow text stays Arrow): a million users would
    otherwise cost three million Python strings.
    """
    users = snapshot.user_table.frame
    return pd.DataFrame(
        {
            "u_id": users["id"].array,
            "u_type": users["type"].array,
            "u_status": users["status"].array,
            "u_known": users["addons_known"].to_numpy(dtype=bool),
            **{k.value: users[k.value].array for k in ADDONS},
        },
        index=pd.Index(users.index, name="key"),
        copy=False,  # the planner never writes them: no copy of the add-on columns
    )


class Rows:
    """Some lines of the working table, for a value made of them: a column is filtered from
    the table when it is first read (filtering all ~25 columns of a million lines for the two
    a message reads is most of a rule's time)."""

    __slots__ = ("_columns", "_mask", "_w", "index")

    def __init__(self, w: pd.DataFrame, mask: np.ndarray[Any, np.dtype[np.bool_]]) -> None:
        self._w = w
        self._mask = mask
        self._columns: dict[str, pd.Series] = {}
        self.index = w.index[mask]

    def __getitem__(self, name: str) -> pd.Series:
        """The column `name` on these lines (indexed like the table)."""
        if name not in self._columns:
            self._columns[name] = self._w[name][self._mask]
        return self._columns[name]


Message: TypeAlias = str | pd.Series | Callable[[Rows], pd.Series]


def mark(w: Working, mask: pd.Series, outcome: Outcome, code: str, message: Message) -> None:
    """Decide the lines in `mask`: outcome, code and message.

    The message is a text or a function of the decided lines (so that it is only built for
    them).
    """
    rows = mask.to_numpy(dtype=bool)
    if not rows.any():
        return
    set_where(w, rows, "outcome", str(outcome))
    set_where(w, rows, "code", code)
    put(w, rows, "message", message)


def put(w: Working, mask: pd.Series | np.ndarray[Any, Any], column: str, value: object) -> None:
    """Set a column on the lines in `mask`; a callable value gets those lines (`Rows`) and
    returns the values, in their order."""
    rows = np.asarray(mask, dtype=bool)
    if not rows.any():
        return
    new: Any = value
    if callable(value):
        lines = Rows(w, rows)
        new = value(lines)
        # made of the lines' own columns, so in their order: set by position, not aligned
        # by label (aligning a million labels costs more than the rule)
        if isinstance(new, pd.Series) and new.index.equals(lines.index):
            new = new.array
    set_where(w, rows, column, new)


def pending(w: Working) -> pd.Series:
    """Lines no rule has decided yet."""
    return w["outcome"] == VALID


def addon_names(kinds: pd.Series) -> pd.Series:
    """`Webinar` for `webinar`, vectorised."""
    return mapped_texts(kinds, {k.value: n for k, n in ADDON_NAMES.items()})


def addon_labels(kinds: pd.Series, sizes: pd.Series) -> pd.Series:
    """`Webinar 500`, vectorised (the size must be known)."""
    return addon_names(kinds) + " " + int_texts(sizes)


def attach_users(w: pd.DataFrame, users: pd.DataFrame) -> Working:
    """Add the user's id, type, status and the held size of each line's add-on: the file
    results become the working table."""
    position = positions_in(w["key"], users.index)
    found = position >= 0
    at = np.where(found, position, 0)  # a valid position for every line; masked below
    # a user without a status counts as not found, as it always has
    w["u_found"] = (
        found & users["u_status"].notna().to_numpy(dtype=bool)[at] if len(users) else found
    )
    for column in ("u_id", "u_type", "u_status"):
        w[column] = texts_at(users[column], position, w.index)  # "" when not found
    known = users["u_known"].to_numpy(dtype=bool)
    w["u_known"] = found & known[at] if len(known) else found
    sizes = np.zeros(len(w), dtype=np.int64)
    missing = np.ones(len(w), dtype=bool)
    kinds = w["kind"]
    for kind in ADDONS:
        lines = found & (kinds == kind.value).to_numpy(dtype=bool)
        if not lines.any():
            continue
        held = users[kind.value].astype("Int64").array
        sizes[lines] = held.to_numpy(dtype=np.int64, na_value=0)[at[lines]]
        missing[lines] = held.isna()[at[lines]]
    w["held"] = pd.arrays.IntegerArray(sizes, missing)
    w["take"] = ""
    w["free"] = ""
    w["change"] = False
    return cast(Working, w)


def check_users(w: Working) -> None:
    """`user-not-found`, and `user-not-active` for a change to a pending or deactivated user.

    A line that asks nothing (FALSE: not asked) is `unchanged` first, whoever it is about. A
    line asking for what such a user already holds is left to the later rules, which call it
    `unchanged`: exporting the account and feeding the file back passes. Only a change is
    refused (the message says pending or deactivated).
    """
    asks_nothing = pending(w) & (w["action"] == str(Action.NONE))
    mark(w, asks_nothing, Outcome.UNCHANGED, "", lambda d: d["message"])
    todo = pending(w)
    mark(
        w,
        todo & ~w["u_found"],
        Outcome.INVALID,
        str(Code.USER_NOT_FOUND),
        lambda d: "no user " + d["key"] + " in this account",
    )
    already = _already_so(w)
    for status, why in (
        ("pending", "the user is pending (invited, not activated yet)"),
        ("inactive", "the user is deactivated"),
    ):
        mark(
            w,
            pending(w) & (w["u_status"] == status) & ~already,
            Outcome.INVALID,
            str(Code.USER_NOT_ACTIVE),
            why,
        )


def _already_so(w: Working) -> pd.Series:
    """Lines that would change nothing for their user: the same type, the add-on size held, or
    the removal of something not held. Add-ons count only when the user's were read."""
    base = w["kind"] == Kind.BASE.value
    remove = w["action"] == str(Action.REMOVE)
    same_type = w["user_type"] == w["u_type"]
    base_same = base & ~remove & same_type
    base_noop = base & remove & ~(same_type & w["user_type"].isin(PAID))
    held, size = w["held"], w["size"]
    addon = w["kind"].isin([k.value for k in ADDONS]) & w["u_known"]
    holds_it = held.notna() & (size.isna() | (size == held).fillna(False))
    addon_same = addon & ~remove & holds_it
    addon_noop = addon & remove & (held.isna() | (size.notna() & (size != held).fillna(False)))
    return (base_same | base_noop | addon_same | addon_noop).astype(bool)


def base_rules(w: Working, on_prem_available: bool) -> None:
    """Base lines: unchanged when already so, `onprem-unavailable`, else a planned type change.

    An upgrade from a type that holds no base seat takes one (`take`); a downgrade of a
    Licensed/On-prem user to Basic frees one (`free`).
    """
    is_base = pending(w) & (w["kind"] == Kind.BASE.value)
    if not is_base.any():
        return
    put(w, is_base, "previous", lambda d: d["u_type"])
    # "remove Licensed" makes a Licensed user Basic; it leaves any other user alone
    drop = is_base & (w["action"] == str(Action.REMOVE))
    holds = drop & (w["user_type"] == w["u_type"]) & w["user_type"].isin(PAID)
    mark(
        w,
        drop & ~holds,
        Outcome.UNCHANGED,
        "",
        lambda d: "the user is " + d["u_type"] + ", not " + d["user_type"],
    )
    put(w, drop & ~holds, "action", str(Action.NONE))
    put(w, holds, "user_type", str(UserType.BASIC))
    put(w, is_base & ~drop, "action", str(Action.ASSIGN))
    same = is_base & (w["user_type"] == w["u_type"])
    mark(w, same, Outcome.UNCHANGED, "", lambda d: "already " + d["u_type"])
    put(w, same, "action", str(Action.NONE))
    if not on_prem_available:
        mark(
            w,
            pending(w) & is_base & (w["user_type"] == str(UserType.ON_PREM)),
            Outcome.INVALID,
            str(Code.ONPREM_UNAVAILABLE),
            "the account offers no On-prem user type (Meeting Connector accounts manage such "
            "users through group, account or user settings)",
        )
    planned = pending(w) & is_base
    was_paid = w["u_type"].isin(PAID)
    put(w, planned & w["user_type"].isin(PAID) & ~was_paid, "take", BASE_KEY)
    put(w, planned & (w["user_type"] == str(UserType.BASIC)) & was_paid, "free", BASE_KEY)
    put(
        w,
        planned,
        "message",
        lambda d: d["u_type"].where(d["u_type"] != "", "?") + " → " + d["user_type"],
    )
    mark_planned(w, planned)


def mark_planned(w: Working, mask: pd.Series) -> None:
    """Planned lines keep the message already set (it says what changes)."""
    put(w, mask, "outcome", str(Outcome.PLANNED))
    put(w, mask, "code", "")


def _held_label(d: Rows) -> pd.Series:
    return addon_labels(d["kind"], d["held"])


def _size_label(d: Rows) -> pd.Series:
    return addon_labels(d["kind"], d["size"])


def addon_rules(
    w: Working,
    snapshot: AccountSnapshot,
    type_after: pd.Series,
    refused_upgrade_row: pd.Series,
) -> None:
    """Add-on lines: prerequisite, size resolution, size-not-owned, then assign/change/remove.

    `type_after` maps each user key to their type once the planned base lines run;
    `refused_upgrade_row` maps a key to the row of its base upgrade refused for `no-seats`.
    The rules run on the add-on lines alone; each column they change is written back once.
    """
    rows = (pending(w) & w["kind"].isin([k.value for k in ADDONS])).to_numpy(dtype=bool)
    if not rows.any():
        return
    sub = w.loc[rows, [*_ADDON_READS, *_ADDON_WRITES]]
    _addon_rules(sub, snapshot, type_after, refused_upgrade_row)
    positions = np.flatnonzero(rows)
    for column in _ADDON_WRITES:
        scatter(w, positions, column, sub[column])


# what `_addon_rules` reads of the working table, and what it may change
_ADDON_READS = ("kind", "held", "key", "u_type")
_ADDON_WRITES = (
    "outcome", "code", "message", "previous", "action", "license", "size", "take", "free",
    "change",
)  # fmt: skip


def _addon_rules(
    w: Working,
    snapshot: AccountSnapshot,
    type_after: pd.Series,
    refused_upgrade_row: pd.Series,
) -> None:
    """`addon_rules` on the pending add-on lines alone (`w` holds only them)."""
    is_addon = pending(w)
    assign = is_addon & (w["action"] == str(Action.ASSIGN))
    remove = is_addon & (w["action"] == str(Action.REMOVE))
    put(w, is_addon & w["held"].notna(), "previous", _held_label)

    # prerequisite: the user must be Licensed or On-prem once the file is applied
    at = positions_in(w["key"], type_after.index)  # -1: no planned base line for the user
    after = w["u_type"].astype(str)  # the type now, unless a planned base line changes it
    if (at >= 0).any():
        taken = type_after.array.take(at[at >= 0])  # Arrow text stays Arrow
        changed = ~np.asarray(pd.isna(taken), dtype=bool)
        rows = np.flatnonzero(at >= 0)[changed]
        after.iloc[rows] = taken[changed]  # texts, by position
    lacking = assign & ~after.isin(PAID)

    def why(d: Rows) -> pd.Series:
        names = addon_names(d["kind"])
        now = after[d.index]
        text = names + " needs a Licensed or On-prem user; the user is " + now.where(now != "", "?")
        row = d["key"].map(refused_upgrade_row).astype("Int64")
        refused = names + " needs a Licensed or On-prem user, and the upgrade in row "
        return text.where(row.isna(), refused + row.astype(str) + " was refused (no-seats)")

    mark(w, lacking, Outcome.INVALID, str(Code.MISSING_PREREQUISITE), why)

    # size resolution for a line without a size: held size, else the only owned size
    assign = assign & pending(w)
    no_size = assign & w["size"].isna()
    put(w, no_size & w["held"].notna(), "size", lambda d: d["held"])
    for kind in ADDONS:
        of_kind = assign & (w["kind"] == kind.value)
        if not of_kind.any():
            continue
        owned = snapshot.owned_sizes(kind)
        open_ = of_kind & w["size"].isna()
        name = ADDON_NAMES[kind]
        if len(owned) == 1:
            put(w, open_, "size", owned[0])
        elif not owned:
            mark(
                w,
                open_,
                Outcome.INVALID,
                str(Code.SIZE_NOT_OWNED),
                f"the account owns no {name} plan",
            )
        else:
            sizes = ", ".join(str(s) for s in owned)
            mark(
                w,
                open_,
                Outcome.INVALID,
                str(Code.SIZE_AMBIGUOUS),
                f"the user holds no {name} and the account owns several sizes "
                f"({sizes}): give the size",
            )
        # an explicit size the account has no plan of
        not_owned = of_kind & pending(w) & w["size"].notna() & ~w["size"].isin(owned)
        owned_text = ", ".join(f"{name} {s}" for s in owned) or "none"

        def unowned(d: Rows, owns: str = owned_text) -> pd.Series:
            return "the account has no " + _size_label(d) + f" plan (it owns: {owns})"

        mark(w, not_owned, Outcome.INVALID, str(Code.SIZE_NOT_OWNED), unowned)

    assign = assign & pending(w)
    put(w, assign, "license", _size_label)
    same = assign & (w["size"] == w["held"]).fillna(False)
    mark(w, same, Outcome.UNCHANGED, "", lambda d: "already holds " + _size_label(d))
    put(w, same, "action", str(Action.NONE))
    grant = assign & pending(w)
    change = grant & w["held"].notna()
    put(w, grant, "take", lambda d: seat_texts(d["kind"], d["size"]))
    put(w, change, "free", lambda d: seat_texts(d["kind"], d["held"]))
    put(w, change, "change", True)
    put(w, change, "action", str(Action.CHANGE))
    put(w, change, "message", lambda d: _held_label(d) + " → " + _size_label(d))
    put(w, grant & ~change, "message", "")
    mark_planned(w, grant)

    # removals: whatever size is held; a named size the user does not hold removes nothing
    not_held = remove & w["held"].isna()
    mark(w, not_held, Outcome.UNCHANGED, "", "not held")
    other = remove & pending(w) & w["size"].notna() & (w["size"] != w["held"]).fillna(False)
    mark(
        w,
        other,
        Outcome.UNCHANGED,
        "",
        lambda d: (
            "the user holds " + _held_label(d) + ", not " + _size_label(d) + ": nothing removed"
        ),
    )
    put(w, not_held | other, "action", str(Action.NONE))
    drop = remove & pending(w)
    put(w, drop, "size", lambda d: d["held"])
    put(w, drop, "license", _held_label)
    put(w, drop, "free", lambda d: seat_texts(d["kind"], d["held"]))
    put(w, drop, "message", "")
    mark_planned(w, drop)


def pairs(keys: pd.Series, kinds: pd.Series) -> pd.Series:
    """`key<sep>kind` texts, to test (user, license kind) membership in one vectorised step."""
    return keys.astype(str) + PAIR_SEP + kinds.astype(str)


def removal_lines(
    users: pd.DataFrame,
    keys: pd.Index,
    rows: pd.Series,
    emails: pd.Series,
    skip: set[str],
    message: pd.Series,
    kinds: tuple[Kind, ...] = ADDONS,
) -> pd.DataFrame:
    """Planned `remove` lines for the add-ons the users `keys` hold (one line per add-on).

    `rows`, `emails` and `message` are indexed by key; `skip` holds `pair(key, kind)` texts
    that another line already removes.
    """
    held = _users_at(users, keys)
    parts = []
    for kind in kinds:
        size = held[kind.value]
        has = size.notna()
        if skip:
            pairs = keys.to_series(index=size.index) + PAIR_SEP + kind.value
            has &= ~isin_texts(pairs, skip)
        sub_keys = keys[has.to_numpy()]
        if not len(sub_keys):
            continue
        sizes = size[has].astype("Int64")
        part = pd.DataFrame(
            {
                "row": rows.reindex(sub_keys).astype("Int64").to_numpy(),
                "email": emails.reindex(sub_keys).astype(str).to_numpy(),
                "key": sub_keys.to_numpy(),
                "kind": kind.value,
                "user_type": "",
                "size": sizes.to_numpy(),
                "action": str(Action.REMOVE),
                "outcome": str(Outcome.PLANNED),
                "code": "",
                "message": message.reindex(sub_keys).astype(str).to_numpy(),
                "u_id": held["u_id"].to_numpy()[has.to_numpy()],
                "u_type": held["u_type"].to_numpy()[has.to_numpy()],
                "held": sizes.to_numpy(),
            }
        )
        part["license"] = f"{ADDON_NAMES[kind]} " + part["size"].astype(str)
        part["previous"] = part["license"]
        part["free"] = seat_texts(part["kind"], part["size"])
        parts.append(part)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def _users_at(users: pd.DataFrame, keys: pd.Index) -> pd.DataFrame:
    """`users.reindex(keys)`, by Arrow positions when every key is a user: reindexing builds a
    hash table of the users' index with a Python string per user (~100 MB for a million
    users), and keeps it as long as the users."""
    at = positions_in(keys.to_series(), users.index)
    if not (at >= 0).all():
        return users.reindex(keys)
    held = users.take(at)
    held.index = keys
    return held

"""The ordered operations a plan sends: per user at most one type change and one settings update.

Phases (what runs first frees what later grants need):

    0  type changes to Basic (Zoom drops the user's add-ons with them), add-on updates that
       only remove, and the removal half of a split add-on update
    1  type changes that grant a base seat (and Licensed <-> On-prem)
    2  add-on updates that grant or change a size, after their user's type change

A size change (Webinar 500 -> 1000) is one atomic settings update in phase 2, so the user never
goes without a webinar license. When a user's removal or size change gives back a seat that
another grant needs (a seat key granted more often than it had free seats before the run) and
the user's update also grants, it is split into `<email>|addons-free` (phase 0: the removals and
the changed add-ons set to none) and `<email>|addons` (phase 2: the grants and new sizes). A
split change's request is carried by both operations: it fails when either fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, overload

import numpy as np
import pandas as pd
import pyarrow as pa

from batch.columns import give_back, text_codes, texts_at
from batch.vocabulary import ADDONS, PAID_TYPES, Action, Kind, Outcome, UserType

from .table import Working

PHASE_FREE = 0
PHASE_BASE = 1
PHASE_ADDONS = 2

Category = Literal["type", "addons"]
TYPE_CATEGORY: Final = "type"
ADDONS_CATEGORY: Final = "addons"
# The removal half of a split add-on update: `<email>|addons-free`.
FREE_SUFFIX: Final = "-free"


def op_id_of(email: str, category: str, *, free_half: bool = False) -> str:
    """The stable id of an operation: `<email>|type`, `<email>|addons` or `<email>|addons-free`.

    The one place the scheme is spelled: the journal matches re-runs by it.

    >>> op_id_of("ann@x.com", "addons", free_half=True)
    'ann@x.com|addons-free'
    """
    return f"{email}|{category}{FREE_SUFFIX if free_half else ''}"


@dataclass(frozen=True, slots=True)
class Operation:
    """One call to Zoom: a user's type change or one settings update with all add-on changes."""

    op_id: str  # stable across re-runs of the same file: see `op_id_of`
    email: str  # lower-case
    user_id: str | None
    category: Category  # type: PATCH /users/{id}; addons: PATCH .../settings
    user_type: UserType | None  # target type (category "type")
    addons: Mapping[Kind, int | None] = field(default_factory=dict)  # None = remove
    phase: int = PHASE_ADDONS
    depends_on: str | None = None  # op_id of the user's type op when the add-ons need it
    requests: tuple[int, ...] = ()  # result lines (request ids) this operation decides


# The operations table: one row per operation, in run order (phase, then file order).
#   email      str    lower-case
#   user_id    str    "" when Zoom gave none (pending users)
#   category   str    "type" or "addons"
#   free_half  bool   the removal half of a split add-on update (`|addons-free`)
#   user_type  str    target UserType value (category "type"), else ""
#   <addon>    Int64  one column per add-on kind: the size to set, 0 to remove, <NA> untouched
#   phase      int8   PHASE_FREE, PHASE_BASE or PHASE_ADDONS
#   depends    bool   waits for the user's `|type` operation
#   request    int64  the first result line (request id) it decides
#   more       object the other request ids, a tuple (mostly the shared empty one)
OPERATION_COLUMNS: Final = (
    "email", "user_id", "category", "free_half", "user_type",
    *(k.value for k in ADDONS), "phase", "depends", "request", "more",
)  # fmt: skip

KINDS = {k.value: k for k in Kind}
TYPES = {t.value: t for t in UserType}


class Operations(Sequence[Operation]):
    """A plan's operations as one table: a Sequence of `Operation` made one at a time.

    A million operations cost a few columns, not a million objects; the applier reads them
    a chunk at a time (`chunks`). Compares equal to a tuple of the same operations.

    >>> ops = plan(requests, results, snapshot).operations
    >>> ops.op_ids().tolist()
    ['bob@example.com|type', 'ann@example.com|addons']
    >>> next(ops.chunks(200))[0].category
    'type'
    """

    __slots__ = ("table",)

    def __init__(self, table: pd.DataFrame | None = None) -> None:
        self.table = _empty() if table is None else table.reset_index(drop=True)

    @classmethod
    def of(cls, operations: Sequence[Operation]) -> Operations:
        """The table of hand-made operations, kept in the given order."""
        return cls(pd.DataFrame([_row(op) for op in operations], columns=list(OPERATION_COLUMNS)))

    def __len__(self) -> int:
        return len(self.table)

    @overload
    def __getitem__(self, index: int) -> Operation: ...
    @overload
    def __getitem__(self, index: slice) -> Operations: ...
    def __getitem__(self, index: int | slice) -> Operation | Operations:
        if isinstance(index, slice):
            return Operations(self.table.iloc[index])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return next(_made(self.table.iloc[index : index + 1]))

    def __iter__(self) -> Iterator[Operation]:
        for chunk in self.chunks(10_000):
            yield from chunk

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Operations | tuple | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a table is not hashable

    def __repr__(self) -> str:
        return f"Operations({len(self)} operations)"

    def chunks(self, size: int) -> Iterator[list[Operation]]:
        """The operations in order, `size` at a time, each chunk made when it is reached."""
        for start in range(0, len(self), size):
            yield list(_made(self.table.iloc[start : start + size]))

    def op_ids(self) -> pd.Series:
        """Every operation's id, vectorised (see `op_id_of`)."""
        t = self.table
        suffix = np.where(t["free_half"].to_numpy(dtype=bool), FREE_SUFFIX, "")
        return t["email"].astype(str) + "|" + t["category"].astype(str) + suffix

    def where(self, mask: pd.Series | np.ndarray[Any, Any]) -> Operations:
        """The operations where `mask` holds, in order."""
        return Operations(self.table[np.asarray(mask, dtype=bool)])


def _empty() -> pd.DataFrame:
    return pd.DataFrame({name: [] for name in OPERATION_COLUMNS})


def _row(op: Operation) -> dict[str, Any]:
    """The table row of one Operation."""
    row: dict[str, Any] = {
        "email": op.email,
        "user_id": op.user_id or "",
        "category": op.category,
        "free_half": op.op_id.endswith(FREE_SUFFIX),
        "user_type": "" if op.user_type is None else op.user_type.value,
        "phase": op.phase,
        "depends": op.depends_on is not None,
        "request": op.requests[0] if op.requests else -1,
        "more": tuple(op.requests[1:]),
    }
    for kind in ADDONS:
        row[kind.value] = (op.addons[kind] or 0) if kind in op.addons else pd.NA
    return row


def _made(table: pd.DataFrame) -> Iterator[Operation]:
    """The Operation objects of some rows of the operations table."""
    sizes = [
        [None if pd.isna(s) else int(s) for s in table[k.value].astype("Int64").tolist()]
        for k in ADDONS
    ]
    columns = [
        table[name].tolist()
        for name in ("email", "user_id", "category", "free_half", "user_type", "phase",
                     "depends", "request", "more")
    ]  # fmt: skip
    for i, (email, uid, category, free_half, user_type, phase, depends, request, more) in enumerate(
        zip(*columns, strict=True)
    ):
        addons = {
            kind: (size or None)
            for kind, size in zip(ADDONS, (s[i] for s in sizes), strict=True)
            if size is not None
        }
        yield Operation(
            op_id_of(email, category, free_half=bool(free_half)),
            email,
            uid or None,
            category,
            TYPES[user_type] if user_type else None,
            addons,
            int(phase),
            op_id_of(email, TYPE_CATEGORY) if depends else None,
            (int(request), *more) if request >= 0 else tuple(more),
        )


class _UserAddons:
    """What one user's add-on lines ask for, collected in file order."""

    __slots__ = ("first", "free_reqs", "frees", "grant_reqs", "grants", "split", "user_id")

    def __init__(self, first: int, user_id: str) -> None:
        self.first = first
        self.user_id = user_id
        self.grants: dict[Kind, int | None] = {}
        self.frees: dict[Kind, int | None] = {}
        self.grant_reqs: list[int] = []
        self.free_reqs: list[int] = []
        self.split = False


_ADDON_USED: Final = ["key", "u_id", "kind", "size", "action", "free", "request"]


def build_operations(lines: Working, needed: set[str]) -> Operations:
    """The operations of the planned lines, ordered by phase, then file order.

    `lines` is the planner's final table in result order (one line per result) with the
    working columns `key`, `u_id`, `u_type`, `free`; `needed` holds the seat keys whose grants
    rely on seats freed by this run. Type changes and users with one add-on line (most of a
    big file) are operations made straight from their line; the others are collected line by
    line. The run order is known before any column is made, so each column is made once, in
    that order, by one take from the lines' own column.
    """
    # users as integers (the planned lines' keys ranked once): which user is made Basic,
    # upgraded or named by several add-on lines is then an array lookup, not a set of texts
    planned = (lines["outcome"] == str(Outcome.PLANNED)).to_numpy(dtype=bool)
    at = np.flatnonzero(planned)
    codes, users = text_codes(pd.Series(lines["key"].array[planned]))
    is_base = (lines["kind"] == Kind.BASE.value).to_numpy(dtype=bool)[at]
    base_at, base_codes = at[is_base], codes[is_base]
    addon_at, addon_codes = at[~is_base], codes[~is_base]
    del planned, at, codes, is_base
    give_back()  # the ranking's memory, before the operations' columns are made
    to_basic = (lines["user_type"] == str(UserType.BASIC)).to_numpy(dtype=bool)[base_at]
    paid = [str(t) for t in PAID_TYPES]
    was_paid = lines["u_type"].isin(paid).to_numpy(dtype=bool)[base_at]
    made_basic = np.zeros(users, dtype=bool)
    made_basic[base_codes[to_basic]] = True
    upgraded = np.zeros(users, dtype=bool)
    upgraded[base_codes[~was_paid]] = True
    request = lines["request"].to_numpy(dtype=np.int64)

    # add-on removals of a user made Basic ride on the type change (Zoom drops them with it)
    carried_mask = made_basic[addon_codes]
    carried: dict[int, list[int]] = {}
    carried_requests = request[addon_at[carried_mask]].tolist()
    for code, req in zip(addon_codes[carried_mask].tolist(), carried_requests, strict=True):
        carried.setdefault(code, []).append(int(req))
    addon_at, addon_codes = addon_at[~carried_mask], addon_codes[~carried_mask]
    carried_more: list[tuple[int, tuple[int, ...]]] = []  # (type change, its more requests)
    if carried:  # only the few users made Basic with add-ons carry more requests
        carries = np.zeros(users, dtype=bool)
        carries[list(carried)] = True
        for i in np.flatnonzero(carries[base_codes]).tolist():
            carried_more.append((i, tuple(carried[int(base_codes[i])])))

    # one line, not a change whose old seat is needed: one operation straight from the line
    lines_of_user = np.bincount(addon_codes, minlength=users)
    change = (lines["action"] == str(Action.CHANGE)).to_numpy(dtype=bool)[addon_at]
    frees_needed = lines["free"].isin(list(needed)).to_numpy(dtype=bool)[addon_at]
    many = (lines_of_user[addon_codes] > 1) | (change & frees_needed)
    single_at = addon_at[~many]
    grants = (lines["action"] != str(Action.REMOVE)).to_numpy(dtype=bool)[single_at]
    sizes = lines["size"].iloc[single_at].astype("Int64").fillna(0).to_numpy(dtype=np.int64)
    several = lines[_ADDON_USED].take(addon_at[many])
    after_upgrade = set(several["key"][upgraded[addon_codes[many]]].tolist())
    rows = _collected(several, needed, after_upgrade)
    depends = grants & upgraded[addon_codes[~many]]
    del several, addon_at, addon_codes, many, change, frees_needed
    if not len(base_at) + len(single_at) + len(rows):
        return Operations()

    # run order: phase, then file order (a stable sort by both, as sort_values would do) of
    # the type changes, the single add-on lines and the collected rows, in that order
    labels = lines.index.to_numpy()
    phase = np.concatenate(
        [
            np.where(to_basic, PHASE_FREE, PHASE_BASE),
            np.where(grants, PHASE_ADDONS, PHASE_FREE),
            np.array([row["phase"] for row in rows], dtype=np.int64),
        ]
    ).astype(np.int8)
    position = np.concatenate(
        [
            labels[base_at],
            labels[single_at],
            np.array([row["position"] for row in rows], dtype=labels.dtype),
        ]
    )
    order = np.lexsort((position, phase))
    del labels, position
    n_type, n_single = len(base_at), len(single_at)
    # a collected row is made of its user's first add-on line: its key and user id are that
    # line's, so every text column is one take from the lines' own column
    firsts = np.array([row["position"] for row in rows], dtype=np.int64)
    source = np.concatenate([base_at, single_at, lines.index.get_indexer(pd.Index(firsts))])[order]
    kind_of = np.concatenate(  # 0: type change, 1: single add-on line, 2: collected row
        [np.zeros(n_type, np.int8), np.ones(n_single, np.int8), np.full(len(rows), 2, np.int8)]
    )[order]
    table: dict[str, Any] = {
        "email": texts_at(lines["key"], source),
        "user_id": texts_at(lines["u_id"], source),
        "category": _categories(kind_of),
        "free_half": np.concatenate(
            [
                np.zeros(n_type + n_single, dtype=bool),
                np.array([r["free_half"] for r in rows], bool),
            ]
        )[order],
        "user_type": texts_at(lines["user_type"], np.where(kind_of == 0, source, -1)),
    }
    for kind in ADDONS:
        data = np.concatenate(
            [
                np.zeros(n_type, dtype=np.int64),
                np.where(grants, sizes, 0),
                np.array([_size_or_zero(r[kind.value]) for r in rows], dtype=np.int64),
            ]
        )
        missing = np.concatenate(
            [
                np.ones(n_type, dtype=bool),
                (lines["kind"] != kind.value).to_numpy(dtype=bool)[single_at],
                np.array([pd.isna(r[kind.value]) for r in rows], dtype=bool),
            ]
        )
        table[kind.value] = pd.arrays.IntegerArray(data[order], missing[order])
    table["phase"] = phase[order]
    table["depends"] = np.concatenate(
        [np.zeros(n_type, dtype=bool), depends, np.array([r["depends"] for r in rows], bool)]
    )[order]
    table["request"] = np.concatenate(
        [
            request[base_at],
            request[single_at],
            np.array([r["request"] for r in rows], dtype=np.int64),
        ]
    )[order]
    # mostly the empty tuple: only the few rows that decide more requests are set one by one
    # (a list of a million, taken in order, costs a Python int per operation)
    where = np.empty_like(order)
    where[order] = np.arange(len(order))
    more_of = np.empty(len(order), dtype=object)
    more_of.fill(())
    for i, requests in carried_more:
        more_of[where[i]] = requests
    for i, row in enumerate(rows, start=n_type + n_single):
        more_of[where[i]] = row["more"]
    table["more"] = more_of
    return Operations(pd.DataFrame(table, copy=False))


def _categories(kind_of: np.ndarray[Any, Any]) -> pd.Series:
    """The category column: "type" for type changes, "addons" for the rest."""
    names = pa.array([TYPE_CATEGORY, ADDONS_CATEGORY, ADDONS_CATEGORY], type=pa.large_string())
    return pd.Series(pd.array(names.take(pa.array(kind_of)), dtype="str"))


def _size_or_zero(size: Any) -> int:
    """A collected row's add-on size, 0 where it leaves the add-on alone (masked)."""
    return 0 if pd.isna(size) else int(size)


def _collected(addon: pd.DataFrame, needed: set[str], upgraded: set[str]) -> list[dict[str, Any]]:
    """Operation rows (with `position`) of users with several add-on lines (or a change to
    split), collected line by line."""
    users: dict[str, _UserAddons] = {}
    columns = _columns(addon, "key", "u_id", "kind", "size", "action", "free", "request")
    for p, key, uid, kind, size, action, free, req in zip(
        addon.index.tolist(), *columns, strict=True
    ):
        user = users.get(key)
        if user is None:
            user = users[key] = _UserAddons(int(p), uid)
        k = KINDS[kind]
        if action == Action.REMOVE:
            user.frees[k] = None
            user.free_reqs.append(int(req))
            user.split = user.split or free in needed
            continue
        user.grants[k] = int(size)
        user.grant_reqs.append(int(req))
        if action == Action.CHANGE and free in needed:
            user.frees[k] = None
            user.free_reqs.append(int(req))
            user.split = True

    rows: list[dict[str, Any]] = []
    for key, user in users.items():
        depends = op_id_of(key, TYPE_CATEGORY) if key in upgraded else None
        uid = user.user_id or None
        if user.split and user.grants:
            free_op = Operation(
                op_id_of(key, ADDONS_CATEGORY, free_half=True),
                key,
                uid,
                "addons",
                None,
                dict(user.frees),
                PHASE_FREE,
                None,
                tuple(user.free_reqs),
            )
            grant_op = Operation(
                op_id_of(key, ADDONS_CATEGORY),
                key,
                uid,
                "addons",
                None,
                dict(user.grants),
                PHASE_ADDONS,
                depends,
                tuple(user.grant_reqs),
            )
            rows += [_row(free_op) | {"position": user.first}]
            rows += [_row(grant_op) | {"position": user.first}]
            continue
        reqs = tuple(sorted(set(user.free_reqs) | set(user.grant_reqs)))
        op = Operation(
            op_id_of(key, ADDONS_CATEGORY),
            key,
            uid,
            "addons",
            None,
            {**user.frees, **user.grants},
            PHASE_ADDONS if user.grants else PHASE_FREE,
            depends if user.grants else None,
            reqs,
        )
        rows.append(_row(op) | {"position": user.first})
    return rows


def _columns(table: pd.DataFrame, *names: str) -> list[list[Any]]:
    """Columns as Python lists: iterating them is far faster than iterating Series."""
    return [table[name].tolist() for name in names]

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

from batch.vocabulary import ADDONS, PAID_TYPES, Action, Kind, Outcome, UserType

from .columns import isin_texts
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


_USED: Final = ["key", "u_id", "u_type", "user_type", "kind", "action", "free", "size", "request"]


def build_operations(lines: Working, needed: set[str]) -> Operations:
    """The operations of the planned lines, ordered by phase, then file order.

    `lines` is the planner's final table in result order (one line per result) with the
    working columns `key`, `u_id`, `u_type`, `free`; `needed` holds the seat keys whose grants
    rely on seats freed by this run. Type changes and users with one add-on line (most of a
    big file) become table rows column by column; the others are collected line by line.
    """
    # only the columns the operations are made of: at 1M lines every copy below is of these
    planned = lines.loc[lines["outcome"] == str(Outcome.PLANNED), _USED]
    is_base = (planned["kind"] == Kind.BASE.value).to_numpy()
    base, addon = planned[is_base], planned[~is_base]
    to_basic = (base["user_type"] == str(UserType.BASIC)).to_numpy()
    upgraded_keys = base.loc[~base["u_type"].isin([str(t) for t in PAID_TYPES]), "key"]
    upgraded = set(upgraded_keys.tolist())

    # add-on removals of a user made Basic ride on the type change (Zoom drops them with it)
    carried_mask = isin_texts(addon["key"], base.loc[to_basic, "key"])
    carried: dict[str, list[int]] = {}
    for key, req in zip(*_columns(addon[carried_mask], "key", "request"), strict=True):
        carried.setdefault(key, []).append(int(req))
    addon = addon[~carried_mask]
    del planned  # base and addon hold what is still needed
    more: list[tuple[int, ...]] = [()] * len(base)
    if carried:  # only the few users made Basic with add-ons carry more requests
        at = np.flatnonzero(isin_texts(base["key"], list(carried)))
        for i, key in zip(at.tolist(), base["key"].iloc[at].tolist(), strict=True):
            more[i] = tuple(carried[key])

    n = len(base)
    type_ops = pd.DataFrame(
        {
            "email": base["key"].array,  # Arrow text stays Arrow: no object per line
            "user_id": base["u_id"].array,
            "category": TYPE_CATEGORY,
            "free_half": np.zeros(n, dtype=bool),
            "user_type": base["user_type"].array,
            **{k.value: _untouched(n) for k in ADDONS},
            "phase": np.where(to_basic, PHASE_FREE, PHASE_BASE).astype(np.int8),
            "depends": np.zeros(n, dtype=bool),
            "request": base["request"].to_numpy(dtype=np.int64),
            "more": more,
            "position": base.index.to_numpy(),
        }
    )

    # one line, not a change whose old seat is needed: one operation straight from the line
    many = addon["key"].duplicated(keep=False) | (
        (addon["action"] == str(Action.CHANGE)) & addon["free"].isin(needed)
    )
    single = addon[~many]
    n = len(single)
    grants = (single["action"] != str(Action.REMOVE)).to_numpy()
    sizes = single["size"].astype("Int64").fillna(0).to_numpy(dtype=np.int64)
    addon_ops = pd.DataFrame(
        {
            "email": single["key"].array,
            "user_id": single["u_id"].array,
            "category": ADDONS_CATEGORY,
            "free_half": np.zeros(n, dtype=bool),
            "user_type": "",
            **{k.value: _sizes_of(single, k, np.where(grants, sizes, 0)) for k in ADDONS},
            "phase": np.where(grants, PHASE_ADDONS, PHASE_FREE).astype(np.int8),
            "depends": grants & isin_texts(single["key"], upgraded_keys),
            "request": single["request"].to_numpy(dtype=np.int64),
            "more": [()] * n,
            "position": single.index.to_numpy(),
        }
    )
    collected = pd.DataFrame(
        _collected(addon[many], needed, upgraded), columns=[*OPERATION_COLUMNS, "position"]
    )
    for kind in ADDONS:  # typed before the concat: a million-line object column is slow
        collected[kind.value] = collected[kind.value].astype("Int64")
    parts = [t for t in (type_ops, addon_ops, collected) if len(t)]
    if not parts:
        return Operations()
    table = pd.concat(parts, ignore_index=True)
    del parts, type_ops, addon_ops, collected
    for kind in ADDONS:
        table[kind.value] = table[kind.value].astype("Int64")
    table = table.astype({"phase": np.int8, "free_half": bool, "depends": bool})
    # run order: phase, then file order (a stable sort by both, as sort_values would do)
    order = np.lexsort((table["position"].to_numpy(), table["phase"].to_numpy()))
    table = table.drop(columns="position")
    if (order == np.arange(len(order))).all():
        return Operations(table)
    return Operations(table.take(order))


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


def _untouched(n: int) -> pd.arrays.IntegerArray:
    """An add-on column of `n` operations that leave the add-on alone (all <NA>)."""
    return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))


def _sizes_of(
    lines: pd.DataFrame, kind: Kind, sizes: np.ndarray[Any, Any]
) -> pd.arrays.IntegerArray:
    """The operations column of one add-on kind: `sizes` on that kind's lines, <NA> elsewhere."""
    data = np.asarray(sizes, dtype=np.int64)
    return pd.arrays.IntegerArray(data, (lines["kind"] != kind.value).to_numpy(dtype=bool))


def _columns(table: pd.DataFrame, *names: str) -> list[list[Any]]:
    """Columns as Python lists: iterating them is far faster than iterating Series."""
    return [table[name].tolist() for name in names]

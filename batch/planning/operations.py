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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from batch.vocabulary import PAID_TYPES, Action, Kind, Outcome, UserType

PHASE_FREE = 0
PHASE_BASE = 1
PHASE_ADDONS = 2


@dataclass(frozen=True)
class Operation:
    """One call to Zoom: a user's type change or one settings update with all add-on changes."""

    op_id: str  # stable across re-runs of the same file: f"{email}|type" or f"{email}|addons"
    email: str  # lower-case
    user_id: str | None
    category: Literal["type", "addons"]  # type: PATCH /users/{id}; addons: PATCH .../settings
    user_type: UserType | None  # target type (category "type")
    addons: Mapping[Kind, int | None] = field(default_factory=dict)  # None = remove
    phase: int = PHASE_ADDONS
    depends_on: str | None = None  # op_id of the user's type op when the add-ons need it
    requests: tuple[int, ...] = ()  # result lines (request ids) this operation decides


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


KINDS = {k.value: k for k in Kind}
TYPES = {t.value: t for t in UserType}


def build_operations(lines: pd.DataFrame, needed: set[str]) -> tuple[Operation, ...]:
    """The operations of the planned lines, ordered by phase, then file order.

    `lines` is the planner's final table in result order (one line per result) with the
    working columns `key`, `u_id`, `u_type`, `free`; `needed` holds the seat keys whose grants
    rely on seats freed by this run. Users with one add-on line (most of a big file) take a
    fast path; the others are collected line by line.
    """
    planned = lines[lines["outcome"] == str(Outcome.PLANNED)]
    is_base = (planned["kind"] == Kind.BASE.value).to_numpy()
    base, addon = planned[is_base], planned[~is_base]
    to_basic = base["user_type"] == str(UserType.BASIC)
    upgraded = set(base.loc[~base["u_type"].isin([str(t) for t in PAID_TYPES]), "key"].tolist())

    # add-on removals of a user made Basic ride on the type change (Zoom drops them with it)
    carried_mask = addon["key"].isin(set(base.loc[to_basic, "key"].tolist()))
    carried: dict[str, list[int]] = {}
    for key, req in zip(*_columns(addon[carried_mask], "key", "request"), strict=True):
        carried.setdefault(key, []).append(int(req))
    addon = addon[~carried_mask]

    ops: list[Operation] = []
    order: list[tuple[int, int]] = []
    for p, key, uid, target, req in zip(
        base.index.tolist(), *_columns(base, "key", "u_id", "user_type", "request"), strict=True
    ):
        phase = PHASE_FREE if target == UserType.BASIC else PHASE_BASE
        reqs = (int(req), *carried.get(key, ()))
        ops.append(
            Operation(f"{key}|type", key, uid or None, "type", TYPES[target], {}, phase, None, reqs)
        )
        order.append((phase, p))

    # one line, not a change whose old seat is needed: one operation straight from the line
    many = addon["key"].duplicated(keep=False) | (
        (addon["action"] == str(Action.CHANGE)) & addon["free"].isin(needed)
    )
    single = addon[~many]
    for p, key, uid, kind, size, action, req in zip(
        single.index.tolist(),
        *_columns(single, "key", "u_id", "kind", "size", "action", "request"),
        strict=True,
    ):
        grants = action != Action.REMOVE
        phase = PHASE_ADDONS if grants else PHASE_FREE
        depends = f"{key}|type" if grants and key in upgraded else None
        ops.append(
            Operation(
                f"{key}|addons",
                key,
                uid or None,
                "addons",
                None,
                {KINDS[kind]: int(size) if grants else None},
                phase,
                depends,
                (int(req),),
            )
        )
        order.append((phase, p))

    for phase, p, op in _collected(addon[many], needed, upgraded):
        ops.append(op)
        order.append((phase, p))

    ranked = sorted(range(len(ops)), key=order.__getitem__)
    return tuple(ops[i] for i in ranked)


def _collected(
    addon: pd.DataFrame, needed: set[str], upgraded: set[str]
) -> list[tuple[int, int, Operation]]:
    """Operations of users with several add-on lines (or a change to split), line by line."""
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

    ops: list[tuple[int, int, Operation]] = []
    for key, user in users.items():
        depends = f"{key}|type" if key in upgraded else None
        uid = user.user_id or None
        if user.split and user.grants:
            free_op = Operation(
                f"{key}|addons-free",
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
                f"{key}|addons",
                key,
                uid,
                "addons",
                None,
                dict(user.grants),
                PHASE_ADDONS,
                depends,
                tuple(user.grant_reqs),
            )
            ops += [(PHASE_FREE, user.first, free_op), (PHASE_ADDONS, user.first, grant_op)]
            continue
        reqs = tuple(sorted(set(user.free_reqs) | set(user.grant_reqs)))
        phase = PHASE_ADDONS if user.grants else PHASE_FREE
        op = Operation(
            f"{key}|addons",
            key,
            uid,
            "addons",
            None,
            {**user.frees, **user.grants},
            phase,
            depends if user.grants else None,
            reqs,
        )
        ops.append((phase, user.first, op))
    return ops


def _columns(table: pd.DataFrame, *names: str) -> list[list[Any]]:
    """Columns as Python lists: iterating them is far faster than iterating Series."""
    return [table[name].tolist() for name in names]

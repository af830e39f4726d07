"""`--mode sync`: the file is the complete desired state of the license kinds it mentions.

A kind is mentioned when any line that passed the file rules has it. Active users of the account
who are not in the file (for the base kind) or have no line of that add-on kind (for add-ons)
lose it: Licensed/On-prem users become Basic (and lose their add-ons with it), add-on holders
lose the add-on. Only users whose add-on settings were read (`addons_known`) count for add-ons;
pending and deactivated users are left alone. `--max-removals` caps what sync may remove per
license label; past it the plan raises `SafetyLimit` before anything is sent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import pandas as pd

from batch.errors import InputError, SafetyLimit
from batch.vocabulary import ADDON_NAMES, ADDONS, Action, Kind, Outcome, UserType

from .account_rules import PAID, pairs, removal_lines
from .seats import BASE_KEY
from .table import Working

SYNC_BASE_MESSAGE = "not in the file (sync): becomes Basic"
SYNC_ADDON_MESSAGE = "removed by sync: no {name} line for this user in the file"
SYNC_DOWNGRADE_MESSAGE = "removed because the user becomes Basic (sync)"


def mentioned_kinds(w: Working) -> set[str]:
    """Kinds (values) of the lines that passed the file rules."""
    return set(w.loc[w["file_valid"], "kind"].unique())


def sync_base_lines(w: Working, users: pd.DataFrame) -> pd.DataFrame:
    """Planned downgrade lines for active Licensed/On-prem users who are not in the file."""
    if Kind.BASE.value not in mentioned_kinds(w):
        return pd.DataFrame()
    eligible = (users["u_status"] == "active") & users["u_type"].isin(PAID)
    out = users.index[eligible.to_numpy()].difference(pd.Index(w["key"].unique()), sort=False)
    if not len(out):
        return pd.DataFrame()
    types = users.loc[out, "u_type"].to_numpy()
    return pd.DataFrame(
        {
            "row": pd.array([pd.NA] * len(out), dtype="Int64"),
            "email": out.to_numpy(),
            "key": out.to_numpy(),
            "license": types,
            "action": str(Action.REMOVE),
            "outcome": str(Outcome.PLANNED),
            "code": "",
            "message": SYNC_BASE_MESSAGE,
            "kind": Kind.BASE.value,
            "user_type": str(UserType.BASIC),
            "size": pd.array([pd.NA] * len(out), dtype="Int64"),
            "previous": types,
            "u_id": users.loc[out, "u_id"].to_numpy(),
            "u_type": types,
            "free": BASE_KEY,
            "sync": True,
        }
    )


def sync_addon_lines(w: Working, users: pd.DataFrame, downgraded: pd.Index) -> pd.DataFrame:
    """Planned removals of mentioned add-ons held by active users with no line of that kind.

    Users in `downgraded` are left out: becoming Basic already removes their add-ons.
    """
    kinds = tuple(k for k in ADDONS if k.value in mentioned_kinds(w))
    if not kinds:
        return pd.DataFrame()
    eligible = (users["u_status"] == "active") & users["u_known"]
    keys = users.index[eligible.to_numpy()].difference(downgraded, sort=False)
    in_file = set(pairs(w["key"], w["kind"]))
    parts = []
    for kind in kinds:
        message = pd.Series(SYNC_ADDON_MESSAGE.format(name=ADDON_NAMES[kind]), index=keys)
        no_rows = pd.Series(pd.NA, index=keys, dtype="Int64")
        part = removal_lines(
            users, keys, no_rows, keys.to_series(), in_file, message, kinds=(kind,)
        )
        parts.append(part)
    found = [p for p in parts if len(p)]
    if not found:
        return pd.DataFrame()
    lines = pd.concat(found, ignore_index=True)
    lines["sync"] = True
    return lines


def parse_max_removals(text: str) -> tuple[float, bool]:
    """`--max-removals`: a count (`25`) or a percentage (`5%`); returns (value, is_percentage)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", text)
    if not match or (not match.group(2) and "." in match.group(1)):
        raise InputError(
            f"--max-removals {text!r}: give a count (25) or a percentage of holders (5%)"
        )
    return float(match.group(1)), bool(match.group(2))


def holders(users: pd.DataFrame, label: str) -> int:
    """How many users of the account hold a license label now."""
    if label in PAID:
        return int((users["u_type"] == label).sum())
    for kind in ADDONS:
        name = ADDON_NAMES[kind]
        if label.startswith(name + " "):
            return int((users[kind.value] == int(label[len(name) + 1 :])).sum())
    return 0


def check_removals(
    removals: Mapping[str, int], users: pd.DataFrame, max_removals: str, override: bool
) -> None:
    """Raise SafetyLimit when sync would remove more of a license label than allowed."""
    value, percent = parse_max_removals(max_removals)
    if override:
        return
    over = []
    for label, count in sorted(removals.items()):
        held = holders(users, label)
        limit = max(math.floor(value * held / 100), 0) if percent else int(value)
        if count > limit:
            share = round(100 * count / held) if held else 100
            over.append(f"{count} of {held} {label} licenses ({share}%)")
    if over:
        shown = f"{value:g}%" if percent else f"{int(value)}"
        raise SafetyLimit(
            f"sync would remove {' and '.join(over)}, more than --max-removals {shown}: "
            "raise --max-removals to go ahead"
        )

"""`plan`: the account rules, the seat arithmetic and the ordered operations, with no I/O.

file-rules results + requests + AccountSnapshot
  -> users, duplicates, base lines (unchanged / onprem-unavailable / planned)
  -> sync downgrades -> base seats (no-seats) -> add-on lines (prerequisite, size)
  -> lines removed by downgrades and sync -> add-on seats (no-seats)
  -> --max-removals (sync) -> operations
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, cast

import numpy as np
import pandas as pd

from batch.columns import give_back, reordered, runs_of, scatter
from batch.model import (
    AccountSnapshot,
    AccountUser,
    SeatKey,
    Seats,
    normalise_emails,
    readable_holders,
)
from batch.vocabulary import ADDONS, Action, Code, Kind, Mode, Outcome, UserType

from .account_rules import (
    PAID,
    VALID,
    Rows,
    addon_rules,
    attach_users,
    base_rules,
    check_users,
    mark,
    pairs,
    removal_lines,
    users_frame,
)
from .duplicates import check_duplicates
from .operations import Operations, build_operations
from .seats import (
    BASE_KEY,
    allocate,
    allocate_with_changes,
    free_before,
    last_given,
    no_seats_message,
    seats_after,
)
from .sync import (
    SYNC_DOWNGRADE_MESSAGE,
    check_removals,
    parse_max_removals,
    sync_addon_lines,
    sync_base_lines,
)
from .table import Working, conform_column, is_conformed

KIND_RANK = {Kind.BASE.value: 0, **{k.value: i + 1 for i, k in enumerate(ADDONS)}}


@dataclass(frozen=True)
class Plan:
    """What a run would do: one result line per result, and the calls that would do it."""

    results: pd.DataFrame  # file results' columns (+ previous); row is Int64 (<NA> for sync lines)
    operations: Operations  # ordered: phase, then file order
    seats_after: dict[SeatKey, Seats]  # projected
    removals: dict[str, int]  # sync removals per license label, for --max-removals
    # per result line (request): the seat it frees and the seat it takes when it runs, as seat
    # texts ("" none); `seat_moves(results, plan.seat_lines)` counts them for the lines changed
    seat_lines: pd.DataFrame  # columns seats.SEAT_LINE_COLUMNS


def addons_needed(requests: pd.DataFrame, users: Mapping[str, AccountUser], mode: Mode) -> set[str]:
    """Lower-case emails whose add-on settings the client must read before planning.

    Users of the file that exist, are not pending (Zoom refuses to read their settings) and are
    Licensed or On-prem (only they hold add-ons); in sync mode every such user of the account,
    since sync may remove the add-ons of users the file does not name.

    >>> addons_needed(loaded.requests, snapshot_users, Mode.APPLY)
    {'ann@example.com'}
    """
    return addons_needed_for(requests, mode)(users)


def addons_needed_for(
    requests: pd.DataFrame, mode: Mode
) -> Callable[[Mapping[str, AccountUser]], set[str]]:
    """`addons_needed` of the file for any users, the file's emails read once: the client asks
    it about every page of users as they are listed (a 100k-line file read its emails again
    for each page: 3 s of a `batch plan`)."""
    emails = frozenset(requests["email"].astype(str).unique()) - {""}

    def needed(users: Mapping[str, AccountUser]) -> set[str]:
        holders = readable_holders(users)
        return holders if mode is Mode.SYNC else holders & emails

    return needed


def plan(
    requests: pd.DataFrame,
    file_results: pd.DataFrame,
    snapshot: AccountSnapshot,
    *,
    mode: Mode = Mode.APPLY,
    all_or_nothing: bool = False,
    max_removals: str = "5%",
    allow_removals_override: bool = False,
) -> Plan:
    """Check the file's lines against the account and plan the operations that apply them.

    `file_results` is what the file rules return (one line per request, outcomes `valid`,
    `invalid` or `skipped`); `requests` gives each request's lower-case email. Lines the file
    rules refused stay as they are; the others become `planned`, `unchanged` or `invalid` with
    an account-rule code. Extra `planned` lines are added for add-ons a downgrade to Basic
    removes and, in sync mode, for what sync removes (row <NA>). Raises `SafetyLimit` when sync
    would remove more than `max_removals` of a license, `InputError` when that option is bad.

    >>> p = plan(loaded.requests, check_file(loaded.requests), snapshot)
    >>> [op.op_id for op in p.operations]
    ['bob@example.com|type', 'ann@example.com|addons']
    """
    parse_max_removals(max_removals)
    columns = [*file_results.columns, *(["previous"] if "previous" not in file_results else [])]
    users = users_frame(snapshot)
    before = free_before(snapshot.seats)
    w = attach_users(_working_table(requests, file_results), users)
    check_users(w)
    check_duplicates(w)
    give_back()
    base_rules(w, snapshot.on_prem_available)
    sync_base = sync_base_lines(w, users) if mode is Mode.SYNC else pd.DataFrame()

    # base seats: downgrades (file and sync) free them, upgrades take them in file order
    base_freed = int((w["free"] == BASE_KEY).sum()) + len(sync_base)
    base_takes = w.loc[w["take"] == BASE_KEY, "take"]
    base_ok = allocate(
        base_takes,
        {BASE_KEY: max(before.get(BASE_KEY, 0) + base_freed, 0)},
        all_or_nothing=all_or_nothing,
    )
    refused = base_takes.index[~base_ok.to_numpy()]
    given = last_given(base_takes, base_ok, w["row"], w["key"])
    _refuse(w, refused, snapshot, {BASE_KEY: base_freed}, given, base=True)

    # the planned type changes: only the columns read of them (a filter of every working
    # column of 800k lines is ~250 MB held to the end of the plan)
    planned_base = w.loc[
        (w["outcome"] == str(Outcome.PLANNED)) & (w["kind"] == Kind.BASE.value),
        ["key", "user_type", "u_type", "row", "email"],
    ]
    # Arrow text, not an object per line: 800k Python strings held through the add-on rules
    type_after = pd.Series(planned_base["user_type"].array, index=pd.Index(planned_base["key"]))
    refused_rows = pd.Series(
        w.loc[refused, "row"].to_numpy(), index=w.loc[refused, "key"], dtype="Int64"
    )
    addon_rules(w, snapshot, type_after, refused_rows)
    give_back()
    del type_after, refused_rows

    extra = _downgrade_lines(w, planned_base, users)
    if len(sync_base):
        keys = pd.Index(sync_base["key"])
        lost = removal_lines(
            users,
            keys,
            pd.Series(pd.NA, index=keys, dtype="Int64"),
            keys.to_series(),
            set(),
            pd.Series(SYNC_DOWNGRADE_MESSAGE, index=keys),
        )
        extra.append(pd.concat([sync_base, lost.assign(sync=True)], ignore_index=True))
    if mode is Mode.SYNC:
        to_basic = planned_base.loc[planned_base["user_type"] == str(UserType.BASIC), "key"]
        downgraded = pd.Index(to_basic).append(pd.Index(sync_base.get("key", [])))
        extra.append(sync_addon_lines(w, users, downgraded))
    del planned_base
    lines = _with_extra_lines(w, [e for e in extra if len(e)])
    del w
    give_back()

    # add-on seats: removals free them first; a size change frees its old seat if granted
    is_grant = (lines["take"] != "") & (lines["take"] != BASE_KEY)
    is_free = (lines["outcome"] == str(Outcome.PLANNED)) & (lines["free"] != "")
    fixed = lines.loc[is_free & ~lines["change"] & (lines["free"] != BASE_KEY), "free"]
    takes = lines.loc[is_grant, "take"]
    addon_ok, addon_freed = allocate_with_changes(
        takes,
        lines.loc[lines["change"], "free"],
        {str(k): int(n) for k, n in fixed.value_counts().items()},
        before,
        all_or_nothing=all_or_nothing,
    )
    given = last_given(takes, addon_ok, lines["row"], lines["key"])
    _refuse(lines, takes.index[~addon_ok.to_numpy()], snapshot, addon_freed, given, base=False)

    granted = pd.concat([base_takes[base_ok.to_numpy()], takes[addon_ok.to_numpy()]])
    granted_counts = {str(k): int(n) for k, n in granted.value_counts().items()}
    freed = {**addon_freed, BASE_KEY: base_freed}
    removals = _sync_removals(lines)
    if mode is Mode.SYNC:
        check_removals(removals, users, max_removals, allow_removals_override)

    needed = {k for k, n in granted_counts.items() if n > max(before.get(k, 0), 0)}
    _prepend_notes(lines)
    give_back()
    operations = build_operations(lines, needed)
    # the working columns no later step reads go before the seat lines and results are made
    lines = lines.drop(columns=[c for c in _WORKING_ONLY if c in lines and c not in columns])
    give_back()
    planned = lines["outcome"] == str(Outcome.PLANNED)
    seat_lines = pd.DataFrame(
        {
            "request": lines["request"].to_numpy(),
            "seat_free": lines["free"].where(planned, "").to_numpy(),
            "seat_take": lines["take"].where(planned, "").to_numpy(),
        }
    )
    # the results share their columns with `lines` (copy on write): no copy of a million lines
    results = lines[columns]
    results["row"] = results["row"].astype("Int64")
    results["size"] = results["size"].astype("Int64")
    projected = seats_after(snapshot.seats, freed, granted_counts)
    return Plan(results, operations, projected, removals, seat_lines)


# working columns read by no step after the operations (the seat lines read take and free)
_WORKING_ONLY: Final = (
    "key", "file_valid", "note", "sync", "u_found", "u_id", "u_type", "u_status", "u_known",
    "held", "change",
)  # fmt: skip


def _prepend_notes(lines: Working) -> None:
    """Start each message with the loader's note of its line, unless it is the note already."""
    note, message = lines["note"], lines["message"]
    if is_conformed("note", note) and is_conformed("message", message):
        # no missing text: set the few noted lines' messages, not a copy of every message
        rows = ((note != "") & (message != note)).to_numpy(dtype=bool)
        if rows.any():
            noted, said = note[rows], message[rows]
            joined = noted + said.where(said == "", "; " + said)
            scatter(lines, np.flatnonzero(rows), "message", joined)
        return
    note = note.fillna("").astype(str)
    message = message.fillna("").astype(str)
    add = (note != "") & (message != note)
    if add.any():  # few lines carry a note: join only theirs (a 1M-line plan has 1M messages)
        noted, said = note[add], message[add]
        message = message.copy()
        message[add] = noted + said.where(said == "", "; " + said)
    lines["message"] = message


def _working_table(requests: pd.DataFrame, file_results: pd.DataFrame) -> pd.DataFrame:
    """The file results in file order with each line's lower-case email as `key`.

    The table shares the columns it leaves as they are with `file_results` (copy on write):
    a deep copy of a million lines is a few hundred MB the plan never needs.
    """
    w = file_results.copy(deep=False)
    if "previous" not in w:
        w["previous"] = ""
    w["row"] = w["row"].astype("Int64")
    w["size"] = w["size"].astype("Int64")
    for column in ("license", "action", "outcome", "code", "message", "previous", "user_type"):
        w[column] = w[column].fillna("").astype(str)
    w["kind"] = w["kind"].fillna("").astype(str)
    w["key"] = _keys(requests, w)
    w["file_valid"] = w["outcome"] == VALID
    # what the loader noted on a valid line ("read as jan@x.nl") starts its final message
    w["note"] = w["message"].where(w["file_valid"], "")
    w["sync"] = False
    if _in_file_order(w["row"], w["request"]):  # the rules' results usually are: no sort
        return w.reset_index(drop=True)
    return w.sort_values(["row", "request"], kind="stable").reset_index(drop=True)


def _keys(requests: pd.DataFrame, w: pd.DataFrame) -> pd.Series:
    """Each line's lower-case email: its request's, else its own email normalised."""
    ids = requests["request"].to_numpy()
    wanted = w["request"].to_numpy()
    if len(ids) == len(wanted) and np.array_equal(ids, wanted):
        at = np.arange(len(wanted))
    else:
        at = pd.Index(ids).get_indexer(wanted)  # raises for repeated ids, as map did
    emails = requests["email"].astype(str)
    keys = emails.iloc[np.where(at >= 0, at, 0)] if len(emails) else emails.reindex(range(len(w)))
    keys = keys.reset_index(drop=True).astype(str)
    keys.index = w.index
    missing = (at < 0) | keys.isna().to_numpy()
    if missing.any():  # lines without a request (or its email): their own email, normalised
        typed = normalise_emails(w.loc[missing, "email"].fillna(""))
        keys[missing] = typed.to_numpy(dtype=object)
    return keys.astype(str)


def _in_file_order(rows: pd.Series, requests: pd.Series) -> bool:
    """Whether the lines are sorted by row, then request already (no row missing)."""
    if rows.isna().any():
        return False
    row = rows.to_numpy(dtype=np.int64)
    request = requests.to_numpy(dtype=np.int64)
    step, next_request = np.diff(row), np.diff(request)
    return bool(((step > 0) | ((step == 0) & (next_request >= 0))).all())


def _refuse(
    w: Working,
    index: pd.Index,
    snapshot: AccountSnapshot,
    freed: Mapping[str, int],
    given: Mapping[str, str],
    *,
    base: bool,
) -> None:
    """Refuse grants for `no-seats`: they take and free nothing; `given` names the last taker."""
    if not len(index):
        return
    mask = pd.Series(False, index=w.index)
    mask[index] = True
    if base:
        text = no_seats_message(
            BASE_KEY, snapshot.seats, freed, label="{}", given=given.get(BASE_KEY)
        )
        parts = text.split("{}")

        def message(d: Rows) -> pd.Series:
            # every "{}" of the text becomes the line's type (str.replace, line by line)
            said = pd.Series(parts[0], index=d.index, dtype="str")
            for part in parts[1:]:
                said = said + d["user_type"] + part
            return said

    else:
        keys = w.loc[mask, "take"].unique()
        texts = {k: no_seats_message(k, snapshot.seats, freed, given=given.get(k)) for k in keys}

        def message(d: Rows) -> pd.Series:
            return d["take"].map(texts).astype(str)

    mark(w, mask, Outcome.INVALID, str(Code.NO_SEATS), message)
    w.loc[mask, ["take", "free"]] = ""
    w.loc[mask, "change"] = False


def _downgrade_lines(
    w: Working, planned_base: pd.DataFrame, users: pd.DataFrame
) -> list[pd.DataFrame]:
    """One planned `remove` line per add-on a user loses by becoming Basic in the file.

    An explicit removal of that add-on in the file is that line; no extra one is made.
    """
    down = planned_base[
        (planned_base["user_type"] == str(UserType.BASIC)) & planned_base["u_type"].isin(PAID)
    ]
    if down.empty:
        return []
    keys = pd.Index(down["key"])
    explicit = w[(w["outcome"] == str(Outcome.PLANNED)) & (w["action"] == str(Action.REMOVE))]
    skip = set(pairs(explicit["key"], explicit["kind"]))
    rows = pd.Series(down["row"].to_numpy(), index=keys)
    message = "removed because the user becomes Basic (row " + rows.astype(str) + ")"
    emails = pd.Series(down["email"].to_numpy(), index=keys)
    return [removal_lines(users, keys, rows, emails, skip, message)]


def _with_extra_lines(w: Working, extra: list[pd.DataFrame]) -> Working:
    """All lines in result order: file lines, each downgrade's lines after its row, sync last.

    Extra lines get request ids after the file's, in a stable order (row or email, then kind),
    so that re-running the same file gives the same ids. Takes `w`'s columns out of it one at
    a time as they are copied: at most one column is held twice, not the whole table.
    """
    if not extra:
        return w
    added = pd.concat(extra, ignore_index=True)
    added["rank"] = added["kind"].map(KIND_RANK)
    added = added.sort_values(["row", "key", "rank"], kind="stable", na_position="last")
    start = int(w["request"].max()) + 1 if len(w) else 0
    added["request"] = range(start, start + len(added))
    added["done_earlier"] = False
    added["file_valid"] = False
    added["change"] = False
    added["take"] = ""
    added["sync"] = added["sync"].fillna(False).astype(bool) if "sync" in added else False
    added = added.drop(columns="rank").reset_index(drop=True)
    # the order sort_values(["row", "request"], stable, <NA> last) gives the appended table
    row = pd.concat([w["row"], added["row"]], ignore_index=True).astype("Int64")
    request = np.concatenate([w["request"].to_numpy(), added["request"].to_numpy()])
    order = np.lexsort((request, row.to_numpy(dtype=np.int64, na_value=0), row.isna().to_numpy()))
    del row, request
    in_order = bool((order == np.arange(len(order))).all())
    runs = runs_of(order)
    names = [*w.columns, *(c for c in added.columns if c not in w.columns)]
    columns: dict[str, pd.Series] = {}
    for name in names:
        # each column as pd.concat([w, added]) makes it (missing cells included), then typed
        here = w[[name]] if name in w.columns else w[[]]
        there = added[[name]] if name in added.columns else added[[]]
        if name in w.columns and is_conformed(name, w[name]):
            # the file lines' column is as conform leaves it: conform the added lines alone
            # (conforming the whole column copies a million values for nothing)
            tail = conform_column(name, pd.concat([here.iloc[:0], there], ignore_index=True)[name])
            column = pd.concat([w[name], tail], ignore_index=True)
        else:
            column = conform_column(name, pd.concat([here, there], ignore_index=True)[name])
        if name in w.columns:
            del w[name]
        columns[name] = column if in_order else reordered(column, order, runs)
    return cast(Working, pd.DataFrame(columns, copy=False))


def _sync_removals(lines: Working) -> dict[str, int]:
    """Per license label, how many licenses sync removes."""
    removed = lines.loc[lines["sync"] & (lines["outcome"] == str(Outcome.PLANNED)), "license"]
    return {str(k): int(n) for k, n in removed.value_counts().sort_index().items()}


__all__ = ["Plan", "addons_needed", "addons_needed_for", "plan"]

"""Account rules: who each line is about, what the user holds, and what the line would change.

Every function works on the planner's working table `w` (one line per result, file order) in
place, on the lines still `valid`; the first rule that refuses a line wins. Columns the planner
adds to the file-rules results: `key` (lower-case email), `u_found`, `u_id`, `u_type`,
`u_status`, `held` (the size the user holds of the line's add-on), `take` (seat key a grant
takes, "" for none), `free` (seat key a removal frees) and `change` (a grant that also frees).
"""

from __future__ import annotations

import pandas as pd

from batch.model import AccountSnapshot
from batch.vocabulary import ADDON_NAMES, ADDONS, PAID_TYPES, Action, Code, Kind, Outcome, UserType

from .seats import BASE_KEY, seat_keys

PAID = [str(t) for t in PAID_TYPES]
PAIR_SEP = "\x1f"
VALID = str(Outcome.VALID)


def users_frame(snapshot: AccountSnapshot) -> pd.DataFrame:
    """The account's users as a table indexed by lower-case email, built once per plan."""
    users = list(snapshot.users.values())
    frame = pd.DataFrame(
        {
            "u_id": [u.id or "" for u in users],
            "u_type": [str(u.type) if u.type is not None else "" for u in users],
            "u_status": [u.status for u in users],
            "u_known": [u.addons_known for u in users],
            **{k.value: pd.array([u.addon(k) for u in users], dtype="Int64") for k in ADDONS},
        },
        index=pd.Index(list(snapshot.users), name="key"),
    )
    return frame


def mark(
    w: pd.DataFrame, mask: pd.Series, outcome: Outcome, code: str, message: str | pd.Series
) -> None:
    """Decide the lines in `mask`: outcome, code and message (a text or a Series on w's index)."""
    if not mask.any():
        return
    w.loc[mask, "outcome"] = str(outcome)
    w.loc[mask, "code"] = code
    w.loc[mask, "message"] = message if isinstance(message, str) else message[mask]


def pending(w: pd.DataFrame) -> pd.Series:
    """Lines no rule has decided yet."""
    return w["outcome"] == VALID


def addon_names(kinds: pd.Series) -> pd.Series:
    """`Webinar` for `webinar`, vectorised."""
    return kinds.map({k.value: n for k, n in ADDON_NAMES.items()}).astype(str)


def addon_labels(kinds: pd.Series, sizes: pd.Series) -> pd.Series:
    """`Webinar 500`, vectorised (the size must be known)."""
    return addon_names(kinds) + " " + sizes.astype("Int64").astype(str)


def attach_users(w: pd.DataFrame, users: pd.DataFrame) -> None:
    """Add the user's id, type, status and the held size of each line's add-on."""
    found = users.reindex(w["key"])
    found.index = w.index
    w["u_found"] = found["u_status"].notna().to_numpy()
    w["u_id"] = found["u_id"].fillna("").astype(str)
    w["u_type"] = found["u_type"].fillna("").astype(str)
    w["u_status"] = found["u_status"].fillna("").astype(str)
    held = pd.Series(pd.NA, index=w.index, dtype="Int64")
    for kind in ADDONS:
        is_kind = w["kind"] == kind.value
        held[is_kind] = found.loc[is_kind, kind.value]
    w["held"] = held
    w["take"] = ""
    w["free"] = ""
    w["change"] = False


def check_users(w: pd.DataFrame) -> None:
    """`user-not-found` and `user-not-active` (the message says pending or deactivated)."""
    todo = pending(w)
    mark(
        w,
        todo & ~w["u_found"],
        Outcome.INVALID,
        str(Code.USER_NOT_FOUND),
        "no user " + w["key"] + " in this account",
    )
    for status, why in (
        ("pending", "the user is pending (invited, not activated yet)"),
        ("inactive", "the user is deactivated"),
    ):
        mark(
            w,
            pending(w) & (w["u_status"] == status),
            Outcome.INVALID,
            str(Code.USER_NOT_ACTIVE),
            why,
        )


def check_duplicates(w: pd.DataFrame) -> None:
    """Two pending lines for one user and license (the file rules normally catch these).

    The first is kept; a later identical one is `skipped` (`duplicate`), a different one
    `invalid` (`conflict`).
    """
    todo = pending(w)
    sub = w.loc[todo, ["key", "kind", "action", "user_type", "size", "row"]]
    later = sub.duplicated(["key", "kind"], keep="first")
    if not later.any():
        return
    first = sub.groupby(["key", "kind"], sort=False).transform("first")
    same = (
        (sub["action"] == first["action"])
        & (sub["user_type"] == first["user_type"])
        & (sub["size"].fillna(-1) == first["size"].fillna(-1))
    )
    text = "same license as row " + first["row"].astype(str)
    dup = pd.Series(False, index=w.index)
    dup[sub.index[later & same]] = True
    mark(w, dup, Outcome.SKIPPED, str(Code.DUPLICATE), text.reindex(w.index, fill_value=""))
    clash = pd.Series(False, index=w.index)
    clash[sub.index[later & ~same]] = True
    mark(
        w,
        clash,
        Outcome.INVALID,
        str(Code.CONFLICT),
        ("contradicts row " + first["row"].astype(str)).reindex(w.index, fill_value=""),
    )


def base_rules(w: pd.DataFrame, on_prem_available: bool) -> None:
    """Base lines: unchanged when already so, `onprem-unavailable`, else a planned type change.

    An upgrade from a type that holds no base seat takes one (`take`); a downgrade of a
    Licensed/On-prem user to Basic frees one (`free`).
    """
    is_base = pending(w) & (w["kind"] == Kind.BASE.value)
    w.loc[is_base, "previous"] = w.loc[is_base, "u_type"]
    # "remove Licensed" makes a Licensed user Basic; it leaves any other user alone
    drop = is_base & (w["action"] == str(Action.REMOVE))
    holds = drop & (w["user_type"] == w["u_type"]) & w["user_type"].isin(PAID)
    mark(
        w,
        drop & ~holds,
        Outcome.UNCHANGED,
        "",
        "the user is " + w["u_type"] + ", not " + w["user_type"],
    )
    w.loc[drop & ~holds, "action"] = str(Action.NONE)
    w.loc[holds, "user_type"] = str(UserType.BASIC)
    w.loc[is_base & ~drop, "action"] = str(Action.ASSIGN)
    same = is_base & (w["user_type"] == w["u_type"])
    mark(w, same, Outcome.UNCHANGED, "", "already " + w["u_type"])
    w.loc[same, "action"] = str(Action.NONE)
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
    w.loc[planned & w["user_type"].isin(PAID) & ~was_paid, "take"] = BASE_KEY
    w.loc[planned & (w["user_type"] == str(UserType.BASIC)) & was_paid, "free"] = BASE_KEY
    w.loc[planned, "message"] = w["u_type"].where(w["u_type"] != "", "?") + " → " + w["user_type"]
    mark_planned(w, planned)


def mark_planned(w: pd.DataFrame, mask: pd.Series) -> None:
    """Planned lines keep the message already set (it says what changes)."""
    w.loc[mask, "outcome"] = str(Outcome.PLANNED)
    w.loc[mask, "code"] = ""


def addon_rules(
    w: pd.DataFrame,
    snapshot: AccountSnapshot,
    type_after: pd.Series,
    refused_upgrade_row: pd.Series,
) -> None:
    """Add-on lines: prerequisite, size resolution, size-not-owned, then assign/change/remove.

    `type_after` maps each user key to their type once the planned base lines run;
    `refused_upgrade_row` maps a key to the row of its base upgrade refused for `no-seats`.
    """
    is_addon = pending(w) & w["kind"].isin([k.value for k in ADDONS])
    assign = is_addon & (w["action"] == str(Action.ASSIGN))
    remove = is_addon & (w["action"] == str(Action.REMOVE))
    names = addon_names(w["kind"].where(is_addon, Kind.WEBINAR.value))
    held_label = addon_labels(w["kind"].where(is_addon, Kind.WEBINAR.value), w["held"].fillna(0))
    w.loc[is_addon, "previous"] = held_label.where(w["held"].notna(), "")[is_addon]

    # prerequisite: the user must be Licensed or On-prem once the file is applied
    after = w["key"].map(type_after).fillna(w["u_type"]).astype(str)
    refused_row = w["key"].map(refused_upgrade_row)
    lacking = assign & ~after.isin(PAID)
    why = names + " needs a Licensed or On-prem user; the user is " + after.where(after != "", "?")
    why = why.where(
        refused_row.isna(),
        names
        + " needs a Licensed or On-prem user, and the upgrade in row "
        + refused_row.astype("Int64").astype(str)
        + " was refused (no-seats)",
    )
    mark(w, lacking, Outcome.INVALID, str(Code.MISSING_PREREQUISITE), why)

    # size resolution for a line without a size: held size, else the only owned size
    assign = assign & pending(w)
    no_size = assign & w["size"].isna()
    w.loc[no_size & w["held"].notna(), "size"] = w.loc[no_size & w["held"].notna(), "held"]
    for kind in ADDONS:
        owned = snapshot.owned_sizes(kind)
        open_ = no_size & w["size"].isna() & (w["kind"] == kind.value)
        if len(owned) == 1:
            w.loc[open_, "size"] = owned[0]
        elif not owned:
            mark(
                w,
                open_,
                Outcome.INVALID,
                str(Code.SIZE_NOT_OWNED),
                f"the account owns no {ADDON_NAMES[kind]} plan",
            )
        else:
            sizes = ", ".join(str(s) for s in owned)
            mark(
                w,
                open_,
                Outcome.INVALID,
                str(Code.SIZE_AMBIGUOUS),
                f"the user holds no {ADDON_NAMES[kind]} and the account owns several sizes "
                f"({sizes}): give the size",
            )
        # an explicit size the account has no plan of
        explicit = assign & pending(w) & (w["kind"] == kind.value) & w["size"].notna()
        not_owned = explicit & ~w["size"].isin(owned)
        owned_text = ", ".join(f"{ADDON_NAMES[kind]} {s}" for s in owned) or "none"
        mark(
            w,
            not_owned,
            Outcome.INVALID,
            str(Code.SIZE_NOT_OWNED),
            "the account has no "
            + addon_labels(w["kind"], w["size"].fillna(0))
            + f" plan (it owns: {owned_text})",
        )

    assign = assign & pending(w)
    label = addon_labels(w["kind"].where(is_addon, Kind.WEBINAR.value), w["size"].fillna(0))
    w.loc[assign, "license"] = label[assign]
    same = assign & (w["size"] == w["held"]).fillna(False)
    mark(w, same, Outcome.UNCHANGED, "", "already holds " + label)
    w.loc[same, "action"] = str(Action.NONE)
    grant = assign & pending(w)
    change = grant & w["held"].notna()
    w.loc[grant, "take"] = seat_keys(w.loc[grant, "kind"], w.loc[grant, "size"])
    w.loc[change, "free"] = seat_keys(w.loc[change, "kind"], w.loc[change, "held"])
    w.loc[change, "change"] = True
    w.loc[change, "action"] = str(Action.CHANGE)
    w.loc[change, "message"] = (held_label + " → " + label)[change]
    w.loc[grant & ~change, "message"] = ""
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
        "the user holds "
        + held_label
        + ", not "
        + addon_labels(w["kind"], w["size"].fillna(0))
        + ": nothing removed",
    )
    w.loc[(not_held | other), "action"] = str(Action.NONE)
    drop = remove & pending(w)
    w.loc[drop, "size"] = w.loc[drop, "held"]
    w.loc[drop, "license"] = held_label[drop]
    w.loc[drop, "free"] = seat_keys(w.loc[drop, "kind"], w.loc[drop, "held"])
    w.loc[drop, "message"] = ""
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
    held = users.reindex(keys)
    parts = []
    for kind in kinds:
        size = held[kind.value]
        has = size.notna()
        if skip:
            pairs = keys.to_series(index=size.index) + PAIR_SEP + kind.value
            has &= ~pairs.isin(skip)
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
                "u_id": held.loc[sub_keys, "u_id"].to_numpy(),
                "u_type": held.loc[sub_keys, "u_type"].to_numpy(),
                "held": sizes.to_numpy(),
            }
        )
        part["license"] = f"{ADDON_NAMES[kind]} " + part["size"].astype(str)
        part["previous"] = part["license"]
        part["free"] = seat_keys(part["kind"], part["size"])
        parts.append(part)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)

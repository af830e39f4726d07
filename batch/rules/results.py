"""Result lines of the file rules: the License label, the outcome and a message an admin can act on.

Messages are built by string arithmetic on columns, only for the refused lines (a small share of
a real file), and each names the value at fault and what to change.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from batch.model import RESULT_COLUMNS, RESULT_INTERNAL_COLUMNS
from batch.vocabulary import (
    ADDON_NAMES,
    ADDON_SIZES,
    ADDONS,
    HEADER_LOOKUP,
    LONG_FIELD,
    Action,
    Code,
    Kind,
    Outcome,
    UserType,
    header_key,
)

_ADDON_NAME: Final = {kind.value: name for kind, name in ADDON_NAMES.items()}
_SIZE_LIST: Final = {
    kind.value: ", ".join(str(size) for size in sizes) for kind, sizes in ADDON_SIZES.items()
}
_ACTIONS: Final = (Action.ASSIGN.value, Action.REMOVE.value)
_SKIPPED_CODES: Final = (Code.DUPLICATE.value,)


def license_labels(table: pd.DataFrame) -> pd.Series:
    """The report's License text per line: `Licensed`, `Webinar 1000`, `Webinar`, or the raw word.

    Mirrors `vocabulary.license_label`, vectorised; a word that was not recognised is shown as
    typed so the admin can find it.
    """
    kind, size = table["kind"], table["size"]
    labels = table["raw"].str.strip()
    base = (kind == Kind.BASE.value) & table["user_type"].isin([t.value for t in UserType])
    labels = labels.mask(base, table["user_type"])
    addon = kind.isin([k.value for k in ADDONS])
    name = kind.map(_ADDON_NAME).astype("str")
    sized = name + " " + size.astype("str")
    labels = labels.mask(addon & size.isna(), name)
    return labels.mask(addon & size.notna(), sized).astype("str")


def _quoted(text: pd.Series) -> pd.Series:
    """Text in single quotes, for a value as the admin typed it."""
    return "'" + text + "'"


def _unknown_license_messages(lines: pd.DataFrame) -> pd.Series:
    """Why a license, user-type or action word was not understood, per line."""
    raw = _quoted(lines["raw"].str.strip())
    message = raw + (
        " is not a license: use Licensed, Basic, On-prem, or Large Meeting, Webinar or"
        " Zoom Events with a size (e.g. Webinar 500)."
    )
    base = lines["kind"] == Kind.BASE.value
    message = message.mask(
        base, raw + " is not a user type: use Basic, Licensed or On-prem (or 1, 2, 3)."
    )
    known = lines["kind"].isin([k.value for k in Kind]) & (
        ~base | lines["user_type"].isin([t.value for t in UserType])
    )
    folded = lines["column"].map(lambda header: HEADER_LOOKUP.get(header_key(header), ""))
    long_layout = folded == LONG_FIELD
    unknown_action = known & ~lines["action"].isin(_ACTIONS)
    message = message.mask(
        unknown_action & long_layout,
        "The action for "
        + lines["label"]
        + " is not recognised: use assign or remove (toewijzen, verwijderen), or leave it"
        " blank to assign.",
    )
    return message.mask(
        unknown_action & ~long_layout,
        raw
        + " in column "
        + lines["column"]
        + " is not understood: write a size, yes to assign, no to remove, or leave it blank.",
    )


def _messages(lines: pd.DataFrame) -> pd.Series:
    """The message of each refused line, from its code, its values and the rule's evidence."""
    code, label, who = lines["code"], lines["label"], lines["email"]
    evidence = lines["evidence"]
    name = lines["kind"].map(_ADDON_NAME).fillna("").astype("str")
    size = lines["size"].astype("str")
    sizes = lines["kind"].map(_SIZE_LIST).fillna("").astype("str")
    base = lines["kind"] == Kind.BASE.value
    by_code = {
        Code.MISSING_EMAIL: "No email address for " + label + ": fill in the user's email.",
        Code.INVALID_EMAIL: _quoted(lines["email_input"].str.strip())
        + " is not a valid email address: write it as name@domain.com, without spaces or"
        " accented or look-alike characters.",
        Code.INVALID_SIZE: name + " size " + size + " does not exist: use one of " + sizes + ".",
        Code.NOT_STACKABLE: name
        + " is asked for "
        + who
        + " with different sizes ("
        + evidence
        + "): licenses of one type do not add up, keep one.",
        Code.CONFLICT: (name + " is both assigned and removed for " + who).mask(
            base, who + " is given different user types"
        )
        + " ("
        + evidence
        + "): keep one.",
        Code.DUPLICATE: "Same as row "
        + evidence
        + " ("
        + label
        + " for "
        + who
        + "): this repeat is skipped.",
        Code.MISSING_PREREQUISITE: label
        + " needs "
        + who
        + " to be Licensed or On-prem, but row "
        + evidence
        + " makes them Basic: make them Licensed or drop this add-on.",
    }
    message = pd.Series("", index=lines.index, dtype="str")
    for rule, text in by_code.items():
        message = message.mask(code == rule.value, text)
    unknown = code == Code.UNKNOWN_LICENSE.value
    if unknown.any():
        message = message.mask(unknown, _unknown_license_messages(lines.loc[unknown]))
    return message


def build_results(table: pd.DataFrame, codes: pd.Series, evidence: pd.Series) -> pd.DataFrame:
    """The results table of the file rules: RESULT_COLUMNS, then RESULT_INTERNAL_COLUMNS.

    `table` is the normalised requests table (RangeIndex); `codes` holds each line's code (""
    when valid) and `evidence` what a cross-row rule found (rows, sizes), both aligned to it.
    """
    labels = license_labels(table)
    action = table["action"].where(table["action"].isin(_ACTIONS), Action.NONE.value)
    outcome = pd.Series(Outcome.VALID.value, index=table.index, dtype="str")
    outcome = outcome.mask(codes != "", Outcome.INVALID.value)
    outcome = outcome.mask(codes.isin(_SKIPPED_CODES), Outcome.SKIPPED.value)
    message = pd.Series("", index=table.index, dtype="str")
    refused = (codes != "").to_numpy()
    if refused.any():
        lines = table.loc[refused].assign(
            code=codes[refused], evidence=evidence[refused], label=labels[refused]
        )
        message.loc[refused] = _messages(lines)
    results = pd.DataFrame(
        {
            "row": table["row"].astype("int64"),
            "email": table["email_input"].str.strip(),
            "license": labels,
            "action": action.astype("str"),
            "outcome": outcome,
            "code": codes.astype("str"),
            "message": message,
            "request": table["request"].astype("int64"),
            "kind": table["kind"],
            "user_type": table["user_type"],
            "size": table["size"].astype("Int64"),
            "done_earlier": False,
            "previous": "",
        }
    )
    results["previous"] = results["previous"].astype("str")
    return results.loc[:, [*RESULT_COLUMNS, *RESULT_INTERNAL_COLUMNS]].reset_index(drop=True)

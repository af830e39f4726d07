"""Result lines of the file rules: the License label, the outcome and a message an admin can act on.

Messages are built by string arithmetic on columns, only for the refused lines (a small share of
a real file), and each names the value at fault and what to change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from batch.model import RESULT_COLUMNS, RESULT_INTERNAL_COLUMNS
from batch.rules.codes import CODE_TEXTS, OUTCOME_TEXTS, VALID, Ranks
from batch.rules.file_rules import Lines
from batch.rules.schema import one_of
from batch.vocabulary import (
    ADDON_NAMES,
    ADDON_SIZES,
    ADDONS,
    HEADER_LOOKUP,
    LONG_FIELD,
    Action,
    Code,
    Kind,
    UserType,
    did_you_mean,
    header_key,
)

_ADDON_NAME: Final = {kind.value: name for kind, name in ADDON_NAMES.items()}
_SIZE_LIST: Final = {
    kind.value: ", ".join(str(size) for size in sizes) for kind, sizes in ADDON_SIZES.items()
}
_ACTIONS: Final = (Action.ASSIGN.value, Action.REMOVE.value, Action.NONE.value)
# Lines' integer codes -> words: kind 0 unknown, 1 base, 2.. add-ons; user type 0 none, 1.. types.
_KIND_NAMES: Final = np.array(["", "", *(ADDON_NAMES[kind] for kind in ADDONS)], dtype=object)
_TYPE_NAMES: Final = np.array(["", *(t.value for t in UserType)], dtype=object)
_BASE_CODE: Final = 1


def license_labels(table: pd.DataFrame, lines: Lines) -> pd.Series:
    """The report's License text per line: `Licensed`, `Webinar 1000`, `Webinar`, or the raw word.

    Mirrors `vocabulary.license_label`, vectorised: the label is made once per distinct
    (kind, user type, size) and spread with a pyarrow take. A word that was not recognised is
    shown as typed (trimmed) so the admin can find it.
    """
    size_codes, sizes = pd.factorize(lines.size)
    combo = (lines.kind * (len(_TYPE_NAMES) + 1) + lines.user_type) * len(sizes) + size_codes
    combo_codes, combos = pd.factorize(combo)
    kind, rest = np.divmod(combos // len(sizes), len(_TYPE_NAMES) + 1)
    size = pd.Series(np.asarray(sizes)[combos % len(sizes)])
    name = pd.Series(_KIND_NAMES[kind], dtype="str")
    unique_labels = name.where(size < 0, name + " " + size.astype("str"))
    unique_labels = unique_labels.where(kind != _BASE_CODE, pd.Series(_TYPE_NAMES[rest]))
    taken = pc.take(pa.array(unique_labels.to_numpy(dtype=object), type=pa.string()), combo_codes)
    labels = pd.Series(taken, index=table.index, dtype="str")
    unknown = (lines.kind == 0) | ((lines.kind == _BASE_CODE) & (lines.user_type == 0))
    if unknown.any():
        labels[unknown] = table.loc[unknown, "raw"].str.strip()
    return labels


def _translated(column: pd.Series, translate: Callable[[str], str]) -> pd.Series:
    """Apply a word-to-text function once per distinct value, not once per line."""
    codes, uniques = pd.factorize(column)
    texts = np.array([translate(str(value)) for value in uniques], dtype=object)
    return pd.Series(texts[codes], index=column.index, dtype="str")


def _quoted(text: pd.Series) -> pd.Series:
    """Text in single quotes, for a value as the admin typed it."""
    return "'" + text + "'"


def _unknown_license_messages(lines: pd.DataFrame) -> pd.Series:
    """Why a license, user-type or action word was not understood, per line."""
    raw = _quoted(lines["raw"].str.strip())
    hint = _translated(
        lines["raw"].str.strip() + "\x1f" + lines["kind"],
        lambda pair: did_you_mean(*pair.split("\x1f", 1)),
    )
    message = raw + (
        " is not a license: use Licensed, Basic, On-prem, or Large Meeting, Webinar or"
        " Zoom Events with a size (e.g. Webinar 500)."
    )
    base = lines["kind"] == Kind.BASE.value
    message = message.mask(
        base, raw + " is not a user type: use Basic, Licensed or On-prem (or 1, 2, 3)."
    )
    message = message + hint
    known = lines["kind"].isin([k.value for k in Kind]) & (
        ~base | lines["user_type"].isin([t.value for t in UserType])
    )
    folded = _translated(lines["column"], lambda header: HEADER_LOOKUP.get(header_key(header), ""))
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
        + " is not understood: write a size, yes to assign, no to remove, or leave it blank."
        + hint,
    )


def _invalid_email_messages(lines: pd.DataFrame) -> pd.Series:
    """What the email cell holds instead of one address, and what to keep."""
    typed = lines["email_input"].str.strip()
    at_signs = typed.str.count("@")
    message = _quoted(typed) + (
        " is not a valid email address: write it as name@domain.com, without spaces or"
        " accented or look-alike characters."
    )
    message = message.mask(
        at_signs == 0,
        _quoted(typed) + " holds no email address: write the user's address (name@domain.com).",
    )
    addresses = typed.str.count(r"[^\s;,<>@\"']+@[^\s;,<>@\"']+")
    return message.mask(
        addresses > 1,
        _quoted(typed) + " holds " + addresses.astype("str") + " addresses: keep one per row.",
    )


def _addon_name(lines: pd.DataFrame) -> pd.Series:
    """The add-on's name (`Webinar`) per line, "" for the base kind."""
    return _translated(lines["kind"], lambda kind: _ADDON_NAME.get(kind, ""))


def _conflict_messages(lines: pd.DataFrame) -> pd.Series:
    """Both contradictory instructions with their rows (the evidence)."""
    who, tail = lines["email"], " (" + lines["evidence"] + "): keep one."
    addon = _addon_name(lines) + " is both assigned and removed for " + who + tail
    return addon.mask(
        lines["kind"] == Kind.BASE.value, who + " is given different user types" + tail
    )


# One message builder per code, each given only the lines that have that code.
_MESSAGES: Final[dict[str, Callable[[pd.DataFrame], pd.Series]]] = {
    Code.MISSING_EMAIL: lambda lines: (
        "No email address for " + lines["label"] + ": fill in the user's email."
    ),
    Code.INVALID_EMAIL: lambda lines: _invalid_email_messages(lines),
    Code.UNKNOWN_LICENSE: lambda lines: _unknown_license_messages(lines),
    Code.INVALID_SIZE: lambda lines: (
        _addon_name(lines)
        + " size "
        + lines["size"].astype("str")
        + " does not exist: use one of "
        + _translated(lines["kind"], lambda kind: _SIZE_LIST.get(kind, ""))
        + "."
    ),
    Code.NOT_STACKABLE: lambda lines: (
        _addon_name(lines)
        + " is asked for "
        + lines["email"]
        + " with different sizes ("
        + lines["evidence"]
        + "): licenses of one type do not add up, keep one."
    ),
    Code.CONFLICT: _conflict_messages,
    Code.DUPLICATE: lambda lines: (
        "Same as row "
        + lines["evidence"]
        + " ("
        + lines["label"]
        + " for "
        + lines["email"]
        + "): this repeat is skipped."
    ),
    Code.MISSING_PREREQUISITE: lambda lines: (
        lines["label"]
        + " needs "
        + lines["email"]
        + " to be Licensed or On-prem, but row "
        + lines["evidence"]
        + " makes them Basic: make them Licensed or drop this add-on."
    ),
}


def _messages(lines: pd.DataFrame) -> pd.Series:
    """The message of each refused line, from its code, its values and the rule's evidence;
    the loader's note goes first, or is the whole message when the loader found the code."""
    message = np.full(len(lines), "", dtype=object)
    for code in lines["code"].unique():
        these = (lines["code"] == code).to_numpy()
        message[these] = _MESSAGES[code](lines.loc[these]).to_numpy(dtype=object)
    text = pd.Series(message, index=lines.index, dtype="str")
    note = lines["note"]
    by_loader = lines["load_code"] == lines["code"]
    text = text.mask((note != "") & ~by_loader, note + "; " + text)
    return text.mask(by_loader & (note != ""), note)


def _by_rank(texts: tuple[str, ...], ranks: Ranks, index: pd.Index) -> pd.Series:
    """A str column holding texts[rank] per line (one take, no per-line strings)."""
    return pd.Series(pc.take(pa.array(texts, pa.string()), ranks), index=index, dtype="str")


def build_results(
    table: pd.DataFrame, lines: Lines, ranks: Ranks, evidence: npt.NDArray[np.object_]
) -> pd.DataFrame:
    """The results table of the file rules: RESULT_COLUMNS, then RESULT_INTERNAL_COLUMNS.

    `table` is the normalised requests table (RangeIndex); `ranks` holds each line's code as
    its rank (codes.RANK, 0 when valid) and `evidence` what a cross-row rule found (rows,
    sizes), both aligned to it.
    """
    labels = license_labels(table, lines)
    action = table["action"].where(one_of(table["action"], _ACTIONS), Action.NONE.value)
    codes = _by_rank(CODE_TEXTS, ranks, table.index)
    message = table["note"].astype("str")
    refused = ranks != VALID
    if refused.any():
        problems = table.loc[refused].assign(
            code=codes[refused], evidence=evidence[refused], label=labels[refused]
        )
        # spread the few messages over all lines with one take: "" is entry 0
        message = message.copy()
        message[refused] = _messages(problems).to_numpy(dtype=object)
    results = pd.DataFrame(
        {
            "row": table["row"].astype("int64"),
            "email": table["email_input"].str.strip(),
            "license": labels,
            "action": action.astype("str"),
            "outcome": _by_rank(OUTCOME_TEXTS, ranks, table.index),
            "code": codes,
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

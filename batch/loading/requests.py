"""Cells to the requests table: one line per user and requested license, column-wise.

Every cell word is read once per distinct value (a file of a million rows has a handful of
distinct license words), then spread back over the rows with integer codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from batch.loading.headers import Header
from batch.model import REQUEST_COLUMNS, REQUEST_NOTE_COLUMNS, normalise_emails
from batch.rules.schema import EMAIL_PATTERN
from batch.vocabulary import (
    ACTION_WORDS,
    ADDON_NAMES,
    ADDONS,
    LEGACY_TYPE_WORDS,
    NO_WORDS,
    NOT_ASKED_WORDS,
    USER_TYPE_WORDS,
    YES_WORDS,
    Action,
    Code,
    Kind,
    addon_word,
    parse_license_word,
    product_size,
    word_key,
)

# What one cell asks for: (kind, user_type, size or None, action, load_code, note); None for a
# blank cell. See batch.model for load_code and note.
Read = tuple[str, str, int | None, str, str, str]
Meaning = Read | None

# Invisible characters that cling to pasted emails; removed wherever they are.
# Cells that may hold an address in a wrapping: `Name <a@b.nl>`, `mailto:`, quotes, a trailing
# `;` or `,` (Outlook's way of pasting addresses).
_WRAPPED_RE: Final = r"[<>;,:\"']"  # a colon for mailto:
_ANGLE_RE: Final = re.compile(r"<([^<>]*)>")
_ONE_EMAIL_RE: Final = re.compile(EMAIL_PATTERN)
_NOT_ASKED_NOTE: Final = (
    "'{cell}' is not a request: nothing changes (write no or remove to take {name} away)"
)


def unwrap_email(text: str) -> str | None:
    """The one address in a pasted form (`"Jansen, Jan" <jan@x.nl>`, `mailto:jan@x.nl;`), or
    None when the cell does not hold exactly one address so wrapped.

    >>> unwrap_email('"Jansen, Jan" <Jan@x.nl>;'), unwrap_email("a@x.nl; b@x.nl")
    ('Jan@x.nl', None)
    """
    inner = " ".join(text.replace("\u00a0", " ").split())
    angled = _ANGLE_RE.findall(inner)
    if len(angled) > 1:
        return None
    if angled:
        inner = angled[0]
    inner = inner.strip().rstrip(";,").strip().strip("\"'").strip()
    if inner.lower().startswith("mailto:"):
        inner = inner[len("mailto:") :].split("?", 1)[0]
    inner = inner.strip().rstrip(";,").strip("\"'").strip()
    return inner if _ONE_EMAIL_RE.fullmatch(inner) else None


def _email_columns(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The compared emails and a note per row where an address was unwrapped (else "")."""
    emails = normalise_emails(cells)
    notes = pd.Series("", index=cells.index, dtype="str")
    wrapped = cells.str.contains(_WRAPPED_RE, regex=True).to_numpy(dtype=bool)
    if wrapped.any():
        some = cells[wrapped]
        codes, uniques = pd.factorize(some, sort=False)
        found = [unwrap_email(str(u)) for u in uniques]
        got = np.array([f is not None for f in found], dtype=bool)[codes]
        address = np.array([(f or "").lower() for f in found], dtype=object)[codes]
        note = np.array([f"read as {f}" if f else "" for f in found], dtype=object)[codes]
        at = np.flatnonzero(wrapped)[got]
        emails.iloc[at] = address[got]
        notes.iloc[at] = note[got]
    return emails, notes


def _read(kind: str, user_type: str = "", size: int | None = None, action: str = "") -> Read:
    return kind, user_type, size, action or Action.ASSIGN.value, "", ""


def _legacy_note(key: str, user_type: str) -> str:
    if key in LEGACY_TYPE_WORDS:
        return f"'{key.capitalize()}' read as {user_type} (Zoom's former name)"
    return ""


def user_type_meaning(text: str) -> Meaning:
    """A wide `user_type` cell: a user type word, or kind base with user_type "" if unknown."""
    key = word_key(text)
    if not key:
        return None
    user_type = USER_TYPE_WORDS.get(key)
    value = user_type.value if user_type else ""
    return Kind.BASE.value, value, None, Action.ASSIGN.value, "", _legacy_note(key, value)


def addon_meaning(kind: Kind) -> Callable[[str], Meaning]:
    """A reader of a wide add-on cell: a size (with the add-on's name or a unit around it), a
    yes-word, a no-word or a not-asked word (FALSE) of that add-on."""
    name = ADDON_NAMES[kind]

    def meaning(text: str) -> Meaning:
        key = word_key(text)
        if not key:
            return None
        if key in NOT_ASKED_WORDS:
            note = _NOT_ASKED_NOTE.format(cell=text.strip(), name=name)
            return kind.value, "", None, Action.NONE.value, "", note
        if key in NO_WORDS:
            return _read(kind.value, action=Action.REMOVE.value)
        if key in YES_WORDS or addon_word(key) is kind:
            return _read(kind.value)
        found = product_size(key)
        if found is None:
            return kind.value, "", None, "", "", ""  # the rules call it unknown-license
        named, size = found
        if named is not None and named is not kind:
            other = ADDON_NAMES[named]
            note = (
                f"'{text.strip()}' names {other} in the {name} column: move it to the {other} "
                f"column, or write only the size"
            )
            return kind.value, "", size, Action.ASSIGN.value, Code.CONFLICT.value, note
        return _read(kind.value, size=size)

    return meaning


def size_meaning(kind: Kind) -> Callable[[str], Meaning]:
    """A reader of an add-on's size column (`webinar_capacity`): 0 or FALSE give no size."""
    read_cell = addon_meaning(kind)

    def meaning(text: str) -> Meaning:
        key = word_key(text)
        if key in ("0", *NOT_ASKED_WORDS):
            note = f"size '{text.strip()}' is not a request: nothing changes"
            return kind.value, "", None, Action.NONE.value, "", note
        read = read_cell(text)
        if (read is not None and read[3] != Action.ASSIGN.value) or (read and read[2] is None):
            return kind.value, "", None, "", "", ""  # only a size belongs here
        return read

    return meaning


def flag_and_size_meaning(kind: Kind) -> Callable[[str], Meaning]:
    """A reader of an add-on column and its size column together (`flag\x1fsize`): one request.

    TRUE and 500 make an assign of 500; a size in both that differ is a conflict.
    """
    flag_of, size_of = addon_meaning(kind), size_meaning(kind)
    name = ADDON_NAMES[kind]

    def meaning(text: str) -> Meaning:
        flag_text, size_text = text.split("\x1f", 1)
        flag, size = flag_of(flag_text), size_of(size_text)
        if flag is None or size is None:
            return flag or size
        if flag[3] in (Action.NONE.value, "") or flag[4] or size[3] == Action.NONE.value:
            return flag  # not asked, unknown, refused already, or no size beside it
        if size[3] == "":
            return size  # not a size: unknown-license
        if flag[2] is not None and flag[2] != size[2]:
            note = f"the {name} column says {flag[2]} and its size column {size[2]}: keep one"
            return kind.value, "", flag[2], Action.ASSIGN.value, Code.CONFLICT.value, note
        return kind.value, "", size[2], flag[3], "", ""

    return meaning


def license_meaning(text: str) -> Meaning:
    """A long-layout `license` cell; unrecognised (or blank) gives kind ""."""
    parsed = parse_license_word(text)
    if parsed is None:
        return "", "", None, Action.ASSIGN.value, "", ""
    kind, user_type, size = parsed
    value = user_type.value if user_type else ""
    note = _legacy_note(word_key(text), value) if user_type else ""
    return kind.value, value, size, Action.ASSIGN.value, "", note


def action_of(text: str) -> str:
    """A long-layout `action` cell: blank is assign, an unknown word is ""."""
    key = word_key(text)
    if not key:
        return Action.ASSIGN.value
    action = ACTION_WORDS.get(key)
    return action.value if action else ""


@dataclass
class _Lines:
    """Requests under construction: row positions and codes into a table of distinct cells."""

    positions: list[np.ndarray] = field(default_factory=list)  # row position of each line
    columns: list[np.ndarray] = field(default_factory=list)  # column position of each line
    codes: list[np.ndarray] = field(default_factory=list)  # index into texts/meanings
    texts: list[str] = field(default_factory=list)  # distinct cell texts, all columns
    meanings: list[Read] = field(default_factory=list)

    def add(self, cells: pd.Series, column: int, read: Callable[[str], Meaning]) -> None:
        """Read a column once per distinct value; its blank cells make no line."""
        codes, uniques = pd.factorize(cells, sort=False)
        texts = [str(u) for u in uniques]
        meanings = [read(t) for t in texts]
        keep = np.array([m is not None for m in meanings], dtype=bool)
        positions = np.flatnonzero(keep[codes])
        self.positions.append(positions)
        self.columns.append(np.full(len(positions), column, dtype=np.int64))
        self.codes.append(codes[positions] + len(self.texts))
        self.texts += [_shown(t) for t in texts]
        self.meanings += [m if m is not None else ("", "", None, "", "", "") for m in meanings]

    def table(self, cells: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
        """The lines in row, then column order, as REQUEST_COLUMNS."""
        positions = np.concatenate(self.positions)
        columns = np.concatenate(self.columns)
        order = np.lexsort((columns, positions))
        positions, columns = positions[order], columns[order]
        codes = np.concatenate(self.codes)[order]

        def spread(values: list[str]) -> Any:
            return pd.array(values, dtype="str").take(codes)

        return pd.DataFrame(
            {
                "request": np.arange(len(positions), dtype=np.int64),
                "row": cells.index.to_numpy(dtype=np.int64)[positions],
                "position": positions,
                "column": pd.array(list(names), dtype="str").take(columns),
                "raw": spread(self.texts),
                "kind": spread([m[0] for m in self.meanings]),
                "user_type": spread([m[1] for m in self.meanings]),
                "size": pd.array([m[2] for m in self.meanings], dtype="Int64").take(codes),
                "action": spread([m[3] for m in self.meanings]),
                "load_code": spread([m[4] for m in self.meanings]),
                "note": spread([m[5] for m in self.meanings]),
            }
        )


def _shown(text: str) -> str:
    """A cell as the line's `raw` text; an add-on and its size column read together as `x / 500`."""
    if "\x1f" not in text:
        return text
    flag, size = text.split("\x1f", 1)
    return f"{flag} / {size}" if flag.strip() and size.strip() else (flag + size)


def build_requests(cells: pd.DataFrame, header: Header) -> pd.DataFrame:
    """The requests table (REQUEST_COLUMNS, then REQUEST_NOTE_COLUMNS) of data rows indexed by
    Excel row.

    Wide: a line per non-blank `user_type` or add-on cell (an add-on column and its size column
    together make one), in row then column order. Long: a line per row (blank rows are gone
    already), kind "" when the license word is unknown.
    """
    fields = header.fields
    lines = _Lines()
    if header.layout == "wide":
        if "user_type" in fields:
            lines.add(cells[fields["user_type"]], fields["user_type"], user_type_meaning)
        for kind in ADDONS:
            flag, size = fields.get(kind.value), fields.get(f"{kind.value}_size")
            if flag is not None and size is not None:
                both = cells[flag] + "\x1f" + cells[size]
                lines.add(both, flag, flag_and_size_meaning(kind))
            elif flag is not None:
                lines.add(cells[flag], flag, addon_meaning(kind))
            elif size is not None:
                lines.add(cells[size], size, size_meaning(kind))
    else:
        lines.add(cells[fields["license"]], fields["license"], license_meaning)
    table = lines.table(cells, header.names)
    positions = table.pop("position").to_numpy()
    if header.layout == "long" and "action" in fields:
        table["action"] = _map_each(cells[fields["action"]], action_of).take(positions).array
    email_input = cells[fields["email"]]
    emails, email_notes = _email_columns(email_input)
    table["email_input"] = email_input.take(positions).array
    table["email"] = emails.take(positions).array
    email_notes = email_notes.take(positions).array
    if (email_notes != "").any():
        note = table["note"].to_numpy(dtype=object)
        extra = np.asarray(email_notes, dtype=object)
        both = (note != "") & (extra != "")
        note = np.where(both, extra + "; " + note, np.where(extra != "", extra, note))
        table["note"] = pd.array(note.astype(str), dtype="str")
    return table.loc[:, [*REQUEST_COLUMNS, *REQUEST_NOTE_COLUMNS]]


def _map_each(cells: pd.Series, read: Callable[[str], str]) -> pd.Series:
    """Map every cell through `read`, evaluated once per distinct value."""
    codes, uniques = pd.factorize(cells, sort=False)
    values = pd.array([read(str(u)) for u in uniques], dtype="str")
    return pd.Series(values.take(codes), index=cells.index)

"""Cells to the requests table: one line per user and requested license, column-wise.

Every cell word is read once per distinct value (a file of a million rows has a handful of
distinct license words), then spread back over the rows with integer codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from batch.loading.headers import Header
from batch.model import REQUEST_COLUMNS
from batch.vocabulary import (
    ACTION_WORDS,
    ADDONS,
    NO_WORDS,
    USER_TYPE_WORDS,
    YES_WORDS,
    Action,
    Kind,
    parse_license_word,
    parse_size,
    word_key,
)

# What one cell asks for: (kind, user_type, size or None, action); None for a blank cell.
Meaning = tuple[str, str, int | None, str] | None

# Invisible characters that cling to pasted emails; removed wherever they are.
_INVISIBLE_RE: Final = "[\u200b\u200c\u200d\u2060\ufeff]"


def normalise_emails(cells: pd.Series) -> pd.Series:
    """Emails as compared: invisible characters removed, trimmed (NBSP too), lower-cased."""
    if not cells.str.isascii().all():  # the regex pass only when a cell can need it
        cells = cells.str.replace(_INVISIBLE_RE, "", regex=True).str.replace("\u00a0", " ")
    return cells.str.strip().str.lower()


def user_type_meaning(text: str) -> Meaning:
    """A wide `user_type` cell: a user type word, or kind base with user_type "" if unknown."""
    key = word_key(text)
    if not key:
        return None
    user_type = USER_TYPE_WORDS.get(key)
    return Kind.BASE.value, user_type.value if user_type else "", None, Action.ASSIGN.value


def addon_meaning(kind: Kind) -> Callable[[str], Meaning]:
    """A reader of a wide add-on cell: a size, a yes-word or a no-word of that add-on."""

    def meaning(text: str) -> Meaning:
        key = word_key(text)
        if not key:
            return None
        if key in NO_WORDS:
            return kind.value, "", None, Action.REMOVE.value
        if key in YES_WORDS:
            return kind.value, "", None, Action.ASSIGN.value
        size = parse_size(key)
        if size is not None:
            return kind.value, "", size, Action.ASSIGN.value
        return kind.value, "", None, ""  # the rules call it unknown-license

    return meaning


def license_meaning(text: str) -> Meaning:
    """A long-layout `license` cell; unrecognised (or blank) gives kind ""."""
    parsed = parse_license_word(text)
    if parsed is None:
        return "", "", None, Action.ASSIGN.value
    kind, user_type, size = parsed
    return kind.value, user_type.value if user_type else "", size, Action.ASSIGN.value


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
    meanings: list[tuple[str, str, int | None, str]] = field(default_factory=list)

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
        self.texts += texts
        self.meanings += [m if m is not None else ("", "", None, "") for m in meanings]

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
            }
        )


def build_requests(cells: pd.DataFrame, header: Header) -> pd.DataFrame:
    """The requests table (batch.model.REQUEST_COLUMNS) of data rows indexed by Excel row.

    Wide: a line per non-blank `user_type` or add-on cell, in row then column order.
    Long: a line per row (blank rows are gone already), kind "" when the license word is unknown.
    """
    fields = header.fields
    lines = _Lines()
    if header.layout == "wide":
        readers: list[tuple[int, Callable[[str], Meaning]]] = []
        if "user_type" in fields:
            readers.append((fields["user_type"], user_type_meaning))
        readers += [(fields[k.value], addon_meaning(k)) for k in ADDONS if k.value in fields]
        for position, read in readers:
            lines.add(cells[position], position, read)
    else:
        lines.add(cells[fields["license"]], fields["license"], license_meaning)
    table = lines.table(cells, header.names)
    positions = table.pop("position").to_numpy()
    if header.layout == "long" and "action" in fields:
        table["action"] = _map_each(cells[fields["action"]], action_of).take(positions).array
    email_input = cells[fields["email"]]
    table["email_input"] = email_input.take(positions).array
    table["email"] = normalise_emails(email_input).take(positions).array
    return table.loc[:, list(REQUEST_COLUMNS)]


def _map_each(cells: pd.Series, read: Callable[[str], str]) -> pd.Series:
    """Map every cell through `read`, evaluated once per distinct value."""
    codes, uniques = pd.factorize(cells, sort=False)
    values = pd.array([read(str(u)) for u in uniques], dtype="str")
    return pd.Series(values.take(codes), index=cells.index)

"""Header rows: alias matching, unique column names, and the layout (wide or long) they imply."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from batch.errors import FileRefused
from batch.vocabulary import (
    LONG_FIELD,
    SIZE_FIELDS,
    WIDE_FIELDS,
    header_field,
    header_key,
    is_bare_size,
    near_field,
)

# Fields that make requests: two columns meaning one of these is ambiguous, so the file is refused.
REQUEST_FIELDS: Final = ("email", *WIDE_FIELDS, *SIZE_FIELDS, LONG_FIELD, "action")
# A header text worth checking for a near miss (not a JSON or HTML fragment, not a sentence).
_HEADER_LIKE: Final = re.compile(r"[\w .,:;'&#*/()\[\]+-]{1,60}")
# How far down the header may be: the first this many non-empty rows are searched.
HEADER_SEARCH_ROWS: Final = 20

NO_EMAIL: Final = "no email column: expected a header such as Email or E-mailadres"
NO_LICENSE: Final = (
    "no license columns: expected User type, Large Meeting, Webinar or Zoom Events "
    "(one row per user) or License (one row per user and license)"
)


@dataclass(frozen=True)
class Header:
    """What a header row means: unique names, field positions, layout and carried columns."""

    names: tuple[str, ...]  # one per column, unique ("Dept", "Dept (2)", "Column F" if blank)
    letters: tuple[str, ...]  # each column's letter in Excel (empty columns are left out)
    fields: dict[str, int]  # canonical field -> column position (first column of that meaning)
    extra: tuple[int, ...]  # positions of columns carried through untouched, in file order
    layout: Literal["wide", "long"]


def column_letter(position: int) -> str:
    """Excel's letter for a 0-based column position: 0 -> A, 26 -> AA."""
    letters = ""
    n = position + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def field_of(text: str) -> str | None:
    """The canonical field a header text means, or None for a column we do not know."""
    return header_field(text)


def is_recognisable(texts: Sequence[str]) -> bool:
    """True when a row can be our header: an email alias and at least one license field."""
    found = {field_of(t) for t in texts}
    return "email" in found and bool(found & {*WIDE_FIELDS, *SIZE_FIELDS, LONG_FIELD})


def header_row(rows: Sequence[Sequence[str]]) -> int:
    """Which of the first non-empty rows (HEADER_SEARCH_ROWS of them) is the header.

    The first recognisable one (an email column and a license column); failing that, the first
    that names any known column, so the refusal names what is missing there; else the first.
    """
    head = rows[:HEADER_SEARCH_ROWS]
    for test in (is_recognisable, lambda texts: any(map(field_of, texts))):
        found = next((i for i, texts in enumerate(head) if test(texts)), None)
        if found is not None:
            return found
    return 0


def unique_names(texts: Sequence[str], letters: Sequence[str]) -> tuple[str, ...]:
    """Header texts made unique and non-blank, as the source table's column names."""
    names: list[str] = []
    seen: set[str] = set()
    for text, letter in zip(texts, letters, strict=True):
        base = text.strip() or f"Column {letter}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base} ({n})"
        seen.add(name)
        names.append(name)
    return tuple(names)


def read_header(
    file_name: str,
    texts: Sequence[str],
    letters: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> Header:
    """Match a header row against the aliases; refuse a file whose columns cannot be used.

    `letters` are the columns' Excel letters (default A, B, C...); `ignore` lists headers to
    carry through whatever they look like ([intake] ignore_columns). Raises FileRefused when a
    column is close to one we know but not it (`Webniar`), when there is no email column, no
    license column, both layouts at once, or two columns that mean the same request field.
    """
    letters = tuple(letters) or tuple(column_letter(i) for i in range(len(texts)))
    names = unique_names(texts, letters)
    ignored = {header_key(name) for name in ignore}
    fields: dict[str, int] = {}
    extra: list[int] = []
    for position, text in enumerate(texts):
        field = None if header_key(text) in ignored else _field_at(texts, position)
        if field is None and header_key(text) not in ignored:
            _refuse_near_miss(file_name, text, letters[position])
        if field is None or field in fields:
            if field in REQUEST_FIELDS:
                first = fields[field]
                raise FileRefused(
                    file_name,
                    f"two columns mean {field.replace('_', ' ')}: '{names[first]}' "
                    f"(column {letters[first]}) and '{names[position]}' "
                    f"(column {letters[position]}); keep one",
                )
            extra.append(position)
        else:
            fields[field] = position
    if "email" not in fields:
        raise FileRefused(file_name, NO_EMAIL)
    wide = [names[fields[f]] for f in (*WIDE_FIELDS, *SIZE_FIELDS) if f in fields]
    if LONG_FIELD in fields and wide:
        listed = ", ".join(f"'{w}'" for w in wide)
        raise FileRefused(
            file_name,
            f"mixes the long layout (license column '{names[fields[LONG_FIELD]]}') with wide "
            f"columns ({listed}): use either one License column or User type/add-on columns",
        )
    if LONG_FIELD not in fields and not wide:
        raise FileRefused(file_name, NO_LICENSE)
    layout: Literal["wide", "long"] = "long" if LONG_FIELD in fields else "wide"
    return Header(names, letters, fields, tuple(extra), layout)


def _field_at(texts: Sequence[str], position: int) -> str | None:
    """A column's field; a bare `Capacity`/`Size` right after an add-on column is its size."""
    text = texts[position]
    field = field_of(text)
    if field is None and is_bare_size(text) and position > 0:
        before = field_of(texts[position - 1])
        if f"{before}_size" in SIZE_FIELDS:
            return f"{before}_size"
    return field


def _refuse_near_miss(file_name: str, text: str, letter: str) -> None:
    """Refuse a column we do not know that looks like one we do: its cells would be lost."""
    shown = " ".join(text.split())
    if is_bare_size(text):
        raise FileRefused(
            file_name,
            f"column {letter} '{shown}' does not say whose size it is: put it right after its "
            "add-on column or name it after the add-on (Webinar capacity)",
        )
    near = near_field(text) if _HEADER_LIKE.fullmatch(shown) else None
    if near is None:
        return
    raise FileRefused(
        file_name,
        f"column {letter} '{shown}' is not a column we know: did you mean {near}? Rename it, "
        "or add it to [intake] ignore_columns to carry it through unread",
    )

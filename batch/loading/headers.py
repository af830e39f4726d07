"""Header rows: alias matching, unique column names, and the layout (wide or long) they imply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from batch.errors import FileRefused
from batch.vocabulary import HEADER_LOOKUP, LONG_FIELD, WIDE_FIELDS, header_key

# Fields that make requests: two columns meaning one of these is ambiguous, so the file is refused.
REQUEST_FIELDS: Final = ("email", *WIDE_FIELDS, LONG_FIELD, "action")

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
    return HEADER_LOOKUP.get(header_key(text))


def is_recognisable(texts: Sequence[str]) -> bool:
    """True when a row can be our header: an email alias and at least one license field."""
    found = {field_of(t) for t in texts}
    return "email" in found and bool(found & {*WIDE_FIELDS, LONG_FIELD})


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


def read_header(file_name: str, texts: Sequence[str], letters: Sequence[str] = ()) -> Header:
    """Match a header row against the aliases; refuse a file whose columns cannot be used.

    `letters` are the columns' Excel letters (default A, B, C...). Raises FileRefused when
    there is no email column, no license column, both layouts at once, or two columns that mean
    the same request field.
    """
    letters = tuple(letters) or tuple(column_letter(i) for i in range(len(texts)))
    names = unique_names(texts, letters)
    fields: dict[str, int] = {}
    extra: list[int] = []
    for position, text in enumerate(texts):
        field = field_of(text)
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
    wide = [names[fields[f]] for f in WIDE_FIELDS if f in fields]
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

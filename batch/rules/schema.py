"""The per-value file rules as a pandera schema: each line judged on its own values.

    missing-email    the email cell is blank
    invalid-email    not a plausible address (ASCII only, one @, a dotted domain, no spaces)
    unknown-license  a license, user-type or action word that was not recognised
    invalid-size     an add-on size that is not a known size of that add-on

Every check is vectorised (one boolean Series per check) and the schema runs with lazy=True,
so every failure of every line is collected in one pass; `value_ranks` turns pandera's
failure cases into one code per line, the first in the order of README's "Rules and outcomes".
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
import pandera.pandas as pa

from batch.rules.codes import FILE_CODES, RANK, Ranks
from batch.vocabulary import ADDON_SIZES, Action, Code, Kind, UserType

# Plausible, not RFC 5322: ASCII atoms around one @, a domain of dotted labels ending in a
# letter-led label. Anything else (spaces, look-alike or invisible characters) is refused.
_ATOM: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_TOP: Final = r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL_PATTERN: Final = rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+{_TOP}"

_KINDS: Final = tuple(k.value for k in Kind)
_USER_TYPES: Final = tuple(t.value for t in UserType)
_ACTIONS: Final = (Action.ASSIGN.value, Action.REMOVE.value, Action.NONE.value)

# The columns the per-value rules read; only these go through pandera (see `value_ranks`).
VALUE_COLUMNS: Final = ("email", "kind", "user_type", "size", "action")

# The per-value codes (the first four of codes.FILE_CODES: a line failing several gets the first).
VALUE_CODES: Final = FILE_CODES[:4]


def _has_email(email: pd.Series) -> pd.Series:
    """True where the email cell is not blank."""
    return email != ""


def _plausible_email(email: pd.Series) -> pd.Series:
    """True where the email looks like an address (blank ones are missing-email's business)."""
    matches = email.str.fullmatch(EMAIL_PATTERN).fillna(False).astype(bool)
    return (email == "") | matches


def one_of(column: pd.Series, words: tuple[str, ...]) -> pd.Series:
    """True where the column holds one of a few words (equality beats isin on arrow strings)."""
    found = pd.Series(False, index=column.index)
    for word in words:
        found |= column == word
    return found


def _known_license(values: pd.DataFrame) -> pd.Series:
    """True where kind, the base kind's user type and the action were all recognised."""
    kind = values["kind"]
    base_ok = (kind != Kind.BASE.value) | one_of(values["user_type"], _USER_TYPES)
    return one_of(kind, _KINDS) & base_ok & one_of(values["action"], _ACTIONS)


def _known_size(values: pd.DataFrame) -> pd.Series:
    """True unless an add-on line names a size that add-on does not come in.

    A line whose words were not recognised may fail here too: unknown-license comes first.
    """
    kind, size = values["kind"], values["size"].fillna(0).to_numpy(dtype="int64")
    unknown = np.zeros(len(values), dtype=bool)
    for addon, sizes in ADDON_SIZES.items():
        unknown |= (kind == addon.value).to_numpy(dtype=bool) & ~np.isin(size, (0, *sizes))
    return pd.Series(~unknown, index=values.index)


REQUEST_SCHEMA: Final = pa.DataFrameSchema(
    columns={
        "email": pa.Column(
            checks=[
                pa.Check(_has_email, name=Code.MISSING_EMAIL.value),
                pa.Check(_plausible_email, name=Code.INVALID_EMAIL.value),
            ],
        ),
        "kind": pa.Column(),
        "user_type": pa.Column(),
        "size": pa.Column(nullable=True),
        "action": pa.Column(),
    },
    checks=[
        pa.Check(_known_license, name=Code.UNKNOWN_LICENSE.value),
        pa.Check(_known_size, name=Code.INVALID_SIZE.value),
    ],
    name="requests",
)

# pandera's check name -> our code.
CHECK_CODES: Final[dict[str, Code]] = {code.value: code for code in VALUE_CODES}


def value_ranks(requests: pd.DataFrame) -> Ranks:
    """The rank (codes.RANK) of every line's first per-value code; 0 when the line passes.

    `requests` must have a RangeIndex (positions): pandera reports failures by index label.

    >>> value_ranks(pd.DataFrame({"email": ["", "a@b.co"], "kind": ["base", "webinar"],
    ...     "user_type": ["Basic", ""], "size": pd.array([None, 750], dtype="Int64"),
    ...     "action": ["assign", "assign"]})).tolist()  # missing-email, invalid-size
    [1, 4]
    """
    ranks = np.zeros(len(requests), dtype=np.int8)
    try:
        REQUEST_SCHEMA.validate(requests.loc[:, list(VALUE_COLUMNS)], lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        known = cases["check"].isin(list(CHECK_CODES)) & cases["index"].notna()
        if not known.all():  # a schema-level problem (missing column, ...) is a bug, not a row
            raise
        found = pd.DataFrame(
            {
                "index": cases["index"].to_numpy(dtype=np.int64),
                "rank": cases["check"].map(RANK).to_numpy(dtype=np.int8),
            }
        )
        first = found.sort_values("rank", kind="stable").drop_duplicates("index")
        ranks[first["index"].to_numpy()] = first["rank"].to_numpy()
    return ranks

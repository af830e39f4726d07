"""The per-value file rules as a pandera schema: each line judged on its own values.

    missing-email    the email cell is blank
    invalid-email    not a plausible address (ASCII only, one @, a dotted domain, no spaces)
    unknown-license  a license, user-type or action word that was not recognised
    invalid-size     an add-on size that is not a known size of that add-on

Every check is vectorised (one boolean Series per check) and the schema runs with lazy=True,
so every failure of every line is collected in one pass; `value_codes` turns pandera's
failure cases into one code per line, the first in PRODUCT.md's order.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
import pandera.pandas as pa

from batch.vocabulary import ADDON_SIZES, Action, Code, Kind, UserType

# Plausible, not RFC 5322: ASCII atoms around one @, a domain of dotted labels ending in a
# letter-led label. Anything else (spaces, look-alike or invisible characters) is refused.
_ATOM: Final = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
EMAIL_PATTERN: Final = rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]*[a-z0-9])?"

_KINDS: Final = tuple(k.value for k in Kind)
_USER_TYPES: Final = tuple(t.value for t in UserType)
_ACTIONS: Final = (Action.ASSIGN.value, Action.REMOVE.value)

# The columns the per-value rules read; only these go through pandera (see `value_codes`).
VALUE_COLUMNS: Final = ("email", "kind", "user_type", "size", "action")

# Per-value codes in precedence order: a line failing several gets the first.
VALUE_CODES: Final = (
    Code.MISSING_EMAIL,
    Code.INVALID_EMAIL,
    Code.UNKNOWN_LICENSE,
    Code.INVALID_SIZE,
)


def _has_email(email: pd.Series) -> pd.Series:
    """True where the email cell is not blank."""
    return email != ""


def _plausible_email(email: pd.Series) -> pd.Series:
    """True where the email looks like an address (blank ones are missing-email's business)."""
    matches = email.str.fullmatch(EMAIL_PATTERN, case=False).fillna(False).astype(bool)
    return (email == "") | matches


def known_license(values: pd.DataFrame) -> pd.Series:
    """True where kind, the base kind's user type and the action were all recognised."""
    kind = values["kind"]
    base_ok = (kind != Kind.BASE.value) | values["user_type"].isin(_USER_TYPES)
    return kind.isin(_KINDS) & base_ok & values["action"].isin(_ACTIONS)


def _known_size(values: pd.DataFrame) -> pd.Series:
    """True unless an add-on line names a size that add-on does not come in."""
    kind, size = values["kind"], values["size"]
    unknown = pd.Series(False, index=values.index)
    for addon, sizes in ADDON_SIZES.items():
        unknown |= (kind == addon.value) & size.notna() & ~size.isin(sizes)
    return ~(unknown & known_license(values)).astype(bool)


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
        pa.Check(known_license, name=Code.UNKNOWN_LICENSE.value),
        pa.Check(_known_size, name=Code.INVALID_SIZE.value),
    ],
    name="requests",
)

# pandera's check name -> our code, and each code's rank in the precedence.
CHECK_CODES: Final[dict[str, Code]] = {code.value: code for code in VALUE_CODES}
_RANK: Final[dict[str, int]] = {code.value: rank for rank, code in enumerate(VALUE_CODES)}


def value_codes(requests: pd.DataFrame) -> pd.Series:
    """The first per-value code of every line ("" when it passes), indexed like `requests`.

    `requests` must have a RangeIndex (positions): pandera reports failures by index label.

    >>> value_codes(pd.DataFrame({"email": ["", "a@b.co"], "kind": ["base", "webinar"],
    ...     "user_type": ["Basic", ""], "size": pd.array([None, 750], dtype="Int64"),
    ...     "action": ["assign", "assign"]})).tolist()
    ['missing-email', 'invalid-size']
    """
    codes = np.full(len(requests), "", dtype=object)
    try:
        REQUEST_SCHEMA.validate(requests.loc[:, list(VALUE_COLUMNS)], lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        known = cases["check"].isin(list(CHECK_CODES)) & cases["index"].notna()
        unexpected = cases.loc[~known, "check"].unique().tolist()
        if unexpected:  # a schema-level problem (missing column, ...) is a bug, not a row
            raise
        found = pd.DataFrame(
            {
                "index": cases.loc[known, "index"].astype("int64"),
                "rank": cases.loc[known, "check"].map(_RANK).astype("int64"),
            }
        )
        first = found.sort_values("rank", kind="stable").drop_duplicates("index")
        codes[first["index"].to_numpy()] = first["rank"].map(dict(enumerate(_RANK))).to_numpy()
    return pd.Series(codes, index=requests.index, dtype="str")

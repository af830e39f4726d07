"""The file rules (README, "Rules and outcomes"): requests table in, results table out.

    check_file(requests) -> results
        per-value rules (schema.py, pandera)   missing-email, invalid-email, unknown-license,
                                               invalid-size
        cross-row rules (file_rules.py)        not-stackable, conflict, duplicate,
                                               missing-prerequisite
        result lines (results.py)              labels, outcomes, messages

Pure and vectorised: no account, no I/O, no loop over rows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from batch.model import REQUEST_COLUMNS, REQUEST_NOTE_COLUMNS
from batch.rules.codes import RANK, VALID, Ranks
from batch.rules.file_rules import Lines, conflict, duplicate, missing_prerequisite, not_stackable
from batch.rules.results import build_results
from batch.rules.schema import value_ranks
from batch.vocabulary import Action, Code

__all__ = ["check_file"]

_TEXT_COLUMNS = (
    "email", "email_input", "column", "raw", "kind", "user_type", "action", *REQUEST_NOTE_COLUMNS,
)  # fmt: skip

# The cross-row rules that judge every line passing the per-value rules, in precedence order.
_CROSS_ROW_RULES = (
    (Code.NOT_STACKABLE, not_stackable),
    (Code.CONFLICT, conflict),
    (Code.DUPLICATE, duplicate),
)


def _normalised(requests: pd.DataFrame) -> pd.DataFrame:
    """The requests in request order with a positional index and the model's dtypes."""
    missing = [column for column in REQUEST_COLUMNS if column not in requests.columns]
    if missing:
        raise ValueError(f"requests table lacks columns {missing}")
    table = requests.loc[:, list(REQUEST_COLUMNS)].assign(
        **{c: requests.get(c, "") for c in REQUEST_NOTE_COLUMNS}
    )
    if not table["request"].is_monotonic_increasing:
        table = table.sort_values("request", kind="stable")
    table = table.reset_index(drop=True)
    text = {column: table[column].fillna("").astype("str") for column in _TEXT_COLUMNS}
    return table.assign(
        **text,
        request=table["request"].astype("int64"),
        row=table["row"].astype("int64"),
        size=table["size"].astype("Int64"),
    )


def check_file(requests: pd.DataFrame) -> pd.DataFrame:
    """Judge every request against the file rules; one result line per request, in order.

    Each line gets the first code that applies, in this order: missing-email, invalid-email,
    unknown-license, invalid-size, then, among the lines that passed those, not-stackable,
    conflict, duplicate (`skipped`, the first line is kept) and missing-prerequisite. Valid lines
    have outcome `valid` and an empty code and message.

    >>> from batch.model import REQUEST_COLUMNS
    >>> requests = pd.DataFrame(
    ...     [(0, 2, "ann@example.com", "Ann@example.com", "Webinar", "750", "webinar", "",
    ...       750, "assign")], columns=list(REQUEST_COLUMNS)).astype({"size": "Int64"})
    >>> check_file(requests).loc[0, ["license", "outcome", "code"]].tolist()
    ['Webinar 750', 'invalid', 'invalid-size']
    """
    table = _normalised(requests)
    ranks = value_ranks(table)
    evidence = np.full(len(table), "", dtype=object)
    _record_load_codes(table, ranks)
    lines = Lines.of(table)
    # a not-asked line (FALSE) changes nothing: it cannot clash with, repeat or need anything
    asks = (table["action"] != Action.NONE.value).to_numpy(dtype=bool)
    eligible = (ranks == VALID) & asks
    for code, rule in _CROSS_ROW_RULES:
        _record(ranks, evidence, code, rule(lines, eligible))
    applied = (ranks == VALID) & asks
    _record(ranks, evidence, Code.MISSING_PREREQUISITE, missing_prerequisite(lines, applied))
    return build_results(table, lines, ranks, evidence)


def _record_load_codes(table: pd.DataFrame, ranks: Ranks) -> None:
    """Codes the loader found (a product name in another add-on's column) on valid lines."""
    found = (table["load_code"] != "").to_numpy(dtype=bool) & (ranks == VALID)
    for code in pd.unique(table.loc[found, "load_code"]):
        these = found & (table["load_code"] == code).to_numpy(dtype=bool)
        ranks[these] = RANK[str(code)]


def _record(ranks: Ranks, evidence: npt.NDArray[np.object_], code: Code, hits: pd.Series) -> None:
    """Give a rule's hits its code and evidence, on the lines no earlier rule refused."""
    positions = hits.index.to_numpy(dtype=np.int64)
    fresh = ranks[positions] == VALID
    ranks[positions[fresh]] = RANK[code]
    evidence[positions[fresh]] = hits.to_numpy(dtype=object)[fresh]

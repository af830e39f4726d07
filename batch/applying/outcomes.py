"""Pure helpers: turn operation answers into result lines, and mark lines done by earlier runs.

An operation decides one or more result lines (`Operation.requests`); its answer becomes their
outcome. Nothing here talks to Zoom or the journal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final

import pandas as pd

from batch.journal import OpState
from batch.model import normalise_emails
from batch.planning import Operation, Operations
from batch.planning.operations import ADDONS_CATEGORY, FREE_SUFFIX, TYPE_CATEGORY, op_id_of
from batch.vocabulary import Kind, Outcome, UserType

Answer = tuple[OpState, str | None, str | None]  # (state, code, message), as the journal keeps it

# The outcome of a line whose operation got this answer; other states leave the line `planned`.
_OUTCOME_OF_STATE: Final[dict[str, Outcome]] = {
    "applied": Outcome.APPLIED,
    "skipped": Outcome.SKIPPED,
    "failed": Outcome.FAILED,
}


def op_id_for(email: str, kind: str) -> str:
    """The stable id of the operation that decides a line: `<email>|type` or `<email>|addons`.

    It depends only on the line, not on any plan, so an `unchanged` line (no operation in this
    run's plan) can still be matched with what an earlier run applied.

    >>> op_id_for("ann@x.com", "webinar")
    'ann@x.com|addons'
    """
    return op_id_of(email, TYPE_CATEGORY if kind == Kind.BASE.value else ADDONS_CATEGORY)


def dependency_message(operation: Operation, row: int | None) -> str:
    """Why an add-on operation was not attempted: its user's base license change failed."""
    where = f" on row {row}" if row is not None else ""
    user_type = operation.user_type
    verb = "downgrade" if user_type is UserType.BASIC else "upgrade"
    what = f"the {user_type} {verb}" if user_type is not None else "the user type change"
    return f"not attempted: {what}{where} failed"


def rows_by_request(results: pd.DataFrame) -> dict[int, int | None]:
    """The Excel row of each request id (None for lines with no row, such as sync removals)."""
    rows = results.drop_duplicates("request")
    return {
        int(request): None if pd.isna(row) else int(row)
        for request, row in zip(rows["request"], rows["row"], strict=True)
    }


def apply_answers(
    results: pd.DataFrame,
    operations: Iterable[Operation],
    answers: Mapping[str, Answer],
) -> pd.DataFrame:
    """A copy of `results` where each planned line takes the outcome of its operation's answer.

    `applied` lines keep the planner's message; `failed` and `skipped` lines take the answer's
    code and message. Lines of operations with no final answer (never sent, or sent and
    unanswered because the run stopped) stay `planned`. Lines that were not `planned`
    (unchanged, invalid, ...) are never touched.
    """
    out = results.copy()
    if isinstance(operations, Operations):  # only the answered ones become objects
        operations = operations.where(operations.op_ids().isin(list(answers)))
    ranks = list(_OUTCOME_OF_STATE)
    # request id -> (rank, outcome, code, message); failed beats skipped beats applied
    decided: dict[int, tuple[int, Outcome, str, str]] = {}
    for op in operations:
        answer = answers.get(op.op_id)
        if answer is None or answer[0] not in _OUTCOME_OF_STATE:
            continue
        state, code, message = answer
        found = (ranks.index(state), _OUTCOME_OF_STATE[state], code or "", message or "")
        for request in op.requests:
            if request not in decided or found[0] > decided[request][0]:
                decided[request] = found
    if not decided:
        return out
    lines = (out["outcome"] == Outcome.PLANNED.value) & out["request"].isin(list(decided))
    chosen = [decided[int(r)] for r in out.loc[lines, "request"]]
    out.loc[lines, "outcome"] = [c[1].value for c in chosen]
    problem = pd.Series([c[1] is not Outcome.APPLIED for c in chosen], index=out.index[lines])
    problem_lines = problem.index[problem]
    out.loc[problem_lines, "code"] = [c[2] for c in chosen if c[1] is not Outcome.APPLIED]
    out.loc[problem_lines, "message"] = [c[3] for c in chosen if c[1] is not Outcome.APPLIED]
    return out


def done_earlier_message(run_id: int, started: datetime) -> str:
    """The message of a line an earlier run applied."""
    return f"done by an earlier run (run {run_id}, started {started:%Y-%m-%d %H:%M} UTC)"


def mark_done_earlier(
    results: pd.DataFrame, applied_earlier: Mapping[str, tuple[int, datetime]]
) -> pd.DataFrame:
    """A copy of `results` whose `unchanged` lines that an earlier run applied say so.

    `applied_earlier` is `Journal.applied_earlier(sha256)`: {op_id: (run_id, started)}. A line
    is matched through `op_id_for(email, kind)` (or its `-free` half for add-on lines), so this
    works when this run plans nothing.
    Such lines get `done_earlier=True` and the message "done by an earlier run (run 3, started
    2026-11-27 22:58 UTC)"; their outcome stays `unchanged`.

    >>> mark_done_earlier(results, journal.applied_earlier(loaded.sha256))  # doctest: +SKIP
    """
    out = results.copy()
    if "done_earlier" not in out.columns:
        out["done_earlier"] = False
    if not applied_earlier or out.empty:
        return out
    emails = normalise_emails(out["email"].astype(str))  # the results show emails as typed
    op_ids = [op_id_for(e, str(k)) for e, k in zip(emails, out["kind"], strict=True)]
    # a removal may have been sent as the separate seat-freeing half of a split update
    earlier = [
        applied_earlier.get(op_id) or applied_earlier.get(op_id + FREE_SUFFIX) for op_id in op_ids
    ]
    unchanged = out["outcome"] == Outcome.UNCHANGED.value
    lines = unchanged & pd.Series([e is not None for e in earlier], index=out.index)
    if not lines.any():
        return out
    out["done_earlier"] = out["done_earlier"].astype(bool)
    out.loc[lines, "done_earlier"] = True
    out.loc[lines, "message"] = [
        done_earlier_message(*found)
        for found, hit in zip(earlier, lines, strict=True)
        if hit and found is not None
    ]
    return out

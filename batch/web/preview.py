"""A preview: the plan `batch plan` made of an upload, kept for the preview page and the apply.

    plan_difference(saved, fresh)       what an apply would now do differently (a saved plan)
    seat_rows(preview)                  seats before -> after per license and size (and cost)
    lines_page(results, query)          one filtered, sorted page of result lines, problems first

The plan is the pipeline's own (batch.pipeline.plan_file, see runs.py); nothing here decides a
line's outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from batch.model import SeatKey, Seats
from batch.planning import Operation, Plan
from batch.vocabulary import PROBLEM_OUTCOMES, Kind, license_label

PAGE_SIZE: Final = 50
SORTABLE: Final = ("row", "email", "license", "action", "outcome", "code")
FILTERS: Final = ("outcome", "action", "license", "code")


@dataclass(frozen=True)
class Preview:
    """A planned file as the preview page shows it and the apply compares with: the plan (its
    result lines, changes and seats after) and the account's seats before."""

    plan: Plan
    seats_before: Mapping[SeatKey, Seats]


def describe(op: Operation) -> str:
    """One operation in words: `ann@example.com: type Licensed` / `add-ons webinar 500`."""
    if op.category == "type":
        return f"{op.email}: type {op.user_type}"
    parts = [
        f"{kind} {size if size is not None else 'removed'}" for kind, size in op.addons.items()
    ]
    return f"{op.email}: add-ons {', '.join(parts)}"


def plan_difference(saved: Plan, fresh: Plan) -> list[str]:
    """What the fresh plan does that the saved one did not (+) and no longer does (-)."""
    old = {describe(op) for op in saved.operations}
    new = {describe(op) for op in fresh.operations}
    return [f"- {text}" for text in sorted(old - new)] + [f"+ {text}" for text in sorted(new - old)]


def total_removals(the_plan: Plan) -> int:
    """Sync removals in the plan: the number an admin must type to apply them."""
    return sum(the_plan.removals.values())


def _seat_label(key: SeatKey) -> str:
    kind, size = key
    return "Licensed" if kind is Kind.BASE else license_label(kind, size=size)


def seat_rows(
    before: Mapping[SeatKey, Seats],
    after: Mapping[SeatKey, Seats],
    prices: Mapping[str, float],
) -> list[dict[str, Any]]:
    """Per license and size: used/purchased before and after, and the monthly cost change."""
    rows = []
    for key in sorted(set(before) | set(after), key=lambda k: (list(Kind).index(k[0]), k[1] or 0)):
        was, now = before.get(key), after.get(key)
        label = _seat_label(key)
        change = (now.used if now else 0) - (was.used if was else 0)
        price = prices.get(label)
        rows.append(
            {
                "label": label,
                "before": f"{was.used} / {was.purchased}" if was else "-",
                "after": f"{now.used} / {now.purchased}" if now else "-",
                "change": change,
                "cost": None if price is None else round(change * price, 2),
                "over": bool(now and now.used > now.purchased),
            }
        )
    return rows


@dataclass(frozen=True)
class LineQuery:
    """The table's filters, sort and page, as the page's query string gives them."""

    outcome: str = ""
    action: str = ""
    license: str = ""
    code: str = ""
    email: str = ""
    sort: str = ""
    page: int = 1


def filter_choices(results: pd.DataFrame) -> dict[str, list[str]]:
    """The values each filter offers: those present in the results."""
    return {name: sorted(v for v in results[name].astype(str).unique() if v) for name in FILTERS}


def lines_page(results: pd.DataFrame, query: LineQuery) -> tuple[list[dict[str, Any]], int, int]:
    """One page of lines (problems first unless sorted), the lines matched and the page count."""
    table = results
    mask = pd.Series(True, index=table.index)
    for name in FILTERS:
        wanted = getattr(query, name)
        if wanted:
            mask &= table[name].astype(str) == wanted
    if query.email:
        mask &= table["email"].astype(str).str.contains(query.email.strip().lower(), regex=False)
    table = table[mask]
    if query.sort in SORTABLE:
        table = table.sort_values(query.sort, kind="stable", na_position="first")
    else:
        problem = ~table["outcome"].astype(str).isin([str(o) for o in PROBLEM_OUTCOMES])
        table = table.assign(_later=problem).sort_values("_later", kind="stable")
    matched = len(table)
    pages = max(1, -(-matched // PAGE_SIZE))
    page = min(max(query.page, 1), pages)
    shown = table.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows = [
        {
            "row": _row_number(line.row),
            "email": line.email,
            "license": line.license,
            "action": line.action,
            "outcome": line.outcome,
            "code": line.code,
            "message": line.message,
            "problem": line.outcome in {str(o) for o in PROBLEM_OUTCOMES},
        }
        for line in shown.itertuples(index=False)
    ]
    return rows, matched, pages


def problems(results: pd.DataFrame, limit: int = 200) -> Sequence[dict[str, Any]]:
    """The problem lines (invalid, failed, skipped), first `limit`."""
    table = results[results["outcome"].astype(str).isin([str(o) for o in PROBLEM_OUTCOMES])]
    return [
        {
            "row": _row_number(r.row),
            "email": r.email,
            "license": r.license,
            "outcome": r.outcome,
            "code": r.code,
            "message": r.message,
        }
        for r in table.head(limit).itertuples(index=False)
    ]


def _row_number(value: Any) -> int | str:
    """The Excel row, or "" for a line with none (a sync removal)."""
    return "" if pd.isna(value) else int(value)

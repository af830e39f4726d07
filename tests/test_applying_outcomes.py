"""The apply step's pure helpers: answers to result lines, and lines done by earlier runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
import pytest

from batch.applying import apply_answers, mark_done_earlier, op_id_for
from batch.applying.outcomes import Answer
from batch.vocabulary import Kind, UserType


@dataclass(frozen=True)
class Op:
    """A stand-in for batch.planning.Operation with the fields the helpers read."""

    op_id: str
    category: str
    requests: tuple[int, ...]
    user_type: UserType | None = None
    addons: Mapping[Kind, int | None] = field(default_factory=dict)


def _results(*lines: tuple[int, str, str, str, str]) -> pd.DataFrame:
    """A results table: (row, email, kind, outcome, message) per line, request = position."""
    return pd.DataFrame(
        {
            "row": [line[0] for line in lines],
            "email": [line[1] for line in lines],
            "license": ["x"] * len(lines),
            "action": ["assign"] * len(lines),
            "outcome": [line[3] for line in lines],
            "code": [""] * len(lines),
            "message": [line[4] for line in lines],
            "request": list(range(len(lines))),
            "kind": [line[2] for line in lines],
            "done_earlier": [False] * len(lines),
        }
    )


BASE = _results(
    (2, "ann@x.com", "base", "planned", "Basic -> Licensed"),
    (2, "ann@x.com", "webinar", "planned", "assign Webinar 500"),
    (3, "bob@x.com", "base", "unchanged", "already Licensed"),
    (4, "cy@x.com", "webinar", "invalid", "no free seat"),
)
TYPE_OP = Op("ann@x.com|type", "type", (0,), UserType.LICENSED)
ADDONS_OP = Op("ann@x.com|addons", "addons", (1,))


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {
                "ann@x.com|type": ("applied", None, None),
                "ann@x.com|addons": ("applied", None, None),
            },
            [("applied", "", "Basic -> Licensed"), ("applied", "", "assign Webinar 500")],
        ),
        (
            {
                "ann@x.com|type": ("failed", "api-error", "Zoom refused: 3412 no seat"),
                "ann@x.com|addons": ("skipped", "dependency-failed", "not attempted: ..."),
            },
            [
                ("failed", "api-error", "Zoom refused: 3412 no seat"),
                ("skipped", "dependency-failed", "not attempted: ..."),
            ],
        ),
        (
            {"ann@x.com|type": ("applied", None, None), "ann@x.com|addons": ("sent", None, None)},
            [("applied", "", "Basic -> Licensed"), ("planned", "", "assign Webinar 500")],
        ),
        (
            {"ann@x.com|addons": ("failed", "timeout", "no answer from Zoom after the retries")},
            [
                ("planned", "", "Basic -> Licensed"),
                ("failed", "timeout", "no answer from Zoom after the retries"),
            ],
        ),
    ],
    ids=["both-applied", "failed-and-dependent-skipped", "unanswered-stays-planned", "timeout"],
)
def test_apply_answers_sets_outcomes_of_planned_lines_only(
    answers: dict[str, Answer], expected: list[tuple[str, str, str]]
) -> None:
    """Planned lines take their op's answer; unchanged and invalid lines are left as they were."""
    out = apply_answers(BASE, [TYPE_OP, ADDONS_OP], answers)
    lines = list(out[["outcome", "code", "message"]].itertuples(index=False, name=None))
    assert lines == [
        *expected,
        ("unchanged", "", "already Licensed"),
        ("invalid", "", "no free seat"),
    ]
    assert BASE["outcome"].tolist()[:2] == ["planned", "planned"]  # the input is not modified


def test_apply_answers_follows_a_downgrade_to_its_removal_lines() -> None:
    """The add-on removal lines of a Basic downgrade (same request) follow the type op."""
    results = _results(
        (5, "dan@x.com", "base", "planned", "Licensed -> Basic"),
        (5, "dan@x.com", "webinar", "planned", "removed with the downgrade"),
    )
    results["request"] = [0, 0]
    out = apply_answers(results, [Op("dan@x.com|type", "type", (0,))], {
        "dan@x.com|type": ("failed", "api-error", "Zoom refused: 300 upcoming events"),
    })  # fmt: skip
    assert out["outcome"].tolist() == ["failed", "failed"]


@pytest.mark.parametrize(
    ("email", "kind", "expected"),
    [("ann@x.com", "base", "ann@x.com|type"), ("ann@x.com", "zoom_events", "ann@x.com|addons")],
    ids=["base-line", "addon-line"],
)
def test_op_id_for(email: str, kind: str, expected: str) -> None:
    """A line's op id depends only on its email and kind."""
    assert op_id_for(email, kind) == expected


def test_mark_done_earlier_marks_unchanged_lines_an_earlier_run_applied() -> None:
    """Unchanged lines whose op (or its seat-freeing half) an earlier run applied say so."""
    results = _results(
        (2, " Ann@X.com", "base", "unchanged", "already Licensed"),
        (2, "ann@x.com\u00a0", "webinar", "unchanged", "already Webinar 500"),
        (3, "bob@x.com", "webinar", "unchanged", "already Webinar 500"),
        (4, "cy@x.com", "base", "planned", "Basic -> Licensed"),
        (5, "dan@x.com", "webinar", "unchanged", "already without Webinar"),
    )
    earlier = {
        "dan@x.com|addons-free": (2, datetime(2026, 11, 27, 9, 0, tzinfo=UTC)),
        "ann@x.com|type": (3, datetime(2026, 11, 27, 22, 58, 41, tzinfo=UTC)),
        "ann@x.com|addons": (4, datetime(2026, 11, 28, 1, 2, tzinfo=UTC)),
        "cy@x.com|type": (4, datetime(2026, 11, 28, 1, 2, tzinfo=UTC)),
    }
    out = mark_done_earlier(results, earlier)
    assert list(out[["outcome", "done_earlier", "message"]].itertuples(index=False, name=None)) == [
        ("unchanged", True, "done by an earlier run (run 3, started 2026-11-27 22:58 UTC)"),
        ("unchanged", True, "done by an earlier run (run 4, started 2026-11-28 01:02 UTC)"),
        ("unchanged", False, "already Webinar 500"),
        ("planned", False, "Basic -> Licensed"),
        ("unchanged", True, "done by an earlier run (run 2, started 2026-11-27 09:00 UTC)"),
    ]


def test_mark_done_earlier_adds_the_column_when_missing() -> None:
    """A results table without done_earlier gets it, all False, when nothing was done earlier."""
    results = BASE.drop(columns=["done_earlier"])
    assert mark_done_earlier(results, {})["done_earlier"].tolist() == [False] * 4

"""Two lines of a file for one user and license kind that the file rules let through (typed
emails that differ only in case or spacing): the planner keeps the first and skips a later
identical one (`duplicate`) or refuses a different one (`conflict`), naming the first's row.

The property test holds the planner to a plain reading of that rule, written out below."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.planning import plan
from batch.planning.testing import account, file_tables, user
from batch.vocabulary import UserType, parse_license_word

# one user typed three ways: the same key
TYPED = ["ann@example.com", "ANN@example.com", " Ann@Example.com"]
WORDS = ["Licensed", "Basic", "Webinar 500", "Webinar 1000", "Webinar", "Large Meeting 500",
         "Large Meeting", "Zoom Events 500"]  # fmt: skip


def expected(lines: list[tuple[int, str, str, str]]) -> dict[int, tuple[str, str, str]]:
    """Per row: (outcome, code, message) the duplicate rule gives the later lines of a group."""
    first: dict[str, tuple[int, str, str, int | None]] = {}  # kind -> row, action, type, size
    sizes: dict[str, int | None] = {}  # kind -> the group's first size given
    decided = {}
    for row, _, word, action in lines:
        parsed = parse_license_word(word)
        assert parsed is not None
        kind, user_type, size = parsed
        if sizes.get(kind.value) is None:
            sizes[kind.value] = size
        if kind.value not in first:
            first[kind.value] = (row, action, str(user_type or ""), size)
            continue
        first_row, first_action, first_type, _ = first[kind.value]
        decided[row] = (kind.value, first_row, action == first_action
                        and str(user_type or "") == first_type, size)  # fmt: skip
    out = {}
    for row, (kind, first_row, alike, size) in decided.items():
        if alike and size == sizes[kind]:
            out[row] = ("skipped", "duplicate", f"same license as row {first_row}")
        else:
            out[row] = ("invalid", "conflict", f"contradicts row {first_row}")
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(TYPED), st.sampled_from(WORDS),
                  st.sampled_from(["assign", "assign", "remove"])),
        min_size=2, max_size=8,
    )
)  # fmt: skip
def test_later_lines_of_a_user_and_kind(drawn: list[tuple[str, str, str]]) -> None:
    lines = [(row, email, word, action) for row, (email, word, action) in enumerate(drawn, 2)]
    requests, results = file_tables(lines)
    snapshot = account([user("ann@example.com", UserType.LICENSED, webinar=500)],
                       {"Licensed": 5, "Webinar 500": 5, "Webinar 1000": 5,
                        "Large Meeting 500": 5, "Zoom Events 500": 5})  # fmt: skip
    got = plan(requests, results, snapshot).results.set_index("row")
    for row, (outcome, code, message) in expected(lines).items():
        line = got.loc[row]
        assert (line["outcome"], line["code"], line["message"]) == (outcome, code, message)


def test_duplicate_and_conflict_name_the_first_row() -> None:
    """Webinar 500 twice: the second is skipped; Webinar 1000 after it contradicts row 2."""
    lines = [(2, "ann@example.com", "Webinar 500"), (3, "ANN@example.com", "Webinar 500"),
             (4, "Ann@example.com ", "Webinar 1000")]  # fmt: skip
    requests, results = file_tables(lines)
    snapshot = account([user("ann@example.com")], {"Licensed": 1, "Webinar 500": 2,
                                                   "Webinar 1000": 1})  # fmt: skip
    got = plan(requests, results, snapshot).results.set_index("row")
    assert got.loc[2, "outcome"] == "planned"
    assert tuple(got.loc[3, ["outcome", "code", "message"]]) == (
        "skipped", "duplicate", "same license as row 2")  # fmt: skip
    assert tuple(got.loc[4, ["outcome", "code", "message"]]) == (
        "invalid", "conflict", "contradicts row 2")  # fmt: skip

"""The file rules (README, "Rules and outcomes"): what `batch validate` says of each license."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch.model import REQUEST_COLUMNS, RESULT_COLUMNS, RESULT_INTERNAL_COLUMNS
from batch.rules import check_file
from batch.vocabulary import parse_license_word, word_key

ANN = "ann@example.com"
BOB = "bob@example.com"


def requests(*lines: tuple[object, ...]) -> pd.DataFrame:
    """A long-layout requests table from (row, email as typed, license word[, action]) tuples.

    The license word is read with the vocabulary (as the loader would); an unrecognised word
    gives kind "". Rows of the form (row, email, column, raw, kind, user_type, size, action)
    are taken as they are, for wide-layout cells.
    """
    records = []
    for request, line in enumerate(lines):
        if len(line) == 8:
            row, email, column, raw, kind, user_type, size, action = line
        else:
            row, email, raw, *rest = line
            action = rest[0] if rest else "assign"
            column = "License"
            parsed = parse_license_word(str(raw))
            kind, user_type, size = ("", "", None) if parsed is None else parsed
            user_type = "" if user_type is None else str(user_type)
            kind = str(kind)
        records.append(
            (
                request,
                row,
                word_key(str(email)),
                email,
                column,
                raw,
                kind,
                user_type,
                size,
                action,
            )
        )
    table = pd.DataFrame(records, columns=list(REQUEST_COLUMNS))
    return table.astype({"size": "Int64", "request": "int64", "row": "int64"})


def lines_of(results: pd.DataFrame) -> list[tuple[int, str, str, str]]:
    """Each result as (row, license, outcome, code), what an admin reads first."""
    return list(results[["row", "license", "outcome", "code"]].itertuples(index=False, name=None))


# ---------------------------------------------------------------------------------------------
# Per-value rules


@pytest.mark.parametrize(
    ("email", "word", "action", "expected"),
    [
        (ANN, "Licensed", "assign", ("Licensed", "valid", "")),
        (ANN, "Met licentie", "assign", ("Licensed", "valid", "")),
        (ANN, "On-prem", "assign", ("On-prem", "valid", "")),
        (ANN, "Webinar 500", "assign", ("Webinar 500", "valid", "")),
        (ANN, "Webinar", "assign", ("Webinar", "valid", "")),
        (ANN, "Zoom Events 3000", "remove", ("Zoom Events 3000", "valid", "")),
        ("Ann.Smit+zoom@Sub.Example.co.uk", "Basic", "assign", ("Basic", "valid", "")),
        ("", "Licensed", "assign", ("Licensed", "invalid", "missing-email")),
        ("\u00a0 ", "Licensed", "assign", ("Licensed", "invalid", "missing-email")),
        ("ann.example.com", "Licensed", "assign", ("Licensed", "invalid", "invalid-email")),
        ("ann@@example.com", "Licensed", "assign", ("Licensed", "invalid", "invalid-email")),
        ("ann@example", "Licensed", "assign", ("Licensed", "invalid", "invalid-email")),
        ("@example.com", "Licensed", "assign", ("Licensed", "invalid", "invalid-email")),
        ("ann smit@example.com", "Licensed", "assign", ("Licensed", "invalid", "invalid-email")),
        ("ann@exаmple.com", "Licensed", "assign", ("Licensed", "invalid", "invalid-email")),
        ("ann\u200b@example.com", "Licensed", "assign", ("Licensed", "invalid", "invalid-email")),
        ("ann.@example.com", "Licensed", "assign", ("Licensed", "invalid", "invalid-email")),
        ("ann@example..com", "Licensed", "assign", ("Licensed", "invalid", "invalid-email")),
        (ANN, "Premium", "assign", ("Premium", "invalid", "unknown-license")),
        (ANN, "Webinar 500", "", ("Webinar 500", "invalid", "unknown-license")),
        (ANN, "Webinar 750", "assign", ("Webinar 750", "invalid", "invalid-size")),
        (ANN, "Large Meeting 100", "assign", ("Large Meeting 100", "invalid", "invalid-size")),
        (ANN, "Zoom Events 40000", "remove", ("Zoom Events 40000", "invalid", "invalid-size")),
    ],
    ids=[
        "licensed",
        "dutch-licensed",
        "on-prem",
        "webinar-500",
        "webinar-no-size",
        "remove-events",
        "plus-and-subdomain",
        "blank-email",
        "nbsp-only-email",
        "no-at",
        "two-ats",
        "domain-without-dot",
        "empty-local-part",
        "space-inside",
        "cyrillic-a-look-alike",
        "zero-width-space",
        "dot-before-at",
        "double-dot-in-domain",
        "unknown-word",
        "unknown-action",
        "webinar-750",
        "size-of-another-addon",
        "unknown-size-on-remove",
    ],
)
def test_per_value_rules(
    email: str, word: str, action: str, expected: tuple[str, str, str]
) -> None:
    """A single line is judged on its own email, license word, size and action."""
    results = check_file(requests((2, email, word, action)))
    assert lines_of(results) == [(2, *expected)]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (("User type", "Premium", "base", "", None, "assign"), ("Premium", "unknown-license")),
        (("User type", "2", "base", "Licensed", None, "assign"), ("Licensed", "")),
        (("Webinar", "maybe", "webinar", "", None, ""), ("Webinar", "unknown-license")),
        (("Webinar", "x", "webinar", "", None, "assign"), ("Webinar", "")),
        (("Webinar", "1.000", "webinar", "", 1000, "assign"), ("Webinar 1000", "")),
        (("Webinar", "750", "webinar", "", 750, "assign"), ("Webinar 750", "invalid-size")),
    ],
    ids=["unknown-type", "type-digit", "unknown-addon-word", "yes-word", "size", "bad-size"],
)
def test_wide_layout_cells(cell: tuple[object, ...], expected: tuple[str, str]) -> None:
    """Wide-layout cells get their label from the column's kind, or the raw word if unknown."""
    results = check_file(requests((3, ANN, *cell)))
    assert (results.loc[0, "license"], results.loc[0, "code"]) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            (2, ANN, "Webinar 750"),
            "Webinar size 750 does not exist: use one of 100, 500, 1000, 3000, 5000, 10000,"
            " 20000, 30000, 40000, 50000.",
        ),
        (
            (2, " Ann@@example.com ", "Licensed"),
            "'Ann@@example.com' is not a valid email address: write it as name@domain.com,"
            " without spaces or accented or look-alike characters.",
        ),
        ((2, "", "Webinar 500"), "No email address for Webinar 500: fill in the user's email."),
        (
            (2, ANN, "Premium"),
            "'Premium' is not a license: use Licensed, Basic, On-prem, or Large Meeting,"
            " Webinar or Zoom Events with a size (e.g. Webinar 500).",
        ),
        (
            (2, ANN, "Webinar 500", ""),
            "The action for Webinar 500 is not recognised: use assign or remove (toewijzen,"
            " verwijderen), or leave it blank to assign.",
        ),
        (
            (2, ANN, "User type", "Premium", "base", "", None, "assign"),
            "'Premium' is not a user type: use Basic, Licensed or On-prem (or 1, 2, 3).",
        ),
        (
            (2, ANN, "Webinar", "maybe", "webinar", "", None, ""),
            "'maybe' in column Webinar is not understood: write a size, yes to assign, no to"
            " remove, or leave it blank.",
        ),
    ],
    ids=["size", "email", "no-email", "license", "action", "user-type", "wide-cell"],
)
def test_per_value_messages(line: tuple[object, ...], message: str) -> None:
    """Each per-value message names the value at fault and what to write instead."""
    assert check_file(requests(line)).loc[0, "message"] == message


# ---------------------------------------------------------------------------------------------
# Precedence


@pytest.mark.parametrize(
    ("lines", "codes"),
    [
        ([(2, "", "Premium")], ["missing-email"]),
        ([(2, "ann@", "Webinar 750")], ["invalid-email"]),
        ([(2, ANN, "Webinar 750", "")], ["unknown-license"]),
        ([(2, ANN, "Webinar 750"), (3, ANN, "Webinar 500")], ["invalid-size", ""]),
        (
            [(2, ANN, "Webinar 500"), (3, ANN, "Webinar 1000"), (4, ANN, "Webinar", "remove")],
            ["not-stackable", "not-stackable", "conflict"],
        ),
        (
            [(2, ANN, "Webinar 500"), (3, ANN, "Webinar 500"), (4, ANN, "Webinar 1000")],
            ["not-stackable", "not-stackable", "not-stackable"],
        ),
        (
            [(2, ANN, "Basic"), (3, ANN, "Basic"), (4, ANN, "Licensed")],
            ["conflict", "conflict", "conflict"],
        ),
        (
            [(2, ANN, "Basic"), (3, ANN, "Webinar 500"), (4, ANN, "Webinar 500")],
            ["", "missing-prerequisite", "duplicate"],
        ),
        (
            [(2, ANN, "Basic"), (3, ANN, "Licensed"), (4, ANN, "Webinar 500")],
            ["conflict", "conflict", ""],
        ),
        ([(2, ANN, "Basic"), (3, "ANN@example.com", "Webinar 750")], ["", "invalid-size"]),
    ],
    ids=[
        "missing-email-over-unknown-license",
        "invalid-email-over-invalid-size",
        "unknown-license-over-invalid-size",
        "invalid-size-stays-out-of-cross-row",
        "not-stackable-and-conflict",
        "not-stackable-over-duplicate",
        "conflict-over-duplicate",
        "prerequisite-then-duplicate",
        "conflicted-basic-is-not-a-prerequisite-problem",
        "invalid-size-not-a-prerequisite-problem",
    ],
)
def test_precedence(lines: list[tuple[object, ...]], codes: list[str]) -> None:
    """Each line gets the first code that applies, in README's "Rules and outcomes" order."""
    assert check_file(requests(*lines))["code"].tolist() == codes


# ---------------------------------------------------------------------------------------------
# Cross-row rules


@pytest.mark.parametrize(
    ("lines", "codes"),
    [
        ([(2, ANN, "Webinar 500"), (3, ANN, "Webinar 1000")], ["not-stackable"] * 2),
        ([(2, ANN, "Webinar 500"), (3, ANN, "Webinar")], ["", ""]),
        ([(2, ANN, "Webinar"), (3, ANN, "Webinar 3000")], ["", ""]),
        (
            [(2, ANN, "Webinar 500"), (3, ANN, "Webinar"), (4, ANN, "Webinar 1000")],
            ["not-stackable", "", "not-stackable"],
        ),
        ([(2, ANN, "Webinar 500"), (3, ANN, "Zoom Events 1000")], ["", ""]),
        ([(2, ANN, "Webinar 500"), (3, BOB, "Webinar 1000")], ["", ""]),
        (
            [(2, ANN, "Large Meeting 500"), (3, "ANN@Example.com ", "Large Meeting 1000")],
            ["not-stackable"] * 2,
        ),
        ([(2, ANN, "Webinar 500", "remove"), (3, ANN, "Webinar 1000", "remove")], ["", ""]),
    ],
    ids=[
        "two-sizes",
        "size-and-yes-word",
        "yes-word-and-size",
        "yes-word-between-two-sizes",
        "different-addons",
        "different-users",
        "email-case-and-spaces",
        "removals-do-not-stack",
    ],
)
def test_not_stackable(lines: list[tuple[object, ...]], codes: list[str]) -> None:
    """Only differing explicit sizes of one add-on for one user are refused, every such line."""
    assert check_file(requests(*lines))["code"].tolist() == codes


def test_not_stackable_message() -> None:
    """The not-stackable message lists each size with the row it was asked on."""
    results = check_file(
        requests((4, ANN, "Webinar 500"), (6, BOB, "Basic"), (9, ANN, "Webinar 1000"))
    )
    expected = (
        "Webinar is asked for ann@example.com with different sizes (500 on row 4, 1000 on row 9):"
        " licenses of one type do not add up, keep one."
    )
    assert results["message"].tolist() == [expected, "", expected]


@pytest.mark.parametrize(
    ("lines", "codes"),
    [
        ([(2, ANN, "Basic"), (3, ANN, "Licensed")], ["conflict"] * 2),
        ([(2, ANN, "Licensed"), (3, ANN, "Basic")], ["conflict"] * 2),
        ([(2, ANN, "On-prem"), (3, ANN, "Met licentie")], ["conflict"] * 2),
        ([(2, ANN, "Webinar 500"), (3, ANN, "Webinar", "remove")], ["conflict"] * 2),
        ([(2, ANN, "Webinar", "remove"), (3, ANN, "Webinar 500")], ["conflict"] * 2),
        (
            [(2, ANN, "Zoom Events"), (3, BOB, "Licensed"), (4, ANN, "Zoom Events 500", "remove")],
            ["conflict", "", "conflict"],
        ),
        ([(2, ANN, "Webinar 500"), (3, ANN, "Large Meeting", "remove")], ["", ""]),
        ([(2, ANN, "Basic"), (3, BOB, "Licensed")], ["", ""]),
        ([(2, ANN, "Basic"), (3, ANN, "Premium")], ["", "unknown-license"]),
    ],
    ids=[
        "basic-then-licensed",
        "licensed-then-basic",
        "on-prem-and-dutch-licensed",
        "assign-then-remove",
        "remove-then-assign",
        "other-user-between",
        "different-addons",
        "different-users",
        "unknown-type-is-no-conflict",
    ],
)
def test_conflict(lines: list[tuple[object, ...]], codes: list[str]) -> None:
    """Contradictory instructions for one user refuse every line involved, in either order."""
    assert check_file(requests(*lines))["code"].tolist() == codes


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [(3, ANN, "Basic"), (7, ANN, "Licensed")],
            "ann@example.com is given different user types (Basic on row 3, Licensed on row 7):"
            " keep one.",
        ),
        (
            [(7, ANN, "Webinar", "remove"), (3, ANN, "Webinar 500")],
            "Webinar is both assigned and removed for ann@example.com (assign on row 3, remove on"
            " row 7): keep one.",
        ),
    ],
    ids=["user-types", "assign-and-remove"],
)
def test_conflict_message(lines: list[tuple[object, ...]], message: str) -> None:
    """The conflict message names both instructions with their rows, on every line involved."""
    assert check_file(requests(*lines))["message"].tolist() == [message, message]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [(2, ANN, "Webinar 500"), (5, ANN, "Webinar 500")],
            [
                ("valid", ""),
                (
                    "skipped",
                    "Same as row 2 (Webinar 500 for ann@example.com): this repeat is skipped.",
                ),
            ],
        ),
        (
            [
                (2, ANN, "Licensed"),
                (3, BOB, "Licensed"),
                (4, "ANN@EXAMPLE.COM", "Met licentie"),
                (8, " ann@example.com", "licensed"),
            ],
            [
                ("valid", ""),
                ("valid", ""),
                (
                    "skipped",
                    "Same as row 2 (Licensed for ann@example.com): this repeat is skipped.",
                ),
                (
                    "skipped",
                    "Same as row 2 (Licensed for ann@example.com): this repeat is skipped.",
                ),
            ],
        ),
        (
            [(2, ANN, "Webinar"), (3, ANN, "Webinar")],
            [
                ("valid", ""),
                ("skipped", "Same as row 2 (Webinar for ann@example.com): this repeat is skipped."),
            ],
        ),
        (
            [(2, ANN, "Webinar 500"), (3, ANN, "Webinar 500", "remove")],
            [
                (
                    "invalid",
                    "Webinar is both assigned and removed for ann@example.com (assign on row"
                    " 2, remove on row 3): keep one.",
                )
            ]
            * 2,
        ),
    ],
    ids=["repeat", "case-and-dutch-repeats", "yes-word-repeat", "not-a-repeat-but-a-conflict"],
)
def test_duplicate(lines: list[tuple[object, ...]], expected: list[tuple[str, str]]) -> None:
    """The first of repeated instructions is kept; later ones are skipped, naming its row."""
    results = check_file(requests(*lines))
    assert list(results[["outcome", "message"]].itertuples(index=False, name=None)) == expected
    assert (results["outcome"] == "skipped").sum() == (results["code"] == "duplicate").sum()


@pytest.mark.parametrize(
    ("lines", "codes"),
    [
        ([(2, ANN, "Basic"), (3, ANN, "Webinar 500")], ["", "missing-prerequisite"]),
        ([(2, ANN, "Webinar 500"), (3, ANN, "Basic")], ["missing-prerequisite", ""]),
        (
            [(2, ANN, "Webinar"), (3, BOB, "Licensed"), (4, ANN, "Basis")],
            ["missing-prerequisite", "", ""],
        ),
        ([(2, ANN, "Basic"), (3, ANN, "Webinar", "remove")], ["", ""]),
        ([(2, ANN, "Licensed"), (3, ANN, "Webinar 500")], ["", ""]),
        ([(2, ANN, "On-prem"), (3, ANN, "Large Meeting 500")], ["", ""]),
        ([(2, ANN, "Webinar 500")], [""]),
        ([(2, BOB, "Basic"), (3, ANN, "Webinar 500")], ["", ""]),
    ],
    ids=[
        "basic-first",
        "basic-last",
        "dutch-basic-later",
        "basic-with-a-removal",
        "licensed",
        "on-prem",
        "type-unknown-to-the-file",
        "another-user-basic",
    ],
)
def test_missing_prerequisite(lines: list[tuple[object, ...]], codes: list[str]) -> None:
    """An add-on grant to a user the file makes Basic is refused wherever the Basic line is."""
    assert check_file(requests(*lines))["code"].tolist() == codes


def test_missing_prerequisite_message() -> None:
    """The message names the add-on, the user and the row that makes them Basic."""
    results = check_file(requests((2, ANN, "Zoom Events 500"), (5, ANN, "Basic")))
    assert results.loc[0, "message"] == (
        "Zoom Events 500 needs ann@example.com to be Licensed or On-prem, but row 5 makes them"
        " Basic: make them Licensed or drop this add-on."
    )


# ---------------------------------------------------------------------------------------------
# The results table


def test_results_columns_dtypes_and_order() -> None:
    """One line per request in request order, with the model's columns and dtypes."""
    results = check_file(
        requests(
            (2, " Ann@Example.com\u00a0", "Webinar 500"),
            (3, BOB, "Grote vergadering 1.000"),
            (4, BOB, "Premium  "),
        )
    )
    assert tuple(results.columns) == (*RESULT_COLUMNS, *RESULT_INTERNAL_COLUMNS)
    assert results["email"].tolist() == ["Ann@Example.com", BOB, BOB]
    assert results["license"].tolist() == ["Webinar 500", "Large Meeting 1000", "Premium"]
    assert results["request"].tolist() == [0, 1, 2]
    assert results["size"].tolist()[:2] == [500, 1000]
    assert results["done_earlier"].tolist() == [False] * 3
    assert results["previous"].tolist() == [""] * 3
    assert results["action"].tolist() == ["assign", "assign", "assign"]
    dtypes = {column: str(dtype) for column, dtype in results.dtypes.items()}
    assert dtypes == {
        "row": "int64", "email": "str", "license": "str", "action": "str", "outcome": "str",
        "code": "str", "message": "str", "request": "int64", "kind": "str", "user_type": "str",
        "size": "Int64", "done_earlier": "bool", "previous": "str",
    }  # fmt: skip


def test_unknown_action_reads_none() -> None:
    """A line whose action was not recognised shows action `none`."""
    assert check_file(requests((2, ANN, "Webinar 500", "")))["action"].tolist() == ["none"]


def test_empty_requests() -> None:
    """No requests give an empty results table with every column."""
    results = check_file(requests())
    assert results.empty
    assert tuple(results.columns) == (*RESULT_COLUMNS, *RESULT_INTERNAL_COLUMNS)


def test_requests_out_of_order_come_back_in_request_order() -> None:
    """Results follow the request id, whatever order the table arrived in."""
    table = requests((2, ANN, "Licensed"), (3, BOB, "Basic"), (4, ANN, "Webinar 500"))
    results = check_file(table.iloc[[2, 0, 1]])
    assert results["row"].tolist() == [2, 3, 4]


# ---------------------------------------------------------------------------------------------
# Properties

_EMAILS = st.sampled_from([ANN, "ANN@example.com", BOB, "", "not-an-email", "cy@exаmple.com"])
_WORDS = st.sampled_from(
    ["Licensed", "Basic", "On-prem", "Webinar", "Webinar 500", "Webinar 750", "Large Meeting 500",
     "Large Meeting 1000", "Zoom Events 500", "Premium", "Basis"]
)  # fmt: skip
_ACTIONS = st.sampled_from(["assign", "remove", ""])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(_EMAILS, _WORDS, _ACTIONS), max_size=25))
def test_every_request_gets_exactly_one_line(lines: list[tuple[str, str, str]]) -> None:
    """Whatever the file, each request has one result line and the outcome counts add up."""
    table = requests(*((row, email, word, action) for row, (email, word, action)
                       in enumerate(lines, start=2)))  # fmt: skip
    results = check_file(table)
    assert results["request"].tolist() == list(range(len(lines)))
    counts = results["outcome"].value_counts()
    assert set(counts.index) <= {"valid", "invalid", "skipped"}
    assert counts.sum() == len(lines)
    assert ((results["code"] == "") == (results["outcome"] == "valid")).all()
    assert ((results["message"] == "") == (results["outcome"] == "valid")).all()
    assert ((results["code"] == "duplicate") == (results["outcome"] == "skipped")).all()


_USER_LINES = st.lists(st.tuples(_WORDS, _ACTIONS), max_size=8)


@settings(max_examples=40, deadline=None)
@given(_USER_LINES, _USER_LINES)
def test_users_do_not_affect_each_other(
    ann: list[tuple[str, str]], bob: list[tuple[str, str]]
) -> None:
    """One user's lines get the same codes whether or not another user's lines are in the file."""
    mixed = [(ANN, word, action) for word, action in ann] + [(BOB, w, a) for w, a in bob]
    together = check_file(requests(*((row, *line) for row, line in enumerate(mixed, start=2))))
    alone = check_file(requests(*((row, ANN, w, a) for row, (w, a) in enumerate(ann, start=2))))
    assert together["code"].tolist()[: len(ann)] == alone["code"].tolist()

"""The planner: account rules, seat arithmetic, downgrade and sync lines, operations."""

from __future__ import annotations

import pandas as pd
import pytest

from batch.errors import InputError, SafetyLimit
from batch.planning import addons_needed, apply_to_snapshot, plan
from batch.planning.testing import account, file_tables, user
from batch.vocabulary import Kind, Mode, UserType

ANN, BOB, CY = "ann@example.com", "bob@example.com", "cy@example.com"


def outcomes(result_table: pd.DataFrame) -> list[tuple[object, ...]]:
    """Result lines as (row, email, license, action, outcome, code, previous) tuples."""
    cols = ["row", "email", "license", "action", "outcome", "code", "previous"]
    return [
        tuple(None if pd.isna(v) else v for v in line)
        for line in result_table[cols].itertuples(index=False)
    ]


def run(users, purchased, lines, **options):
    """Plan long-layout lines against an account built from users and purchased seats."""
    snapshot = account(users, purchased, on_prem_available=options.pop("on_prem", False))
    requests, results = file_tables(lines)
    return plan(requests, results, snapshot, **options)


SEATS = {"Licensed": 10, "Webinar 500": 2, "Webinar 1000": 2, "Large Meeting 500": 2}

ACCOUNT_RULES = [
    ("user-not-found", [], [(2, BOB, "Licensed")],
     (2, BOB, "Licensed", "assign", "invalid", "user-not-found", "")),
    ("pending-user", [user(ANN, "Basic", "pending")], [(2, ANN, "Licensed")],
     (2, ANN, "Licensed", "assign", "invalid", "user-not-active", "")),
    ("deactivated-user", [user(ANN, "Basic", "inactive")], [(2, ANN, "Licensed")],
     (2, ANN, "Licensed", "assign", "invalid", "user-not-active", "")),
    ("email-as-typed", [user(ANN, "Basic")], [(2, " Ann@Example.COM\u00a0", "Licensed")],
     (2, " Ann@Example.COM\u00a0", "Licensed", "assign", "planned", "", "Basic")),
    ("already-that-type", [user(ANN)], [(2, ANN, "Licensed")],
     (2, ANN, "Licensed", "none", "unchanged", "", "Licensed")),
    ("upgrade", [user(ANN, "Basic")], [(2, ANN, "Licensed")],
     (2, ANN, "Licensed", "assign", "planned", "", "Basic")),
    ("downgrade", [user(ANN)], [(2, ANN, "Basic")],
     (2, ANN, "Basic", "assign", "planned", "", "Licensed")),
    ("on-prem-unavailable", [user(ANN)], [(2, ANN, "On-prem")],
     (2, ANN, "On-prem", "assign", "invalid", "onprem-unavailable", "Licensed")),
    ("file-invalid-stays", [user(ANN)],
     [(2, ANN, "Webinar 7", "assign", "invalid", "invalid-size")],
     (2, ANN, "Webinar 7", "assign", "invalid", "invalid-size", "")),
    ("file-skipped-stays", [user(ANN)],
     [(2, ANN, "Webinar 500", "assign", "skipped", "duplicate")],
     (2, ANN, "Webinar 500", "assign", "skipped", "duplicate", "")),
    ("addon-for-basic-user", [user(ANN, "Basic")], [(2, ANN, "Webinar 500")],
     (2, ANN, "Webinar 500", "assign", "invalid", "missing-prerequisite", "")),
    ("size-not-owned", [user(ANN)], [(2, ANN, "Webinar 3000")],
     (2, ANN, "Webinar 3000", "assign", "invalid", "size-not-owned", "")),
    ("size-ambiguous", [user(ANN)], [(2, ANN, "Webinar")],
     (2, ANN, "Webinar", "assign", "invalid", "size-ambiguous", "")),
    ("size-from-held", [user(ANN, webinar=1000)], [(2, ANN, "Webinar")],
     (2, ANN, "Webinar 1000", "none", "unchanged", "", "Webinar 1000")),
    ("size-the-only-owned", [user(ANN)], [(2, ANN, "Large Meeting")],
     (2, ANN, "Large Meeting 500", "assign", "planned", "", "")),
    ("same-size-held", [user(ANN, webinar=500)], [(2, ANN, "Webinar 500")],
     (2, ANN, "Webinar 500", "none", "unchanged", "", "Webinar 500")),
    ("other-size-held-changes", [user(ANN, webinar=500)], [(2, ANN, "Webinar 1000")],
     (2, ANN, "Webinar 1000", "change", "planned", "", "Webinar 500")),
    ("remove-not-held", [user(ANN)], [(2, ANN, "Webinar", "remove")],
     (2, ANN, "Webinar", "none", "unchanged", "", "")),
    ("remove-other-size", [user(ANN, webinar=500)], [(2, ANN, "Webinar 1000", "remove")],
     (2, ANN, "Webinar 1000", "none", "unchanged", "", "Webinar 500")),
    ("remove-held-any-size", [user(ANN, webinar=500)], [(2, ANN, "Webinar", "remove")],
     (2, ANN, "Webinar 500", "remove", "planned", "", "Webinar 500")),
    ("remove-licensed-downgrades", [user(ANN)], [(2, ANN, "Licensed", "remove")],
     (2, ANN, "Licensed", "remove", "planned", "", "Licensed")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("users", "lines", "expected"),
    [case[1:] for case in ACCOUNT_RULES],
    ids=[case[0] for case in ACCOUNT_RULES],
)
def test_account_rule(users, lines, expected):
    """Each account rule turns a valid line into the outcome, code and previous license shown."""
    assert outcomes(run(users, SEATS, lines).results) == [expected]


MESSAGES = [
    ("pending", [user(ANN, "Basic", "pending")], (2, ANN, "Licensed"),
     "the user is pending (invited, not activated yet)"),
    ("deactivated", [user(ANN, "Basic", "inactive")], (2, ANN, "Licensed"),
     "the user is deactivated"),
    ("not-found", [], (2, ANN, "Licensed"), "no user ann@example.com in this account"),
    ("ambiguous", [user(ANN)], (2, ANN, "Webinar"),
     "the user holds no Webinar and the account owns several sizes (500, 1000): give the size"),
    ("not-owned", [user(ANN)], (2, ANN, "Webinar 3000"),
     "the account has no Webinar 3000 plan (it owns: Webinar 500, Webinar 1000)"),
    ("prerequisite", [user(ANN, "Basic")], (2, ANN, "Webinar 500"),
     "Webinar needs a Licensed or On-prem user; the user is Basic"),
    ("not-held", [user(ANN)], (2, ANN, "Webinar", "remove"), "not held"),
    ("other-size", [user(ANN, webinar=500)], (2, ANN, "Webinar 1000", "remove"),
     "the user holds Webinar 500, not Webinar 1000: nothing removed"),
    ("change", [user(ANN, webinar=500)], (2, ANN, "Webinar 1000"), "Webinar 500 → Webinar 1000"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("users", "line", "message"), [c[1:] for c in MESSAGES], ids=[c[0] for c in MESSAGES]
)
def test_message(users, line, message):
    """The message tells the admin what is wrong or what changes."""
    assert run(users, SEATS, [line]).results["message"].tolist() == [message]


def test_upgrade_in_the_same_file_satisfies_the_prerequisite():
    """An add-on for a Basic user is planned when a later row of the file makes them Licensed."""
    p = run([user(ANN, "Basic")], SEATS, [(2, ANN, "Webinar 500"), (3, ANN, "Licensed")])
    assert p.results["outcome"].tolist() == ["planned", "planned"]


def test_invalid_upgrade_does_not_count_as_prerequisite():
    """An add-on whose user's upgrade line is invalid is refused: missing-prerequisite."""
    p = run([user(ANN, "Basic")], SEATS, [(2, ANN, "On-prem"), (2, ANN, "Webinar 500")])
    assert p.results["code"].tolist() == ["onprem-unavailable", "missing-prerequisite"]


def test_on_prem_when_the_account_offers_it():
    """On-prem is planned on an account with the On-prem type, using a base seat."""
    p = run([user(ANN, "Basic")], {"Licensed": 1}, [(2, ANN, "On-prem")], on_prem=True)
    assert outcomes(p.results) == [(2, ANN, "On-prem", "assign", "planned", "", "Basic")]
    assert p.seats_after[(Kind.BASE, None)].used == 1


@pytest.mark.parametrize(
    ("users", "purchased", "lines", "message"),
    [
        ([user(ANN, webinar=500), user(BOB), user(CY)], {"Licensed": 3, "Webinar 500": 1},
         [(2, BOB, "Webinar 500")],
         "no free Webinar 500 seat: 1 purchased, 1 held; free one or buy more"),
        ([user(ANN, webinar=500), user(BOB), user(CY)], {"Licensed": 3, "Webinar 500": 2},
         [(2, CY, "Webinar 500"), (3, BOB, "Webinar 500")],
         "no free Webinar 500 seat: 2 purchased, 1 held, the last one given to row 2 "
         f"({CY}); free one or buy more"),
        ([user(ANN, webinar=500), user(BOB), user(CY)], {"Licensed": 3, "Webinar 500": 1},
         [(2, ANN, "Webinar", "remove"), (3, CY, "Webinar 500"), (4, BOB, "Webinar 500")],
         "no free Webinar 500 seat: 1 purchased, 1 held, 1 freed by this file, the last one "
         f"given to row 3 ({CY}); free one or buy more"),
        ([user(ANN), user(BOB, "Basic"), user(CY, "Basic")], {"Licensed": 2},
         [(2, CY, "Licensed"), (3, BOB, "Licensed")],
         f"no free Licensed seat: 2 purchased, 1 held, the last one given to row 2 ({CY}); "
         "free one or buy more"),
    ],
    ids=["none-free", "last-to-an-earlier-row", "freed-then-given", "base-seat"],
)  # fmt: skip
def test_no_seats_message(users, purchased, lines, message):
    """A refused grant says what was bought and held, what the file freed, and which row took
    the last seat."""
    p = run(users, purchased, lines)
    assert p.results["message"].tolist()[-1] == message


def _many(n: int, **held: int) -> list:
    return [user(f"u{i}@example.com", **held) for i in range(n)]


U = [f"u{i}@example.com" for i in range(6)]

SEAT_CASES = [
    ("first-rows-win", _many(3), {"Licensed": 3, "Webinar 500": 1},
     [(2, U[0], "Webinar 500"), (3, U[1], "Webinar 500"), (4, U[2], "Webinar 500")], False,
     ["planned", "invalid", "invalid"]),
    ("file-order-is-row-order", _many(2), {"Licensed": 2, "Webinar 500": 1},
     [(5, U[0], "Webinar 500"), (3, U[1], "Webinar 500")], False,
     ["planned", "invalid"]),  # results come sorted by row: row 3 first
    ("freed-seats-count", [*_many(1), user(U[1], webinar=500)], {"Licensed": 2, "Webinar 500": 1},
     [(2, U[0], "Webinar 500"), (3, U[1], "Webinar", "remove")], False,
     ["planned", "planned"]),
    ("all-or-nothing-refuses-all", _many(3), {"Licensed": 3, "Webinar 500": 2},
     [(2, U[0], "Webinar 500"), (3, U[1], "Webinar 500"), (4, U[2], "Webinar 500")], True,
     ["invalid", "invalid", "invalid"]),
    ("all-or-nothing-when-all-fit", _many(2), {"Licensed": 2, "Webinar 500": 2},
     [(2, U[0], "Webinar 500"), (3, U[1], "Webinar 500")], True,
     ["planned", "planned"]),
    ("change-frees-and-takes", [user(U[0], webinar=500), user(U[1])],
     {"Licensed": 2, "Webinar 500": 1, "Webinar 1000": 1},
     [(2, U[1], "Webinar 500"), (3, U[0], "Webinar 1000")], False,
     ["planned", "planned"]),
    ("refused-change-frees-nothing",
     [user(U[0], webinar=500), user(U[1]), user(U[2], webinar=1000)],
     {"Licensed": 3, "Webinar 500": 1, "Webinar 1000": 1},
     [(2, U[1], "Webinar 500"), (3, U[0], "Webinar 1000")], False,
     ["invalid", "invalid"]),
    ("downgrade-frees-base-seat", [user(U[0]), user(U[1], "Basic")], {"Licensed": 1},
     [(2, U[1], "Licensed"), (3, U[0], "Basic")], False,
     ["planned", "planned"]),
    ("downgrade-frees-addon-seat", [user(U[0], webinar=500), user(U[1])],
     {"Licensed": 2, "Webinar 500": 1},
     [(2, U[1], "Webinar 500"), (3, U[0], "Basic")], False,
     ["planned", "planned", "planned"]),  # + the line removing U0's webinar
    ("base-upgrades-first-rows-win", [user(U[0], "Basic"), user(U[1], "Basic")], {"Licensed": 1},
     [(2, U[0], "Licensed"), (3, U[1], "Licensed")], False,
     ["planned", "invalid"]),
    ("licensed-to-on-prem-takes-no-seat", [user(U[0])], {"Licensed": 1},
     [(2, U[0], "On-prem")], False, ["planned"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("users", "purchased", "lines", "all_or_nothing", "expected"),
    [c[1:] for c in SEAT_CASES],
    ids=[c[0] for c in SEAT_CASES],
)
def test_seat_arithmetic(users, purchased, lines, all_or_nothing, expected):
    """Grants get free seats plus seats freed by the run, first rows first; the rest no-seats."""
    p = run(users, purchased, lines, all_or_nothing=all_or_nothing, on_prem=True)
    assert p.results["outcome"].tolist() == expected
    codes = set(p.results.loc[p.results["outcome"] == "invalid", "code"])
    assert codes <= {"no-seats"}
    for key, seats in p.seats_after.items():
        assert seats.used <= seats.purchased, key


def test_refused_upgrade_makes_its_addons_missing_prerequisite_and_frees_their_seat():
    """A base upgrade refused for no-seats refuses the user's add-ons, whose seat goes to others."""
    users = [user(ANN), user(BOB, "Basic"), user(CY)]
    lines = [(2, BOB, "Licensed"), (2, BOB, "Webinar 500"), (3, CY, "Webinar 500")]
    p = run(users, {"Licensed": 2, "Webinar 500": 1}, lines)
    assert outcomes(p.results) == [
        (2, BOB, "Licensed", "assign", "invalid", "no-seats", "Basic"),
        (2, BOB, "Webinar 500", "assign", "invalid", "missing-prerequisite", ""),
        (3, CY, "Webinar 500", "assign", "planned", "", ""),
    ]
    assert p.results["message"][1] == (
        "Webinar needs a Licensed or On-prem user, and the upgrade in row 2 was refused (no-seats)"
    )


def test_seats_after_counts_freed_and_granted():
    """The projected seats subtract what the run frees and add what it grants."""
    users = [user(ANN, webinar=500), user(BOB), user(CY, "Basic")]
    lines = [(2, ANN, "Webinar 1000"), (3, BOB, "Webinar 500"), (4, CY, "Licensed")]
    p = run(users, {"Licensed": 3, "Webinar 500": 1, "Webinar 1000": 2}, lines)
    assert {k: (s.purchased, s.used) for k, s in p.seats_after.items()} == {
        (Kind.BASE, None): (3, 3),
        (Kind.WEBINAR, 500): (1, 1),
        (Kind.WEBINAR, 1000): (2, 1),
    }


def test_downgrade_removes_each_held_addon_on_its_own_line():
    """Becoming Basic adds a planned removal line per held add-on, after the file's lines."""
    users = [user(ANN, webinar=500, large_meeting=500), user(BOB)]
    lines = [(12, ANN, "Basic"), (13, BOB, "Licensed")]
    p = run(users, SEATS, lines)
    assert outcomes(p.results) == [
        (12, ANN, "Basic", "assign", "planned", "", "Licensed"),
        (12, ANN, "Large Meeting 500", "remove", "planned", "", "Large Meeting 500"),
        (12, ANN, "Webinar 500", "remove", "planned", "", "Webinar 500"),
        (13, BOB, "Licensed", "none", "unchanged", "", "Licensed"),
    ]
    assert p.results["request"].tolist() == [0, 2, 3, 1]
    assert p.results["message"][1] == "removed because the user becomes Basic (row 12)"


def test_explicit_removal_is_the_downgrade_removal():
    """When the file also removes a held add-on of a user made Basic, no extra line repeats it."""
    users = [user(ANN, webinar=500, large_meeting=500)]
    lines = [(2, ANN, "Basic"), (2, ANN, "Webinar", "remove")]
    p = run(users, SEATS, lines)
    assert outcomes(p.results) == [
        (2, ANN, "Basic", "assign", "planned", "", "Licensed"),
        (2, ANN, "Webinar 500", "remove", "planned", "", "Webinar 500"),
        (2, ANN, "Large Meeting 500", "remove", "planned", "", "Large Meeting 500"),
    ]
    (op,) = p.operations
    assert (op.op_id, op.phase, op.requests) == (f"{ANN}|type", 0, (0, 1, 2))


def test_results_keep_one_line_per_request_and_row_is_nullable():
    """Every request keeps its line; row is Int64 so that sync lines can have none."""
    requests, results = file_tables([(2, ANN, "Licensed"), (3, BOB, "Webinar 500")])
    p = plan(requests, results, account([user(ANN)], SEATS))
    assert p.results["request"].tolist() == [0, 1]
    assert str(p.results["row"].dtype) == "Int64"
    assert list(p.results.columns) == list(results.columns)


# --- sync ----------------------------------------------------------------------------------


def sync_account():
    """Five Webinar 500 holders, two more Licensed users, one pending holder."""
    users = [user(f"w{i}@example.com", webinar=500) for i in range(5)]
    users += [user(ANN, large_meeting=500), user(BOB)]
    users += [user("pend@example.com", "Licensed", "pending", webinar=500)]
    return users, {"Licensed": 10, "Webinar 500": 10, "Large Meeting 500": 2}


def test_sync_removes_what_the_file_does_not_name():
    """Sync makes users not in the file Basic and removes mentioned add-ons without a line."""
    users, seats = sync_account()
    lines = [(2, "w0@example.com", "Webinar 500"), (3, "w1@example.com", "Licensed")]
    p = run(users, seats, lines, mode=Mode.SYNC, max_removals="100%")

    def gone(email, label):
        return (None, email, label, "remove", "planned", "", label)

    assert outcomes(p.results)[2:] == [
        gone(ANN, "Licensed"),
        gone(ANN, "Large Meeting 500"),
        gone(BOB, "Licensed"),
        gone("w1@example.com", "Webinar 500"),  # in the file, but without a Webinar line
        *[x for i in (2, 3, 4) for x in (gone(f"w{i}@example.com", "Licensed"),
                                        gone(f"w{i}@example.com", "Webinar 500"))],
    ]  # fmt: skip
    assert p.removals == {"Licensed": 5, "Large Meeting 500": 1, "Webinar 500": 4}
    assert p.results["message"][4] == "not in the file (sync): becomes Basic"
    assert p.results["message"][5] == "removed by sync: no Webinar line for this user in the file"
    assert p.results["request"].tolist() == list(range(len(p.results)))


def test_sync_leaves_unmentioned_kinds_alone():
    """A file that only mentions Webinar does not touch user types or Large Meeting."""
    users, seats = sync_account()
    lines = [(2, f"w{i}@example.com", "Webinar 500") for i in range(5)]
    p = run(users, seats, lines, mode=Mode.SYNC)
    assert p.operations == ()
    assert p.removals == {}


@pytest.mark.parametrize(
    ("max_removals", "message"),
    [
        ("5%", "sync would remove 4 of 6 Webinar 500 licenses (67%), more than --max-removals 5%: "
               "raise --max-removals to go ahead"),
        ("3", "sync would remove 4 of 6 Webinar 500 licenses (67%), more than --max-removals 3: "
              "raise --max-removals to go ahead"),
    ],
    ids=["percentage", "count"],
)  # fmt: skip
def test_sync_safety_limit(max_removals, message):
    """Sync refuses (SafetyLimit, exit 4) to remove more holders of a license than allowed."""
    users, seats = sync_account()
    with pytest.raises(SafetyLimit) as caught:
        run(users, seats, [(2, "w0@example.com", "Webinar 500")], mode=Mode.SYNC,
            max_removals=max_removals)  # fmt: skip
    assert str(caught.value) == message
    assert caught.value.exit_code == 4


@pytest.mark.parametrize(
    ("max_removals", "override"), [("4", False), ("67%", False), ("0", True)],
    ids=["count-at-limit", "percentage-at-limit", "override"],
)  # fmt: skip
def test_sync_within_limit_plans(max_removals, override):
    """At the limit, or with the override, sync plans its removals."""
    users, seats = sync_account()
    p = run(users, seats, [(2, "w0@example.com", "Webinar 500")], mode=Mode.SYNC,
            max_removals=max_removals, allow_removals_override=override)  # fmt: skip
    assert p.removals == {"Webinar 500": 4}


@pytest.mark.parametrize("text", ["lots", "5.5", "-1", "%"], ids=str)
def test_bad_max_removals_is_an_input_error(text):
    """An unreadable --max-removals stops the run with exit 2."""
    with pytest.raises(InputError, match="--max-removals"):
        run([user(ANN)], SEATS, [(2, ANN, "Licensed")], max_removals=text)


# --- operations ----------------------------------------------------------------------------


def test_operations_phases_order_and_dependencies():
    """Frees run first, base grants next, add-on grants last, each after its user's upgrade."""
    users = [
        user(ANN, webinar=500, large_meeting=500),  # becomes Basic
        user(BOB, "Basic"),  # becomes Licensed with a webinar
        user(CY, webinar=1000, large_meeting=500),  # webinar -> 500, large meeting removed
        user("dee@example.com", zoom_events=500),  # only removes
    ]
    lines = [
        (2, BOB, "Webinar 1000"),
        (3, CY, "Webinar 500"),
        (3, CY, "Large Meeting", "remove"),
        (4, BOB, "Licensed"),
        (5, ANN, "Basic"),
        (6, "dee@example.com", "Zoom Events", "remove"),
    ]
    seats = {"Licensed": 4, "Webinar 500": 1, "Webinar 1000": 1, "Large Meeting 500": 2,
             "Zoom Events 500": 1}  # fmt: skip
    p = run(users, seats, lines)
    got = [(op.op_id, op.phase, op.depends_on, dict(op.addons), op.user_type, op.requests)
           for op in p.operations]  # fmt: skip
    assert got == [
        (f"{CY}|addons-free", 0, None, {Kind.WEBINAR: None, Kind.LARGE_MEETING: None}, None,
         (1, 2)),
        (f"{ANN}|type", 0, None, {}, UserType.BASIC, (4, 6, 7)),
        ("dee@example.com|addons", 0, None, {Kind.ZOOM_EVENTS: None}, None, (5,)),
        (f"{BOB}|type", 1, None, {}, UserType.LICENSED, (3,)),
        (f"{BOB}|addons", 2, f"{BOB}|type", {Kind.WEBINAR: 1000}, None, (0,)),
        (f"{CY}|addons", 2, None, {Kind.WEBINAR: 500}, None, (1,)),
    ]  # fmt: skip


def test_unneeded_change_stays_one_settings_update():
    """A size change whose old seat nobody needs is one phase-2 update carrying all changes."""
    users = [user(CY, webinar=1000, large_meeting=500)]
    lines = [(3, CY, "Webinar 500"), (3, CY, "Large Meeting", "remove")]
    p = run(users, SEATS, lines)
    assert [(op.op_id, op.phase, dict(op.addons)) for op in p.operations] == [
        (f"{CY}|addons", 2, {Kind.WEBINAR: 500, Kind.LARGE_MEETING: None})
    ]


def test_apply_to_snapshot_then_replan_plans_nothing():
    """Planning the same file against the account it produced changes nothing more."""
    users = [user(ANN, webinar=500, large_meeting=500), user(BOB, "Basic"), user(CY)]
    lines = [(2, ANN, "Basic"), (3, BOB, "Licensed"), (3, BOB, "Webinar"), (4, CY, "Webinar 500")]
    snapshot = account(users, {"Licensed": 2, "Webinar 500": 2, "Large Meeting 500": 1})
    requests, results = file_tables(lines)
    first = plan(requests, results, snapshot)
    after = apply_to_snapshot(snapshot, first.operations)
    assert after.users[BOB].type is UserType.LICENSED
    assert after.users[BOB].webinar == 500
    assert after.users[ANN].webinar is None
    again = plan(requests, results, after)
    assert again.operations == ()
    assert set(again.results["outcome"]) <= {"unchanged", "invalid"}
    assert {k: s.used for k, s in after.seats.items()} == {
        k: s.used for k, s in first.seats_after.items()
    }


# --- addons_needed --------------------------------------------------------------------------

NEEDED = [
    ("paid-users-of-the-file", Mode.APPLY, {ANN, "eve@example.com"}),
    ("sync-adds-every-paid-user", Mode.SYNC, {ANN, CY, "eve@example.com"}),
]


@pytest.mark.parametrize(("mode", "expected"), [c[1:] for c in NEEDED], ids=[c[0] for c in NEEDED])
def test_addons_needed(mode, expected):
    """The client reads add-ons of existing, non-pending, Licensed/On-prem users only."""
    people = [user(ANN), user(BOB, "Basic"), user(CY), user("dee@example.com", status="pending"),
              user("eve@example.com", "On-prem", "inactive")]  # fmt: skip
    requests, _ = file_tables(
        [(2, e, "Licensed") for e in (ANN, BOB, "dee@example.com", "eve@example.com", "x@y.z")]
    )
    users = account(people, {}).users
    assert addons_needed(requests, users, mode) == expected

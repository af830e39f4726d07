"""The plan as tables: the working table's declared columns, operations and users as columns,
and the typed seat moves the report reads instead of re-parsing license labels."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from batch.model import AccountUser, SeatKey, UserTable
from batch.planning import (
    Operations,
    op_id_of,
    plan,
    seat_label,
    seat_moves,
    seat_of_label,
    seat_order,
)
from batch.planning import planner as planner_module
from batch.planning.table import WorkingTable
from batch.planning.testing import account, file_tables, user
from batch.vocabulary import Kind, Mode, UserType

ANN, BOB, CY, DI = "ann@example.com", "bob@example.com", "cy@example.com", "di@example.com"
BASE: SeatKey = (Kind.BASE, None)
W500: SeatKey = (Kind.WEBINAR, 500)
W1000: SeatKey = (Kind.WEBINAR, 1000)
SEATS = {"Licensed": 10, "Webinar 500": 3, "Webinar 1000": 3}


def planned(users, lines, **options):
    """Plan long-layout lines against an account of `users` with SEATS purchased."""
    requests, results = file_tables(lines)
    return plan(requests, results, account(users, SEATS, on_prem_available=True), **options)


MOVES = [
    ("upgrade-takes-base", [user(ANN, "Basic")], [(2, ANN, "Licensed")], {}, {BASE: 1}),
    ("downgrade-frees-base-and-addon", [user(ANN, webinar=500)], [(2, ANN, "Basic")],
     {BASE: 1, W500: 1}, {}),
    ("grant-takes-addon", [user(ANN)], [(2, ANN, "Webinar 500")], {}, {W500: 1}),
    ("size-change-frees-old-takes-new", [user(ANN, webinar=500)], [(2, ANN, "Webinar 1000")],
     {W500: 1}, {W1000: 1}),
    ("removal-frees", [user(ANN, webinar=500)], [(2, ANN, "Webinar 500", "remove")],
     {W500: 1}, {}),
    ("licensed-to-onprem-keeps-base", [user(ANN)], [(2, ANN, "On-prem")], {}, {}),
    ("unchanged-moves-nothing", [user(ANN, webinar=500)], [(2, ANN, "Webinar 500")], {}, {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("users", "lines", "freed", "granted"), [m[1:] for m in MOVES], ids=[m[0] for m in MOVES]
)
def test_seat_moves_of_a_plan(users, lines, freed, granted):
    """The plan's typed seat moves say which seats each kind of line frees and takes."""
    p = planned(users, lines)
    assert set(p.results["outcome"]) <= {"planned", "unchanged"}
    moves = seat_moves(p.results, p.seat_lines)
    assert (moves.freed, moves.granted) == (Counter(freed), Counter(granted))


def test_seat_moves_match_seats_after():
    """Used before - freed + granted per seat is the plan's projected use, for a mixed file."""
    users = [user(ANN, "Basic"), user(BOB, webinar=500), user(CY), user(DI, webinar=1000)]
    lines = [(2, ANN, "Licensed"), (3, BOB, "Basic"), (4, CY, "Webinar 500"),
             (5, DI, "Webinar 500")]  # fmt: skip
    snapshot = account(users, SEATS)
    requests, results = file_tables(lines)
    p = plan(requests, results, snapshot)
    moves = seat_moves(p.results, p.seat_lines)
    for key, seats in snapshot.seats.items():
        assert seats.used - moves.freed[key] + moves.granted[key] == p.seats_after[key].used


def test_seat_moves_of_results_without_a_plan_are_empty():
    """File-rules results (validate: no plan) with no seat lines move nothing."""
    _, results = file_tables([(2, ANN, "Licensed")])
    moves = seat_moves(results, pd.DataFrame(columns=["request", "seat_free", "seat_take"]))
    assert (moves.freed, moves.granted) == (Counter(), Counter())


LABELS = [
    ("Licensed", BASE, "Licensed"),
    ("On-prem", BASE, "Licensed"),
    ("Webinar 500", W500, "Webinar 500"),
    ("Large Meeting 1000", (Kind.LARGE_MEETING, 1000), "Large Meeting 1000"),
    ("Basic", None, None),
    ("Webinar", None, None),
    ("", None, None),
]


@pytest.mark.parametrize(("label", "key", "back"), LABELS, ids=[x[0] or "blank" for x in LABELS])
def test_seat_of_label_and_back(label, key, back):
    """A license label names the seat it takes (none for Basic or a size-less add-on)."""
    assert seat_of_label(label) == key
    assert (seat_label(key) if key else None) == back


def test_seat_order_puts_base_first_then_kind_and_size():
    """Seats sort as the report lists them: the base seat, then add-ons by kind and size."""
    keys = [W1000, (Kind.LARGE_MEETING, 500), W500, BASE]
    assert sorted(keys, key=seat_order) == [BASE, (Kind.LARGE_MEETING, 500), W500, W1000]


def test_working_table_matches_its_declaration(monkeypatch):
    """The table the operations are read from has every declared column with its dtype."""
    seen = []
    build = planner_module.build_operations

    def spy(lines, needed):
        seen.append(WorkingTable.validate(lines, lazy=True))
        return build(lines, needed)

    monkeypatch.setattr(planner_module, "build_operations", spy)
    users = [user(ANN, webinar=500), user(BOB, "Basic"), user(CY, webinar=500), user(DI)]
    lines = [(2, ANN, "Basic"), (3, BOB, "Licensed"), (4, CY, "Webinar 500", "remove")]
    p = planned(users, lines, mode=Mode.SYNC, allow_removals_override=True)
    assert len(seen) == 1 and len(seen[0]) == len(p.results) > len(lines)


def test_operations_table_reads_back_as_the_same_operations():
    """Operations iterate, index, chunk and give ids alike, and round-trip through `of`."""
    users = [user(ANN, "Basic"), user(BOB, webinar=500), user(CY), user(DI, webinar=500)]
    lines = [(2, ANN, "Licensed"), (3, ANN, "Webinar 500"), (4, BOB, "Basic"),
             (5, CY, "Webinar 1000"), (6, DI, "Webinar 500", "remove")]  # fmt: skip
    ops = planned(users, lines).operations
    listed = list(ops)
    assert [op.op_id for op in listed] == ops.op_ids().tolist()
    assert [op for chunk in ops.chunks(2) for op in chunk] == listed
    assert ops[-1] == listed[-1] and list(ops[1:3]) == listed[1:3]
    assert Operations.of(listed) == ops == tuple(listed)
    ann_addons = [op.depends_on for op in listed if op.email == ANN and op.category == "addons"]
    assert ann_addons == [op_id_of(ANN, "type")]


def test_user_table_is_the_users_mapping():
    """A snapshot keeps its users as columns and answers like the dict it was given."""
    given = {ANN: user(ANN, webinar=500), BOB: user(BOB, "Basic", "pending")}
    table = account(given.values(), SEATS).users
    assert isinstance(table, UserTable)
    assert dict(table.items()) == given and table == given
    assert table[BOB].id is None and table.get(CY) is None and CY not in table
    with pytest.raises(KeyError):
        table[CY]


def test_user_table_keeps_unmanaged_types():
    """A user type the product does not manage reads back as None."""
    odd = AccountUser("id1", ANN, None, "active")
    assert UserTable.of([odd])[ANN].type is None
    assert UserTable.of([user(ANN)])[ANN].type is UserType.LICENSED

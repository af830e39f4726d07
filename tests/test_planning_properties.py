"""Planner properties over random accounts and files (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.model import AccountSnapshot
from batch.planning import apply_to_snapshot, plan
from batch.planning.testing import account, file_tables, user
from batch.vocabulary import PAID_TYPES, Mode, UserType

EMAILS = [f"u{i}@example.com" for i in range(6)]
WORDS = [
    "Basic", "Licensed", "On-prem", "Webinar", "Webinar 500", "Webinar 1000",
    "Large Meeting", "Large Meeting 500", "Zoom Events 500",
]  # fmt: skip
PLANS = ["Webinar 500", "Webinar 1000", "Large Meeting 500", "Zoom Events 500"]


@st.composite
def accounts(draw: st.DrawFn) -> AccountSnapshot:
    """A small account: random user types, statuses, held add-ons and purchased seats."""
    users = []
    for email in draw(st.lists(st.sampled_from(EMAILS), unique=True, max_size=6)):
        kind = draw(st.sampled_from(list(UserType)))
        paid = kind in PAID_TYPES
        held = {
            "webinar": draw(st.sampled_from([None, 500, 1000])) if paid else None,
            "large_meeting": draw(st.sampled_from([None, 500])) if paid else None,
            "zoom_events": draw(st.sampled_from([None, 500])) if paid else None,
        }
        status = draw(st.sampled_from(["active", "active", "active", "pending", "inactive"]))
        users.append(user(email, kind, status, **held))
    purchased = {"Licensed": draw(st.integers(0, 6))}
    for label in PLANS:
        if draw(st.booleans()):
            purchased[label] = draw(st.integers(0, 3))
    return account(users, purchased, on_prem_available=draw(st.booleans()))


files = st.lists(
    st.tuples(
        st.integers(2, 9),
        st.sampled_from([*EMAILS, "nobody@example.com"]),
        st.sampled_from(WORDS),
        st.sampled_from(["assign", "assign", "remove"]),
    ),
    max_size=10,
)
options = st.fixed_dictionaries(
    {"all_or_nothing": st.booleans(), "mode": st.sampled_from([Mode.APPLY, Mode.SYNC])}
)


def check(snapshot: AccountSnapshot, lines: list, opts: dict) -> None:
    """Plan, run the operations one by one in memory, and check every property on the way."""
    requests, results = file_tables(lines)
    p = plan(requests, results, snapshot, allow_removals_override=True, **opts)

    # every request keeps exactly one result line; extra lines have new ids
    ids = p.results["request"].tolist()
    assert len(ids) == len(set(ids))
    assert sorted(i for i in ids if i < len(lines)) == list(range(len(lines)))

    # run the operations in order: a seat is only taken when one is free at that moment, and
    # an add-on is only granted to a Licensed/On-prem user
    state = snapshot
    for op in p.operations:
        if op.category == "addons" and any(size is not None for size in op.addons.values()):
            assert state.users[op.email].type in PAID_TYPES, op
        after = apply_to_snapshot(state, [op])
        for key, seats in after.seats.items():
            if seats.used > state.seats[key].used:
                assert seats.used <= seats.purchased, (op, key)
        state = after

    # the projection matches what the operations do
    assert {k: s.used for k, s in state.seats.items()} == {
        k: s.used for k, s in p.seats_after.items()
    }
    # planning the same file against the account it produced plans nothing
    again = plan(requests, results, state, allow_removals_override=True, **opts)
    assert again.operations == ()


@given(snapshot=accounts(), lines=files, opts=options)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_plan_properties(snapshot, lines, opts):
    """Seats never overbooked, add-ons only for paid users, one line per request, idempotent."""
    check(snapshot, lines, opts)


@pytest.mark.slow
@given(snapshot=accounts(), lines=files, opts=options)
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_plan_properties_long(snapshot, lines, opts):
    """The same properties over many more random accounts and files."""
    check(snapshot, lines, opts)

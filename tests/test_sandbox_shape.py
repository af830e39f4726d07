"""The sandbox account parse and its shape check agree: a file of the wrong shape is refused
with the shape check's line, whatever part is wrong and whatever wrong value it holds.

`parse_account` runs the (costly) shape check only once its own parse has failed, so the parse
must refuse every file the shape check refuses; these properties hold it to that.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch.errors import FileRefused
from batch.sandbox.account import parse_account
from batch.sandbox.schema import check_shape

VALID: dict[str, Any] = {
    "account": {"id": "acc", "plan": "business", "on_prem_user_type": False},
    "plans": {"base": {"hosts": 5}, "webinar": {"500": 2}},
    "users": [
        {"email": "a@x.nl", "type": "Licensed", "status": "active", "webinar": 500,
         "first_name": "A", "last_name": "B", "dept": "D", "cost_center": "C1", "id": "u1"},
        {"email": "b@x.nl"},
    ],
    "credentials": {"account_id": "a", "client_id": "b", "client_secret": "c"},
    "limits": {"medium": 60},
}  # fmt: skip

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 60000) | st.floats(allow_nan=False)
    | st.text(max_size=6) | st.sampled_from(["Basic", "Licensed", "active", "x@y.z", "500"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=2),
    max_leaves=4,
)  # fmt: skip

PLACES = [
    (), ("account",), ("account", "id"), ("account", "plan"), ("account", "on_prem_user_type"),
    ("plans",), ("plans", "base"), ("users",), ("users", 0), ("users", 1),
    ("credentials",), ("credentials", "client_secret"), ("limits",),
    *[("users", 0, name) for name in ("email", "id", "type", "status", "first_name",
                                       "last_name", "dept", "cost_center", "large_meeting",
                                       "webinar", "zoom_events")],
    *[("users", 1, name) for name in ("email", "type", "webinar", "first_name")],
]  # fmt: skip


def put(data: Any, place: tuple[str | int, ...], value: Any) -> Any:
    """A copy of `data` with the part at `place` replaced by `value`."""
    if not place:
        return value
    changed = copy.deepcopy(data)
    parent = changed
    for step in place[:-1]:
        parent = parent[step]
    parent[place[-1]] = value
    return changed


def outcome(data: Any) -> str:
    try:
        parse_account(data, "f.json")
    except FileRefused as refused:
        return refused.reason
    return "parsed"


def test_the_valid_account_parses() -> None:
    assert outcome(VALID) == "parsed"
    assert check_shape(VALID) is None


@settings(max_examples=400, deadline=None)
@given(place=st.sampled_from(PLACES), value=JSON_VALUES)
def test_a_wrong_shape_is_refused_with_the_shape_line(
    place: tuple[str | int, ...], value: Any
) -> None:
    data = put(VALID, place, value)
    shape = check_shape(data)
    result = outcome(data)
    if shape is not None:
        assert result == shape
    # a parse that succeeds never hides a wrong shape; a value error is its own line
    assert result != "parsed" or shape is None


@pytest.mark.parametrize(
    ("place", "value", "line"),
    [
        (("users", 0, "webinar"), 500.0, "users[0].webinar: must be a whole number, not a number"),
        (("users",), {}, "users: must be a list, not an object"),
        (("users", 0, "webinar"), True,
         "users[0].webinar: must be a whole number, not true or false"),
        (("limits",), None, "limits: must be an object, not null"),
        (("users", 0, "webinar"), 501, "user a@x.nl: webinar 501 is not a size of webinar"),
        (("users", 1, "type"), "Pro", "user b@x.nl: type 'Pro' is not Basic, Licensed or On-prem"),
    ],
    ids=["size-float", "users-object", "size-bool", "limits-null", "size-unknown", "type-unknown"],
)  # fmt: skip
def test_shape_and_value_faults_read_as_before(
    place: tuple[str | int, ...], value: Any, line: str
) -> None:
    assert outcome(put(VALID, place, value)) == line

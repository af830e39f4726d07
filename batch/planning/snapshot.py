"""Apply operations to an account snapshot in memory, as Zoom (and our sandbox) would."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from batch.model import AccountSnapshot, AccountUser, SeatKey, Seats
from batch.vocabulary import ADDONS, PAID_TYPES, Kind, UserType

from .operations import Operation


def held_seats(user: AccountUser) -> list[SeatKey]:
    """The seats a user occupies: the base seat when Licensed/On-prem, one per held add-on."""
    keys: list[SeatKey] = [(Kind.BASE, None)] if user.type in PAID_TYPES else []
    keys += [(k, user.addon(k)) for k in ADDONS if user.addon(k) is not None]
    return keys


def apply_to_snapshot(
    snapshot: AccountSnapshot, operations: Iterable[Operation]
) -> AccountSnapshot:
    """The account after the operations ran, all successfully, in the given order.

    A type change to Basic drops the user's add-ons (Zoom does); an add-on update sets each
    named add-on to its size or removes it (None). Seat usage moves with the users.

    >>> after = apply_to_snapshot(snapshot, plan(requests, results, snapshot).operations)
    """
    users = dict(snapshot.users.items())  # made in batches, not looked up one by one
    touched: dict[str, AccountUser] = {}
    for op in operations:
        user = users[op.email]
        touched.setdefault(op.email, user)
        if op.category == "type":
            assert op.user_type is not None
            user = replace(user, type=op.user_type)
            if op.user_type is UserType.BASIC:
                user = replace(user, large_meeting=None, webinar=None, zoom_events=None)
        else:
            sizes = {k: user.addon(k) for k in ADDONS} | dict(op.addons)
            user = replace(
                user,
                large_meeting=sizes[Kind.LARGE_MEETING],
                webinar=sizes[Kind.WEBINAR],
                zoom_events=sizes[Kind.ZOOM_EVENTS],
            )
        users[op.email] = user
    used = {key: seats.used for key, seats in snapshot.seats.items()}
    for email, before in touched.items():
        for key in held_seats(before):
            used[key] = used.get(key, 0) - 1
        for key in held_seats(users[email]):
            used[key] = used.get(key, 0) + 1
    seats = {key: Seats(have.purchased, max(used[key], 0)) for key, have in snapshot.seats.items()}
    return replace(snapshot, users=users, seats=seats)

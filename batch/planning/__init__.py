"""The planner: the account rules, the seat arithmetic and the ordered operations.

A pure function of the file-rules results and an account snapshot; no I/O.

    >>> from batch.planning import plan, addons_needed, apply_to_snapshot
    >>> p = plan(loaded.requests, results, snapshot, mode=Mode.APPLY)
    >>> p.results          # one line per result: planned / unchanged / invalid / skipped
    >>> p.operations       # ordered: phase 0 frees seats, 1 base grants, 2 add-on grants
    >>> apply_to_snapshot(snapshot, p.operations)   # the account once they all succeed
"""

from batch.planning.operations import Operation, Operations, op_id_of
from batch.planning.planner import Plan, addons_needed, addons_needed_for, plan
from batch.planning.seats import SeatMoves, seat_label, seat_moves, seat_of_label, seat_order
from batch.planning.snapshot import apply_to_snapshot

__all__ = [
    "Operation",
    "Operations",
    "Plan",
    "SeatMoves",
    "addons_needed",
    "addons_needed_for",
    "apply_to_snapshot",
    "op_id_of",
    "plan",
    "seat_label",
    "seat_moves",
    "seat_of_label",
    "seat_order",
]

"""License labels as the report writes them: their order. The seat a label takes, and a seat's
label and order, are the planner's (`batch.planning.seats`); they are re-exported here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from batch.planning.seats import seat_label, seat_order
from batch.planning.seats import seat_of_label as seat_key
from batch.vocabulary import Kind, UserType, parse_license_word

_KIND_ORDER: Final = {kind: n for n, kind in enumerate(Kind)}
_TYPE_ORDER: Final = {UserType.LICENSED: 0, UserType.ON_PREM: 1, UserType.BASIC: 2}


def label_order(label: str) -> tuple[int, int, int, str]:
    """Sort key: user types (Licensed, On-prem, Basic), then add-ons by kind and size, then text."""
    parsed = parse_license_word(label) if label else None
    if parsed is None:
        return (9, 0, 0, label)
    kind, user_type, size = parsed
    if kind is Kind.BASE:
        return (0, _TYPE_ORDER.get(user_type, 3) if user_type else 3, 0, label)
    return (1, _KIND_ORDER[kind], size or 0, label)


def sort_labels(labels: Iterable[str]) -> list[str]:
    """Distinct labels in the report's order."""
    return sorted(set(labels), key=label_order)


__all__ = ["label_order", "seat_key", "seat_label", "seat_order", "sort_labels"]

"""License labels as the report writes them: their order and the seat each one takes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from batch.model import SeatKey
from batch.vocabulary import PAID_TYPES, Kind, UserType, license_label, parse_license_word

_KIND_ORDER: Final = {kind: n for n, kind in enumerate(Kind)}
_TYPE_ORDER: Final = {UserType.LICENSED: 0, UserType.ON_PREM: 1, UserType.BASIC: 2}


def seat_key(label: str) -> SeatKey | None:
    """The seat a license label takes: the base seat for Licensed and On-prem (both take one),
    sized add-ons their own; None for Basic and the rest."""
    parsed = parse_license_word(label) if label else None
    if parsed is None:
        return None
    kind, user_type, size = parsed
    if kind is Kind.BASE:
        return (Kind.BASE, None) if user_type in PAID_TYPES else None
    return (kind, size) if size is not None else None


def seat_label(key: SeatKey) -> str:
    """`Licensed` for the base seat, else the add-on's name and size."""
    kind, size = key
    if kind is Kind.BASE:
        return str(UserType.LICENSED)
    return license_label(kind, size=size)


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


def seat_order(key: SeatKey) -> tuple[int, int]:
    """Sort key of seats: Licensed first, then add-ons by kind and size."""
    kind, size = key
    return (_KIND_ORDER[kind], size or 0)

"""The license vocabulary: the single source of every name the product spec fixes.

License kinds and sizes, the English and Dutch words admins write in their files, the header
aliases, and the outcome, action and code names of the report (PRODUCT.md sections 1 and 3).
Every other module takes its names from here; nothing else spells them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    """What a request is about: the base user type or one of the three add-ons."""

    BASE = "base"
    LARGE_MEETING = "large_meeting"
    WEBINAR = "webinar"
    ZOOM_EVENTS = "zoom_events"


ADDONS: Final = (Kind.LARGE_MEETING, Kind.WEBINAR, Kind.ZOOM_EVENTS)


class UserType(StrEnum):
    """Zoom's user types as the report writes them."""

    BASIC = "Basic"
    LICENSED = "Licensed"
    ON_PREM = "On-prem"


# Zoom's numeric `type` of a user (zoom_api.md 3.1).
USER_TYPE_CODES: Final[dict[UserType, int]] = {
    UserType.BASIC: 1,
    UserType.LICENSED: 2,
    UserType.ON_PREM: 3,
}
USER_TYPE_BY_CODE: Final[dict[int, UserType]] = {v: k for k, v in USER_TYPE_CODES.items()}

# User types that may hold add-ons (help center: "they will need to be Licensed"; API: "Licensed
# or On-prem users").
PAID_TYPES: Final = frozenset({UserType.LICENSED, UserType.ON_PREM})

ADDON_NAMES: Final[dict[Kind, str]] = {
    Kind.LARGE_MEETING: "Large Meeting",
    Kind.WEBINAR: "Webinar",
    Kind.ZOOM_EVENTS: "Zoom Events",
}

ADDON_SIZES: Final[dict[Kind, tuple[int, ...]]] = {
    Kind.LARGE_MEETING: (500, 1000, 3000, 5000),
    Kind.WEBINAR: (100, 500, 1000, 3000, 5000, 10000, 20000, 30000, 40000, 50000),
    Kind.ZOOM_EVENTS: (500, 1000, 3000, 5000, 10000, 20000, 30000, 50000),
}


class Outcome(StrEnum):
    """What happened to one result line (PRODUCT.md section 3)."""

    VALID = "valid"
    PLANNED = "planned"
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    INVALID = "invalid"
    FAILED = "failed"
    SKIPPED = "skipped"


# Outcomes that make the exit code 1.
PROBLEM_OUTCOMES: Final = frozenset({Outcome.INVALID, Outcome.FAILED, Outcome.SKIPPED})


class Action(StrEnum):
    """What a result line does to the user's license."""

    ASSIGN = "assign"
    REMOVE = "remove"
    CHANGE = "change"
    NONE = "none"


class Code(StrEnum):
    """Why a line is invalid, failed or skipped (PRODUCT.md section 3)."""

    # file rules
    MISSING_EMAIL = "missing-email"
    INVALID_EMAIL = "invalid-email"
    UNKNOWN_LICENSE = "unknown-license"
    INVALID_SIZE = "invalid-size"
    NOT_STACKABLE = "not-stackable"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"
    MISSING_PREREQUISITE = "missing-prerequisite"
    # account rules
    USER_NOT_FOUND = "user-not-found"
    USER_NOT_ACTIVE = "user-not-active"
    SIZE_NOT_OWNED = "size-not-owned"
    SIZE_AMBIGUOUS = "size-ambiguous"
    NO_SEATS = "no-seats"
    ONPREM_UNAVAILABLE = "onprem-unavailable"
    # apply
    API_ERROR = "api-error"
    RATE_LIMITED = "rate-limited"
    TIMEOUT = "timeout"
    DEPENDENCY_FAILED = "dependency-failed"


class Mode(StrEnum):
    """`--mode`: apply only what the file says, or make the file the complete desired state."""

    APPLY = "apply"
    SYNC = "sync"


# Exit codes (PRODUCT.md section 2).
EXIT_OK: Final = 0
EXIT_ROWS: Final = 1
EXIT_INPUT: Final = 2
EXIT_ACCOUNT: Final = 3
EXIT_SAFETY: Final = 4
EXIT_INTERNAL: Final = 70  # a bug or the machine (disk full): one Error line, the log has more
EXIT_LOCKED: Final = 75
EXIT_SIGINT: Final = 130  # stopped by Ctrl-C (128 + SIGINT)
EXIT_SIGTERM: Final = 143  # stopped by SIGTERM (128 + SIGTERM)


# ---------------------------------------------------------------------------------------------
# Header aliases (matched case-insensitively, ignoring spaces, `_` and `-`).

FIELD_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "email": ("email", "e-mail", "email address", "e-mailadres", "user", "user email", "gebruiker"),
    "user_type": ("user type", "type", "gebruikerstype"),
    "large_meeting": ("large meeting", "grote vergadering"),
    "webinar": ("webinar", "webinars"),
    "zoom_events": ("zoom events", "events"),
    "license": ("license", "licence", "licentie"),
    "action": ("action", "actie"),
    "department": ("department", "dept", "afdeling"),
    "cost_center": ("cost center", "cost centre", "kostenplaats"),
    "first_name": ("first name", "voornaam"),
    "last_name": ("last name", "achternaam"),
}

# Fields that make a file "wide" (one row per user) and the one that makes it "long".
WIDE_FIELDS: Final = ("user_type", "large_meeting", "webinar", "zoom_events")
LONG_FIELD: Final = "license"


def header_key(text: str) -> str:
    """Fold a header for alias matching: case, spaces, `_` and `-` do not count."""
    return re.sub(r"[\s_\-]+", "", text.replace("\ufeff", "")).casefold()


HEADER_LOOKUP: Final[dict[str, str]] = {
    header_key(alias): field for field, aliases in FIELD_ALIASES.items() for alias in aliases
}


# ---------------------------------------------------------------------------------------------
# Cell words. Keys are folded with `word_key`.


def word_key(text: str) -> str:
    """Fold a cell word: trimmed (non-breaking spaces too), any case, inner spaces single."""
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


USER_TYPE_WORDS: Final[dict[str, UserType]] = {
    "basic": UserType.BASIC,
    "basis": UserType.BASIC,
    "1": UserType.BASIC,
    "licensed": UserType.LICENSED,
    "met licentie": UserType.LICENSED,
    "gelicentieerd": UserType.LICENSED,
    "2": UserType.LICENSED,
    "on-prem": UserType.ON_PREM,
    "on prem": UserType.ON_PREM,
    "onprem": UserType.ON_PREM,
    "3": UserType.ON_PREM,
}

YES_WORDS: Final = frozenset({"yes", "y", "x", "true", "ja", "j", "✓", "✔", "assign", "toewijzen"})
NO_WORDS: Final = frozenset({"no", "n", "none", "remove", "0", "nee", "verwijderen", "false"})

ACTION_WORDS: Final[dict[str, Action]] = {
    "assign": Action.ASSIGN,
    "add": Action.ASSIGN,
    "toewijzen": Action.ASSIGN,
    "remove": Action.REMOVE,
    "verwijderen": Action.REMOVE,
}

# Add-on names in the long layout's `license` column, English and Dutch, folded.
ADDON_WORDS: Final[dict[str, Kind]] = {
    "large meeting": Kind.LARGE_MEETING,
    "large meetings": Kind.LARGE_MEETING,
    "grote vergadering": Kind.LARGE_MEETING,
    "grote vergaderingen": Kind.LARGE_MEETING,
    "webinar": Kind.WEBINAR,
    "webinars": Kind.WEBINAR,
    "zoom events": Kind.ZOOM_EVENTS,
    "zoom event": Kind.ZOOM_EVENTS,
    "events": Kind.ZOOM_EVENTS,
}

_SIZE_RE: Final = re.compile(r"^\d{1,3}(?:([.,])\d{3})*$|^\d+(?:[.,]0+)?$")


def parse_size(text: str) -> int | None:
    """Read a size as admins write it: `1000`, `1.000`, `1,000`, `1000.0`, `1000,0` are 1000.

    Returns None when the text is not a whole, positive number.

    >>> parse_size("1.000"), parse_size("1000.0"), parse_size("abc")
    (1000, 1000, None)
    """
    t = text.replace("\u00a0", "").replace(" ", "").strip()
    if not t or not _SIZE_RE.match(t):
        return None
    if re.fullmatch(r"\d+[.,]0+", t) and not re.fullmatch(r"\d{1,3}[.,]000", t):
        # a decimal written by a spreadsheet: 1000.0 or 500,0
        t = re.split(r"[.,]", t)[0]
    digits = re.sub(r"[.,]", "", t)
    if len(digits) > 18:  # no size: too big for Int64 columns (and int() refuses 4,300+ digits)
        return None
    value = int(digits)
    return value if value > 0 else None


def parse_license_word(text: str) -> tuple[Kind, UserType | None, int | None] | None:
    """Read a long-layout `license` cell: a user type, or an add-on name with an optional size.

    Returns (kind, user type for the base kind, size or None), or None when not recognised.
    A size that is a number but not a known size is returned as is: the rules call it
    `invalid-size`.

    >>> parse_license_word("Webinar 1.000")
    (<Kind.WEBINAR: 'webinar'>, None, 1000)
    >>> parse_license_word("Met licentie")
    (<Kind.BASE: 'base'>, <UserType.LICENSED: 'Licensed'>, None)
    """
    key = word_key(text)
    if key in USER_TYPE_WORDS and not key.isdigit():
        return Kind.BASE, USER_TYPE_WORDS[key], None
    if key in ADDON_WORDS:
        return ADDON_WORDS[key], None, None
    match = re.fullmatch(r"(.*?)\s*([\d.,]+)", key)
    if match and match.group(1) in ADDON_WORDS:
        size = parse_size(match.group(2))
        if size is not None:
            return ADDON_WORDS[match.group(1)], None, size
    return None


def license_label(kind: Kind, user_type: UserType | None = None, size: int | None = None) -> str:
    """The report's `License` text: `Licensed`, `Webinar 1000`, or `Webinar` with no size."""
    if kind is Kind.BASE:
        return str(user_type) if user_type is not None else "User type"
    name = ADDON_NAMES[kind]
    return f"{name} {size}" if size is not None else name

"""The license vocabulary: the single source of every name the product spec fixes.

License kinds and sizes, the English and Dutch words admins write in their files, the header
aliases, and the outcome, action and code names of the report (README, "Input files" and
"Rules and outcomes").
Every other module takes its names from here; nothing else spells them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from rapidfuzz.distance import OSA


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


# Zoom's numeric `type` of a user (docs/zoom-api.md §3).
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
    """What happened to one result line (README, "Rules and outcomes")."""

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
    """Why a line is invalid, failed or skipped (README, "Rules and outcomes")."""

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


# Exit codes (README, "Exit codes").
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
    "email": (
        "email", "e-mail", "email address", "e-mail address", "e-mailadres", "emailadres",
        "mail", "user", "user email", "gebruiker",
    ),
    "user_type": ("user type", "type", "gebruikerstype"),
    "large_meeting": ("large meeting", "zoom large meeting", "grote vergadering",
                      "grote vergaderingen"),
    "webinar": ("webinar", "zoom webinar"),
    "zoom_events": ("zoom events", "events"),
    "license": ("license", "licence", "licentie"),
    "action": ("action", "actie"),
    "department": ("department", "dept", "afdeling"),
    "cost_center": ("cost center", "cost centre", "kostenplaats"),
    "first_name": ("first name", "voornaam"),
    "last_name": ("last name", "achternaam"),
}  # fmt: skip

# How each field's column is named in messages ("did you mean Webinar?").
FIELD_NAMES: Final[dict[str, str]] = {
    "email": "Email",
    "user_type": "User type",
    "large_meeting": "Large Meeting",
    "webinar": "Webinar",
    "zoom_events": "Zoom Events",
    "license": "License",
    "action": "Action",
    "department": "Department",
    "cost_center": "Cost center",
    "first_name": "First name",
    "last_name": "Last name",
}

# Fields that make a file "wide" (one row per user) and the one that makes it "long".
WIDE_FIELDS: Final = ("user_type", "large_meeting", "webinar", "zoom_events")
LONG_FIELD: Final = "license"

# A separate size column of an add-on: `webinar_capacity` (the Zoom API's own name), `Webinar
# size`, `Webinar grootte`; or a bare `Capacity`/`Size` column right after the add-on's column.
SIZE_WORDS: Final = ("capacity", "capaciteit", "size", "grootte")
SIZE_FIELDS: Final[dict[str, Kind]] = {
    f"{kind.value}_size": kind for kind in (Kind.LARGE_MEETING, Kind.WEBINAR, Kind.ZOOM_EVENTS)
}

# Header words that name our subject: a column holding one we do not recognise is refused
# rather than carried through (`Webniar`, `Webinar licences`, `Meeting size (old)`).
LICENSE_STEMS: Final = ("webinar", "webniar", "largemeeting", "event", "licen", "vergader")


def header_key(text: str) -> str:
    """Fold a header for alias matching: case, spaces, line breaks, `_`, `-`, `.` and a unit
    in brackets do not count (`Webinar (attendees)` and `WEBINAR` are both `webinar`)."""
    text = re.sub(r"[(\[][^)\]]*[)\]]", " ", text.replace("\ufeff", ""))
    return re.sub(r"[\s_\-.:*]+", "", text).casefold()


def _with_plurals(key: str) -> tuple[str, ...]:
    """A folded alias and its plural or singular (`webinar`/`webinars`, `events`/`event`)."""
    return (key, key[:-1]) if key.endswith("s") else (key, key + "s")


HEADER_LOOKUP: Final[dict[str, str]] = {
    variant: field
    for field, aliases in FIELD_ALIASES.items()
    for alias in aliases
    for variant in _with_plurals(header_key(alias))
}
_SIZE_KEYS: Final = tuple(header_key(word) for word in SIZE_WORDS)


def header_field(text: str) -> str | None:
    """The field a header names: a FIELD_ALIASES key, an add-on's size field (SIZE_FIELDS), or
    None for a column we do not know.

    >>> header_field("Large Meetings"), header_field("webinar_capacity"), header_field("Notes")
    ('large_meeting', 'webinar_size', None)
    """
    key = header_key(text)
    field = HEADER_LOOKUP.get(key)
    if field is None and key.startswith("zoom") and HEADER_LOOKUP.get(key[4:]) in WIDE_FIELDS:
        field = HEADER_LOOKUP[key[4:]]  # Zoom's product names: `Zoom Webinars`
    if field is not None:
        return field
    for suffix in _SIZE_KEYS:
        if key.endswith(suffix) and len(key) > len(suffix):
            addon = header_field(key[: -len(suffix)])
            if addon is not None and f"{addon}_size" in SIZE_FIELDS:
                return f"{addon}_size"
    return None


def is_bare_size(text: str) -> bool:
    """True for a header that is only a size word (`Capacity`, `Size`, `Grootte`)."""
    return header_key(text) in _SIZE_KEYS


# Headers this long or longer are near a known one a single edit away (difflib's ratio misses a
# swapped letter in a four-letter word: `ytpe` is 0.75 from `type`).
MIN_TYPO_LENGTH: Final = 4


# A header that begins with a license column's name this long (`usertype`, `webinar`) and goes
# on is near that column; a shorter one (`type`) only when what follows is not a word.
MIN_PREFIX_LENGTH: Final = 6


def near_field(text: str) -> str | None:
    """For a header we do not know: the column name it is close to, or None when it is not.

    Close means a small edit away from a known header (`Webniar`, `Emial`), beginning with a
    license column's name (`User type attendees)`), or holding a word of our subject
    (`Webinar licences`). Used to refuse, not to guess.

    >>> [near_field(h) for h in ("Webniar", "Webinar licences", "Notes", "yTpe")]
    ['Webinar', 'Webinar', None, 'User type']
    """
    key = header_key(text)
    if not key:
        return None
    close = difflib.get_close_matches(key, list(HEADER_LOOKUP), n=1, cutoff=0.8)
    if close:
        return FIELD_NAMES[HEADER_LOOKUP[close[0]]]
    if len(key) >= MIN_TYPO_LENGTH:  # short words: one letter dropped, doubled or swapped (`yTpe`)
        for known, field in HEADER_LOOKUP.items():
            if OSA.distance(key, known, score_cutoff=1) <= 1:
                return FIELD_NAMES[field]
    for known, field in HEADER_LOOKUP.items():  # a license header with more after it:
        # `User type attendees)`, `Type (500`, not `Typeahead`
        rest = key[len(known) :]
        if (
            field in (*WIDE_FIELDS, LONG_FIELD)
            and key.startswith(known)
            and (len(known) >= MIN_PREFIX_LENGTH or not rest.isalpha())
        ):
            return FIELD_NAMES[field]
    if any(stem in key for stem in LICENSE_STEMS):
        nearest = max(
            (f for f in (*WIDE_FIELDS, LONG_FIELD)),
            key=lambda f: difflib.SequenceMatcher(None, key, header_key(FIELD_NAMES[f])).ratio(),
        )
        return FIELD_NAMES[nearest]
    return None


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
    "pro": UserType.LICENSED,
    "corp": UserType.ON_PREM,
}
# Zoom's former names of the user types, read with a note in the result's Message.
LEGACY_TYPE_WORDS: Final = frozenset({"pro", "corp"})

# Wide add-on cells. Yes: assign. No: remove (the spec's no-words and the action words).
# Not asked: FALSE in the English, Dutch, German and French spellings Excel writes, and an
# unticked box; such a cell changes nothing (its line says so), see README "Decisions".
YES_WORDS: Final = frozenset(
    {"yes", "y", "x", "true", "waar", "wahr", "vrai", "1", "ja", "j", "oui", "✓", "✔", "☑",
     "✅", "assign", "add", "grant", "toewijzen", "toekennen"}
)  # fmt: skip
NO_WORDS: Final = frozenset(
    {"no", "n", "none", "remove", "0", "nee", "geen", "nein", "non", "verwijderen", "unassign",
     "revoke", "delete", "intrekken"}
)  # fmt: skip
NOT_ASKED_WORDS: Final = frozenset({"false", "onwaar", "falsch", "faux", "☐"})

ACTION_WORDS: Final[dict[str, Action]] = {
    **dict.fromkeys(("assign", "add", "grant", "toewijzen", "toekennen"), Action.ASSIGN),
    **dict.fromkeys(
        ("remove", "unassign", "revoke", "delete", "intrekken", "verwijderen"), Action.REMOVE
    ),
}

# Add-on names in cells (`Large Meetings 1000`, `Zoom Webinars 500`), English and Dutch, folded;
# a leading `zoom ` is dropped before looking a name up.
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
    "event": Kind.ZOOM_EVENTS,
}

# Units admins write after a size: `500 participants`, `1000 attendees`, `500 deelnemers`.
SIZE_UNITS: Final = frozenset(
    {"participant", "participants", "attendee", "attendees", "deelnemer", "deelnemers", "users",
     "seats", "people", "personen", "pax", "capacity"}
)  # fmt: skip
_PRODUCT_SIZE_RE: Final = re.compile(
    r"(?P<name>[^\d()\[\]]*?)\s*[(\[]?\s*(?P<size>\d[\d.,\u00a0 ]*?)\s*[)\]]?\s*(?P<unit>[a-z]*)"
)


def addon_word(text: str) -> Kind | None:
    """The add-on a folded name means (`zoom webinars` -> webinar), or None."""
    kind = ADDON_WORDS.get(text)
    if kind is None and text.startswith("zoom "):
        kind = ADDON_WORDS.get(text[5:])
    return kind


def product_size(key: str) -> tuple[Kind | None, int] | None:
    """A folded cell holding a size, with an add-on name, a unit, brackets or all of them.

    Returns (the add-on named or None, size); None when the cell is not a size so written.

    >>> product_size("zoom webinars 500"), product_size("1000 attendees"), product_size("x")
    ((<Kind.WEBINAR: 'webinar'>, 500), (None, 1000), None)
    """
    match = _PRODUCT_SIZE_RE.fullmatch(key)
    if match is None:
        return None
    name, unit = match.group("name").strip(), match.group("unit")
    if unit and unit not in SIZE_UNITS:
        return None
    kind = addon_word(name) if name else None
    if name and kind is None:
        return None
    size = parse_size(match.group("size"))
    return None if size is None else (kind, size)


# What an unknown word may have meant, per kind of cell: user types, add-on cell words, and
# (kind "") the long layout's license names.
SUGGESTIONS: Final[dict[str, tuple[str, ...]]] = {
    "base": ("Basic", "Licensed", "On-prem", "Basis", "Met licentie", "Gelicentieerd"),
    "addon": ("yes", "no", "remove", "TRUE", "FALSE", "ja", "nee", "verwijderen"),
    "": (
        "Basic", "Licensed", "On-prem", "Basis", "Met licentie", "Large Meeting", "Webinar",
        "Zoom Events", "Grote vergadering",
    ),
}  # fmt: skip
_NAME_AND_REST: Final = re.compile(r"(.*?[^\d\s.,()\[\]])?([\s\d.,()\[\]]*)")


def did_you_mean(text: str, kind: str) -> str:
    """` Did you mean Licensed?` for a word that was not understood, or "" when nothing is close.

    `kind` is the line's kind ("base", an add-on, or "" in the long layout); a size after the
    word is kept (`Webniar 500` -> `Webinar 500`).

    >>> did_you_mean("Licenced", "base"), did_you_mean("Webniar 500", "")
    (' Did you mean Licensed?', ' Did you mean Webinar 500?')
    """
    choices = SUGGESTIONS["addon" if kind in {k.value for k in ADDONS} else kind or ""]
    match = _NAME_AND_REST.fullmatch(text.strip())
    name, rest = (match.group(1) or "", match.group(2)) if match else (text.strip(), "")
    found = suggest(name, choices) if name else None
    return f" Did you mean {found}{rest.rstrip()}?" if found else ""


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a word that was not understood (`Licenced` -> `Licensed`)."""
    by_key = {word_key(c): c for c in choices}
    close = difflib.get_close_matches(word_key(word), list(by_key), n=1, cutoff=0.75)
    return by_key[close[0]] if close else None


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
    named = addon_word(key)
    if named is not None:
        return named, None, None
    found = product_size(key)
    if found is not None and found[0] is not None:
        return found[0], None, found[1]
    return None


def license_label(kind: Kind, user_type: UserType | None = None, size: int | None = None) -> str:
    """The report's `License` text: `Licensed`, `Webinar 1000`, or `Webinar` with no size."""
    if kind is Kind.BASE:
        return str(user_type) if user_type is not None else "User type"
    name = ADDON_NAMES[kind]
    return f"{name} {size}" if size is not None else name

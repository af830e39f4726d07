"""The sandbox account: the section-5 JSON model, its validation, seat counting and atomic saving.

    {"account": {"id", "plan", "on_prem_user_type"}, "plans": {"base": {"hosts"}, "<add-on>":
     {"<size>": seats}}, "users": [{"email", "type", "status", "<add-on>": size|null, ...}],
     "credentials"?: {...}, "limits"?: {...}}

Usage is counted from the users and kept up to date incrementally (every change goes through
`Account.set_type` / `Account.set_addon`). A user holding a license uses its seat whatever their
status: pending users holding a license count in `usage` (and in `pending`), deactivated ones
too. Unknown keys (of the file, the account and each user) are kept and written back.

`AccountFile` saves with group commit: a change waits until a flush that includes it has
completed (temp file + os.replace, so the file is always a whole, consistent account), but one
flush covers every change made while the previous one was being written.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from batch.errors import FileRefused
from batch.sandbox.schema import check_shape
from batch.vocabulary import ADDON_SIZES, ADDONS, PAID_TYPES, Kind, UserType

PLANS: Final = ("free", "pro", "business", "education", "enterprise")
STATUSES: Final = ("active", "pending", "inactive")
USER_KEYS: Final = (
    "id", "email", "first_name", "last_name", "dept", "cost_center", "type", "status",
    "large_meeting", "webinar", "zoom_events",
)  # fmt: skip
SeatKey = tuple[Kind, int | None]
BASE: Final[SeatKey] = (Kind.BASE, None)


def derived_id(email: str) -> str:
    """A stable Zoom-like user id (22 url-safe characters) for a user given without one."""
    digest = hashlib.sha256(email.lower().encode()).digest()
    return binascii.b2a_base64(digest, newline=False)[:22].translate(_URL_SAFE).decode()


_URL_SAFE: Final = bytes.maketrans(b"+/", b"-_")  # base64's url-safe alphabet


@dataclass(slots=True)
class User:
    """One user of the account; mutate it only through Account methods."""

    email: str
    id: str
    id_given: bool
    type: UserType
    status: str
    first_name: str = ""
    last_name: str = ""
    dept: str = ""
    cost_center: str | None = None
    large_meeting: int | None = None
    webinar: int | None = None
    zoom_events: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The lower-case email, the user's key."""
        return self.email.lower()

    @property
    def paid(self) -> bool:
        """True for Licensed and On-prem users (both use a base seat and may hold add-ons)."""
        return self.type in PAID_TYPES

    def addon(self, kind: Kind) -> int | None:
        """The held size of an add-on, or None."""
        value: int | None = getattr(self, kind.value)
        return value

    def held(self) -> list[SeatKey]:
        """The seats this user uses."""
        seats: list[SeatKey] = [BASE] if self.paid else []
        seats += [(kind, size) for kind in ADDONS if (size := self.addon(kind)) is not None]
        return seats

    def to_dict(self) -> dict[str, Any]:
        """The user in the section-5 JSON format."""
        data: dict[str, Any] = {"id": self.id} if self.id_given else {}
        data |= {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "dept": self.dept,
        }
        if self.cost_center is not None:
            data["cost_center"] = self.cost_center
        data |= {
            "type": str(self.type),
            "status": self.status,
            "large_meeting": self.large_meeting,
            "webinar": self.webinar,
            "zoom_events": self.zoom_events,
        }
        return data | self.extra


@dataclass
class Account:
    """The emulated account: plan, purchased seats and users, with usage counted from users."""

    id: str
    plan: str
    on_prem: bool
    purchased: dict[SeatKey, int]  # (Kind.BASE, None) -> hosts; (kind, size) -> add-on seats
    users: list[User]
    credentials: dict[str, str] | None = None
    limits: dict[str, Any] | None = None
    extra_account: dict[str, Any] = field(default_factory=dict)
    extra_top: dict[str, Any] = field(default_factory=dict)
    by_key: dict[str, User] = field(default_factory=dict)
    by_id: dict[str, User] = field(default_factory=dict)
    usage: Counter[SeatKey] = field(default_factory=Counter)
    pending: Counter[SeatKey] = field(default_factory=Counter)
    # each user's JSON line, made on the first save and kept current by the set_* methods
    # from then on, so saving is one join (an account only read never makes them)
    _lines: list[bytes] | None = None
    _positions: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_key = {user.key: user for user in self.users}
        self.by_id = {user.id: user for user in self.users}
        self._positions = {user.key: i for i, user in enumerate(self.users)}
        for user in self.users:
            if user.type in PAID_TYPES or user.large_meeting or user.webinar or user.zoom_events:
                self._count(user, +1)  # (a Basic user without add-ons holds no seat)

    def _changed(self, user: User) -> None:
        if self._lines is not None:
            self._lines[self._positions[user.key]] = orjson.dumps(user.to_dict())

    def _count(self, user: User, sign: int) -> None:
        for seat in user.held():
            self.usage[seat] += sign
            if user.status == "pending":
                self.pending[seat] += sign

    def find(self, user_id: str) -> User | None:
        """A user by id or by email (case-insensitive), or None."""
        return self.by_id.get(user_id) or self.by_key.get(user_id.lower())

    def owns(self, kind: Kind, size: int | None) -> bool:
        """True when the account has a plan of that license and size."""
        return (kind, size) in self.purchased

    def free(self, seat: SeatKey) -> int:
        """Seats of that license and size that can still be granted (hosts - usage)."""
        return max(self.purchased.get(seat, 0) - self.usage[seat], 0)

    def set_type(self, user: User, new: UserType) -> list[tuple[str, object, object]]:
        """Change a user's type; Basic drops the add-ons. Returns (field, old, new) changes."""
        changes: list[tuple[str, object, object]] = []
        self._count(user, -1)
        if new is UserType.BASIC:
            for kind in ADDONS:
                if (old_size := user.addon(kind)) is not None:
                    setattr(user, kind.value, None)
                    changes.append((kind.value, old_size, None))
        if user.type is not new:
            changes.insert(0, ("type", str(user.type), str(new)))
            user.type = new
        self._count(user, +1)
        self._changed(user)
        return changes

    def set_addon(self, user: User, kind: Kind, size: int | None) -> tuple[str, object, object]:
        """Give, resize or remove a user's add-on; returns the (field, old, new) change."""
        old = user.addon(kind)
        self._count(user, -1)
        setattr(user, kind.value, size)
        self._count(user, +1)
        self._changed(user)
        return (kind.value, old, size)

    def set_profile(self, user: User, name: str, value: str) -> tuple[str, object, object]:
        """Change a profile field (first_name, last_name, dept, cost_center)."""
        old = getattr(user, name)
        setattr(user, name, value)
        self._changed(user)
        return (name, old, value)

    def to_dict(self) -> dict[str, Any]:
        """The account in the section-5 JSON format."""
        return orjson.loads(self.to_json())  # type: ignore[no-any-return]  # a JSON object

    def head(self) -> dict[str, Any]:
        """The account in the section-5 JSON format without its users."""
        plans: dict[str, Any] = {"base": {"hosts": self.purchased.get(BASE, 0)}}
        for kind in ADDONS:
            sizes = sorted(s for (k, s) in self.purchased if k is kind and s is not None)
            if sizes:
                plans[kind.value] = {str(s): self.purchased[(kind, s)] for s in sizes}
        head: dict[str, Any] = {
            "account": {"id": self.id, "plan": self.plan, "on_prem_user_type": self.on_prem}
            | self.extra_account,
            "plans": plans,
        }
        if self.credentials is not None:
            head["credentials"] = self.credentials
        if self.limits is not None:
            head["limits"] = self.limits
        return head | self.extra_top

    def to_json(self) -> bytes:
        """The whole account as JSON bytes: readable head, one line per user."""
        head = orjson.dumps(self.head(), option=orjson.OPT_INDENT_2)[:-2]
        if self._lines is None:
            self._lines = [orjson.dumps(user.to_dict()) for user in self.users]
        if not self._lines:
            return head + b',\n  "users": []\n}\n'
        users = b",\n    ".join(self._lines)
        return b"".join((head, b',\n  "users": [\n    ', users, b"\n  ]\n}\n"))


# ---------------------------------------------------------------------------------------------
# Loading and validation


class _Invalid(Exception):
    """A reason the account data cannot be used."""


def _int(value: object, where: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _Invalid(f"{where} must be a whole number >= {minimum}, not {value!r}")
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{where} must be text, not {value!r}")
    return value


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"{where} must be a JSON object")
    return value


def _parse_plans(data: dict[str, Any]) -> dict[SeatKey, int]:
    plans = _object(data.get("plans", {}), "plans")
    base = _object(plans.get("base", {}), "plans.base")
    purchased: dict[SeatKey, int] = {BASE: _int(base.get("hosts", 0), "plans.base.hosts")}
    for name, sizes in plans.items():
        if name == "base":
            continue
        if name not in {k.value for k in ADDONS}:
            raise _Invalid(f"plans.{name}: unknown license (use base, {', '.join(ADDONS)})")
        kind = Kind(name)
        for size_text, seats in _object(sizes, f"plans.{name}").items():
            size = int(size_text) if size_text.isdigit() else -1
            if size not in ADDON_SIZES[kind]:
                raise _Invalid(f"plans.{name}: {size_text!r} is not a size of {name}")
            purchased[(kind, size)] = _int(seats, f"plans.{name}.{size_text}")
    return purchased


_TYPES: Final = {str(t): t for t in UserType}
_USER_KEYS: Final = frozenset(USER_KEYS)
_TEXTS: Final = ("first_name", "last_name", "dept")


def _parse_user(index: int, data: object) -> User:
    """One user of the file. Every check is a plain comparison and the messages are made only
    for a user that fails one: 100k users parse in a few tenths of a second."""
    if type(data) is not dict:
        raise _Invalid(f"users[{index}] must be a JSON object")
    item: dict[str, Any] = data
    email = item.get("email")
    if type(email) is not str:
        raise _Invalid(f"users[{index}].email must be text, not {email!r}")
    email = email.strip()
    if "@" not in email:
        raise _Invalid(f"users[{index}].email: {email!r} is not an email address")
    type_text = item.get("type", "Basic")
    user_type = _TYPES.get(type_text) if type(type_text) is str else None
    if user_type is None:
        raise _Invalid(f"user {email}: type {type_text!r} is not Basic, Licensed or On-prem")
    status = item.get("status", "active")
    if status not in STATUSES:
        raise _Invalid(f"user {email}: status {status!r} is not active, pending or inactive")
    large_meeting = item.get("large_meeting")
    webinar = item.get("webinar")
    zoom_events = item.get("zoom_events")
    if large_meeting is not None or webinar is not None or zoom_events is not None:
        _check_sizes(email, user_type, large_meeting, webinar, zoom_events)
    given_id = item.get("id")
    cost_center = item.get("cost_center")
    first_name = item.get("first_name", "")
    last_name = item.get("last_name", "")
    dept = item.get("dept", "")
    if (
        type(first_name) is not str
        or type(last_name) is not str
        or type(dept) is not str
        or (given_id is not None and type(given_id) is not str)
        or (cost_center is not None and type(cost_center) is not str)
    ):
        for name in ("id", *_TEXTS, "cost_center"):
            value = item.get(name, "")
            if value is not None or name in _TEXTS:
                _str(value, f"user {email}.{name}")
    return User(
        email=email,
        id=given_id if given_id is not None else derived_id(email),
        id_given=given_id is not None,
        type=user_type,
        status=status,
        first_name=first_name,
        last_name=last_name,
        dept=dept,
        cost_center=cost_center,
        large_meeting=large_meeting,
        webinar=webinar,
        zoom_events=zoom_events,
        extra={} if item.keys() <= _USER_KEYS else _extra(item),
    )


def _extra(item: dict[str, Any]) -> dict[str, Any]:
    """A user's keys the sandbox does not know, kept to be written back."""
    return {k: v for k, v in item.items() if k not in _USER_KEYS}


def _check_sizes(email: str, user_type: UserType, *sizes: object) -> None:
    """The add-on sizes a user holds: each a size of its add-on, held by a paid user only."""
    for kind, size in zip(ADDONS, sizes, strict=True):
        if size is not None and (type(size) is not int or size not in ADDON_SIZES[kind]):
            raise _Invalid(f"user {email}: {kind.value} {size!r} is not a size of {kind.value}")
        if size is not None and user_type not in PAID_TYPES:
            raise _Invalid(f"user {email}: a {user_type} user cannot hold {kind.value}")


def _parse_limits(value: object) -> dict[str, Any]:
    limits = _object(value, "limits")
    for name, number in limits.items():
        if name == "daily":
            for category, daily in _object(number, "limits.daily").items():
                if category not in ("light", "medium", "heavy"):
                    raise _Invalid(f"limits.daily.{category}: use light, medium or heavy")
                _int(daily, f"limits.daily.{category}", minimum=1)
        elif name in ("light", "medium", "heavy"):
            _int(number, f"limits.{name}", minimum=1)
        else:
            raise _Invalid(f"limits.{name}: use light, medium, heavy or daily")
    return limits


def parse_account(data: object, source: str) -> Account:
    """Validate section-5 JSON data into an Account; raises FileRefused(source, reason).

    A part of the wrong JSON type is named by `check_shape` (`users: must be a list, not
    null`) before any value is judged. The shape check costs more than the parse itself on a
    large account, so it runs only when the parse fails: the parse refuses everything the
    shape check would (tests/test_sandbox_shape.py holds the two to that), and the shape
    check then says whether the fault is one of shape.
    """
    try:
        return _parse(data)
    except (_Invalid, TypeError) as reason:
        wrong_shape = check_shape(data)
        if wrong_shape is not None:
            raise FileRefused(source, wrong_shape) from None
        if isinstance(reason, TypeError):
            raise
        raise FileRefused(source, str(reason)) from None


def _parse(data: object) -> Account:
    top = _object(data, "the account file")
    head = _object(top.get("account"), "account")
    plan = head.get("plan", "business")
    if plan not in PLANS:
        raise _Invalid(f"account.plan {plan!r} is not one of {', '.join(PLANS)}")
    on_prem = head.get("on_prem_user_type", False)
    if not isinstance(on_prem, bool):
        raise _Invalid("account.on_prem_user_type must be true or false")
    listed = top.get("users", [])
    if type(listed) is not list:
        raise _Invalid("users must be a list")
    users = [_parse_user(i, u) for i, u in enumerate(listed)]
    emails: set[str] = set()
    ids: set[str] = set()
    for user in users:
        key = user.email.lower()
        if key in emails or user.id in ids:
            raise _Invalid(f"user {user.email}: appears twice (same email or id)")
        emails.add(key)
        ids.add(user.id)
    credentials = top.get("credentials")
    if credentials is not None:
        credentials = _object(credentials, "credentials")
        for name in ("account_id", "client_id", "client_secret"):
            _str(credentials.get(name), f"credentials.{name}")
    return Account(
        id=_str(head.get("id", "sandbox"), "account.id"),
        plan=plan,
        on_prem=on_prem,
        purchased=_parse_plans(top),
        users=users,
        credentials=credentials,
        limits=_parse_limits(top["limits"]) if "limits" in top else None,
        extra_account={
            k: v for k, v in head.items() if k not in ("id", "plan", "on_prem_user_type")
        },
        extra_top={
            k: v
            for k, v in top.items()
            if k not in ("account", "plans", "users", "credentials", "limits")
        },
    )


def read_account(path: Path) -> Account:
    """Load and validate an account file; raises FileRefused(path, reason)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileRefused(str(path), "no such file") from None
    except OSError as error:
        raise FileRefused(str(path), error.strerror or str(error)) from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise FileRefused(str(path), f"not valid JSON ({error})") from None
    return parse_account(data, str(path))


def write_atomically(path: Path, content: bytes) -> None:
    """Replace the file's content in one step: a reader sees the old or the new file, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class NotSaved(OSError):
    """A change that could not be saved to the account file; it was undone in memory too."""


# How long a flush waits for concurrent requests to bring their changes along (group commit).
GROUP_WINDOW_S: Final = 0.004


class AccountFile:
    """Group-committed, atomic saving of an account to its JSON file.

    `committed(version)` blocks until a flush including that change has reached the file. One
    writer at a time: when other requests are in flight (`busy() > 1`) it first waits a few
    milliseconds so their changes join this flush, then serialises the whole account (via
    `snapshot`, under the state lock), writes it outside the lock, and wakes every change that
    flush covered. A lone client pays no window.

    A flush that fails (full disk) calls `restore(saved)` with the content of the last good
    flush, which puts the account in memory back to it and returns the newest version it
    undid; every change up to that version then raises `NotSaved` from `committed`, so each of
    their requests answers an error and the file and the memory never disagree.
    """

    def __init__(
        self,
        path: Path,
        snapshot: Callable[[], tuple[int, bytes]],
        busy: Callable[[], int] = lambda: 1,
        window_s: float = GROUP_WINDOW_S,
        restore: Callable[[bytes], int] | None = None,
    ) -> None:
        self.path = path
        self._snapshot = snapshot
        self._busy = busy
        self._window_s = window_s
        self._restore = restore
        self._cond = threading.Condition()
        self._flushed = 0
        self._undone = 0  # changes up to this version were rolled back: never saved
        self._saved: bytes | None = None  # the last content written; None: the file as loaded
        self._writing = False
        self.flushes = 0

    def committed(self, version: int) -> None:
        """Return once the file holds the account as of `version` (or later); raises NotSaved
        when that change was undone because a flush failed."""
        while True:
            with self._cond:
                while self._flushed < version and self._writing:
                    self._cond.wait()
                if self._flushed >= version:
                    return
                if version <= self._undone:
                    raise NotSaved(f"{self.path}: the change could not be saved and was undone")
                self._writing = True
                if self._busy() > 1:
                    self._cond.wait(self._window_s)  # let concurrent changes join this flush
            done = 0
            undone = 0
            try:
                snapshot_version, content = self._snapshot()
                write_atomically(self.path, content)
                done = snapshot_version
                self._saved = content if self._restore is not None else None
            except OSError:
                if self._restore is None:
                    raise
                saved = self._saved if self._saved is not None else self.path.read_bytes()
                undone = self._restore(saved)
            finally:
                with self._cond:
                    self._writing = False
                    self._flushed = max(self._flushed, done)
                    self._undone = max(self._undone, undone)
                    self.flushes += 1
                    self._cond.notify_all()

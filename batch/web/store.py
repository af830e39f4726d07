"""The web app's own SQLite file beside the journal: users, API tokens and the web's runs.

    users   name, role (admin|viewer), argon2 hash of the password
    tokens  SHA-256 of each API token (the token itself is shown once and never stored), its user
    runs    one line per upload: who, from where, the stored file, options, status, counts,
            the plan report and, once applied, the journal's run id and the final report

The journal stays the one history of applies (CLI, cron and web); this file only adds what the
journal does not know (who started a web run, its previews and refusals).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

Role = Literal["admin", "viewer"]
ROLES: Final = ("admin", "viewer")
STORE_FILE_NAME: Final = "web.sqlite"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS users (
    name     TEXT PRIMARY KEY,
    role     TEXT NOT NULL,
    password TEXT NOT NULL,
    created  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    digest  TEXT PRIMARY KEY,
    name    TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id             TEXT PRIMARY KEY,
    user           TEXT NOT NULL,
    address        TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    upload         TEXT NOT NULL,
    options        TEXT NOT NULL,
    status         TEXT NOT NULL,
    counts         TEXT NOT NULL DEFAULT '{}',
    exit_code      INTEGER,
    message        TEXT NOT NULL DEFAULT '',
    plan_report    TEXT,
    report         TEXT,
    journal_run_id INTEGER,
    created        TEXT NOT NULL,
    updated        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_journal ON runs (journal_run_id);
"""

_hasher = PasswordHasher()


def now() -> str:
    """UTC now, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def token_digest(token: str) -> str:
    """What the store keeps of an API token: its SHA-256 (a token is random, no salt needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    """A signed-in person or script."""

    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        """Admins upload, plan, apply and cancel; viewers only read."""
        return self.role == "admin"


class Store:
    """The web app's SQLite file; one connection shared by threads under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            yield self._db

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._db.execute(sql, args)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- users ----------------------------------------------------------------------------------

    def add_user(self, name: str, role: Role, password: str) -> None:
        """Add a user (ValueError when the name is taken or the role unknown)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        hashed = _hasher.hash(password)
        try:
            with self._tx() as db:
                db.execute(
                    "INSERT INTO users (name, role, password, created) VALUES (?,?,?,?)",
                    (name, role, hashed, now()),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"user {name} already exists") from None

    def remove_user(self, name: str) -> bool:
        """Remove a user and their tokens; False when there was none."""
        with self._tx() as db:
            db.execute("DELETE FROM tokens WHERE name=?", (name,))
            return db.execute("DELETE FROM users WHERE name=?", (name,)).rowcount > 0

    def users(self) -> list[User]:
        """Every user, by name."""
        rows = self._rows("SELECT name, role FROM users ORDER BY name")
        return [User(r["name"], r["role"]) for r in rows]

    def user(self, name: str) -> User | None:
        """One user, or None."""
        rows = self._rows("SELECT name, role FROM users WHERE name=?", (name,))
        return User(rows[0]["name"], rows[0]["role"]) if rows else None

    def check_password(self, name: str, password: str) -> User | None:
        """The user when the password is theirs, else None (the same work either way)."""
        rows = self._rows("SELECT name, role, password FROM users WHERE name=?", (name,))
        stored = rows[0]["password"] if rows else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(rows[0]["name"], rows[0]["role"]) if rows else None

    def new_token(self, name: str) -> str:
        """A new API token for a user (KeyError when there is no such user)."""
        if self.user(name) is None:
            raise KeyError(name)
        token = secrets.token_urlsafe(32)
        with self._tx() as db:
            db.execute(
                "INSERT INTO tokens (digest, name, created) VALUES (?,?,?)",
                (token_digest(token), name, now()),
            )
        return token

    def token_user(self, token: str) -> User | None:
        """The user a token belongs to, or None."""
        rows = self._rows(
            "SELECT users.name, users.role FROM tokens JOIN users USING (name) WHERE digest=?",
            (token_digest(token),),
        )
        return User(rows[0]["name"], rows[0]["role"]) if rows else None

    # -- runs -----------------------------------------------------------------------------------

    def add_run(self, run_id: str, **fields: Any) -> None:
        """Record a new web run."""
        fields = {**fields, "id": run_id, "created": now(), "updated": now()}
        for key in ("options", "counts"):
            if key in fields:
                fields[key] = orjson.dumps(fields[key]).decode()
        names = ",".join(fields)
        with self._tx() as db:
            db.execute(
                f"INSERT INTO runs ({names}) VALUES ({','.join('?' * len(fields))})",
                tuple(fields.values()),
            )

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Change some fields of a web run."""
        if "counts" in fields:
            fields["counts"] = orjson.dumps(fields["counts"]).decode()
        fields["updated"] = now()
        sets = ",".join(f"{name}=?" for name in fields)
        with self._tx() as db:
            db.execute(f"UPDATE runs SET {sets} WHERE id=?", (*fields.values(), run_id))

    def stop_unfinished(self) -> None:
        """Runs a stopped server left queued or applying are `stopped` (Resume goes on)."""
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status='stopped', message=?, updated=?"
                " WHERE status IN ('queued', 'applying')",
                ("the server stopped during the run", now()),
            )
            db.execute(
                "UPDATE runs SET status='refused', message=?, updated=? WHERE status='planning'",
                ("the server stopped while planning: upload the file again", now()),
            )

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One web run, or None."""
        rows = self._rows("SELECT * FROM runs WHERE id=?", (run_id,))
        return _decoded(rows[0]) if rows else None

    def runs(self, limit: int = 500) -> list[dict[str, Any]]:
        """Web runs, newest first."""
        rows = self._rows("SELECT * FROM runs ORDER BY created DESC, rowid DESC LIMIT ?", (limit,))
        return [_decoded(r) for r in rows]

    def by_journal_run(self) -> dict[int, dict[str, Any]]:
        """Web runs that were applied, by their journal run id."""
        rows = self._rows("SELECT * FROM runs WHERE journal_run_id IS NOT NULL")
        return {r["journal_run_id"]: _decoded(r) for r in rows}


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "options": orjson.loads(row["options"]), "counts": orjson.loads(row["counts"])}


_DUMMY_HASH: Final = _hasher.hash("no such user")

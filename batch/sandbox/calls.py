"""What every emulated endpoint works with: the call, its result, Zoom's error envelope.

A handler is `Handler = Callable[[State, Call], Result]`: it reads and changes `State` (the
account and the emulator's own bookkeeping) and answers with a `Result`, or raises `ZoomError`
for an answer in Zoom's `{"code": ..., "message": ...}` envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import orjson

from batch.sandbox.account import Account, User

JSON_TYPE: Final = "application/json;charset=UTF-8"
FIXED_TIME: Final = "2024-01-15T09:00:00Z"
Change = tuple[str, str, object, object]  # (email, field, before, after)


class ZoomError(Exception):
    """An error answer in Zoom's envelope: {"code": ..., "message": ...}."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"code": code, "message": message} | extra


def invalid_field(name: str) -> ZoomError:
    """Zoom's 400 300 "Validation Failed." naming one field."""
    return ZoomError(
        400, 300, "Validation Failed.", errors=[{"field": name, "message": "Invalid field."}]
    )


def json_response(
    status: int, payload: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    """A response with a JSON body, as Zoom sends it."""
    return httpx.Response(
        status,
        content=orjson.dumps(payload),
        headers={"Content-Type": JSON_TYPE} | (headers or {}),
    )


@dataclass(frozen=True)
class Page:
    """Where a next_page_token of GET /users goes on, and until when it is valid."""

    status: str
    size: int
    offset: int
    expires_at: float


@dataclass
class State:
    """The emulated account and what the emulator keeps beside it; guarded by the sandbox lock."""

    account: Account
    clock: Callable[[], float]
    version: int = 0  # one more after every request that changed the account
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry (clock)
    pages: dict[str, Page] = field(default_factory=dict)  # next_page_token -> where it goes on
    by_status: dict[str, tuple[int, list[User]]] = field(default_factory=dict)  # users cache

    def find(self, user_id: str) -> User:
        """The user with this id or email, or Zoom's 404 1001."""
        user = self.account.find(user_id)
        if user is None:
            raise ZoomError(404, 1001, f"User does not exist: {user_id}.")
        return user

    def forget_views(self) -> None:
        """Drop what was derived from the account (it was replaced by the saved one)."""
        self.by_status.clear()
        self.pages.clear()


@dataclass(frozen=True)
class Call:
    """One request to an emulated endpoint: the request, its path parameters, its JSON body."""

    request: httpx.Request
    params: dict[str, str]
    body: dict[str, Any] | None  # PATCH and POST only


@dataclass
class Result:
    """A handler's answer: status, JSON payload (None: no body) and the changes it made."""

    status: int
    payload: Any = None
    changes: list[Change] = field(default_factory=list)


Handler = Callable[[State, Call], Result]

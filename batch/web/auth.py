"""Who is asking: a signed session cookie (pages) or a bearer token (the API); and CSRF.

The session cookie is Starlette's SessionMiddleware (signed with itsdangerous, HttpOnly,
SameSite=Lax, Secure behind HTTPS). It holds the user name, the time of the last request (the
idle timeout) and a random CSRF token that every form sends back as `csrf_token`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict
from typing import Annotated, Final

from fastapi import Depends, Form, HTTPException, Request

from batch.web.store import Store, User

SESSION_USER: Final = "user"
SESSION_SEEN: Final = "seen"
SESSION_CSRF: Final = "csrf"
MAX_DELAY_S: Final = 5.0


class SignedOut(Exception):
    """A page asked for by nobody signed in: answered with a redirect to the sign-in page."""


class Throttle:
    """Failed sign-ins slow down the next attempts for that name and that address."""

    def __init__(self, base_delay_s: float = 0.25) -> None:
        self.base_delay_s = base_delay_s
        self._failures: dict[str, int] = defaultdict(int)

    def delay(self, name: str, address: str) -> float:
        """Seconds to wait before checking this attempt: doubling per earlier failure."""
        failures = max(self._failures[f"n:{name}"], self._failures[f"a:{address}"])
        return 0.0 if not failures else min(self.base_delay_s * 2 ** (failures - 1), MAX_DELAY_S)

    async def wait(self, name: str, address: str) -> None:
        """Sleep the delay this attempt has earned."""
        seconds = self.delay(name, address)
        if seconds:
            await asyncio.sleep(seconds)

    def failed(self, name: str, address: str) -> None:
        """Count a failure against the name and the address."""
        self._failures[f"n:{name}"] += 1
        self._failures[f"a:{address}"] += 1

    def succeeded(self, name: str, address: str) -> None:
        """A good sign-in clears the name's and the address's count."""
        self._failures.pop(f"n:{name}", None)
        self._failures.pop(f"a:{address}", None)


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (the proxy's, behind one)."""
    return request.client.host if request.client else "unknown"


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for a user (a new CSRF token too)."""
    request.session.clear()
    request.session[SESSION_USER] = user.name
    request.session[SESSION_SEEN] = int(time.time())
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    """The session's CSRF token for a form (made when the session has none)."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def session_user(request: Request) -> User | None:
    """The signed-in user of the session cookie, None when absent, removed or idle too long."""
    store: Store = request.app.state.store
    name = request.session.get(SESSION_USER)
    if not isinstance(name, str):
        return None
    idle_s = request.app.state.idle_timeout_s
    seen = request.session.get(SESSION_SEEN, 0)
    now = int(time.time())
    if not isinstance(seen, int) or now - seen > idle_s:
        request.session.clear()
        return None
    user = store.user(name)
    if user is None:
        request.session.clear()
        return None
    request.session[SESSION_SEEN] = now
    return user


def page_user(request: Request) -> User:
    """Dependency of every page: the signed-in user, else a redirect to the sign-in page."""
    user = session_user(request)
    if user is None:
        raise SignedOut
    return user


def page_admin(user: Annotated[User, Depends(page_user)]) -> User:
    """Dependency of a page that writes: an admin."""
    if not user.is_admin:
        raise HTTPException(403)
    return user


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Dependency of every form POST: the form's token must be the session's."""
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not secrets.compare_digest(expected, csrf_token):
        raise HTTPException(403, detail="csrf")


def api_user(request: Request) -> User:
    """Dependency of the API: `Authorization: Bearer TOKEN` (401 without a good one)."""
    store: Store = request.app.state.store
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = store.token_user(token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        raise HTTPException(
            401,
            detail="a valid API token is needed (Authorization: Bearer)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def api_admin(user: Annotated[User, Depends(api_user)]) -> User:
    """Dependency of an API write: an admin's token (403 for a viewer's)."""
    if not user.is_admin:
        raise HTTPException(403, detail="a viewer cannot change anything")
    return user

"""Helpers of the web tests: an app on a copy of the demo account, signed-in test clients.

site = Site.make(tmp_path)           app + TestClient on tmp_path (account.json, .batch/)
admin = site.client("ann", "admin")  a client signed in as a new admin
run_id = upload(admin, SAMPLES / "users-wide-en.csv")
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from batch.sandbox import DEMO_ACCOUNT
from batch.settings import Limits, Settings
from batch.web import store as web_store
from batch.web.app import create_app

SAMPLES: Final = DEMO_ACCOUNT.parent
HOSTILE: Final = Path(__file__).parent / "hostile"
PASSWORD: Final = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# The test users' passwords are hashed at argon2's lowest cost (as Django's test settings swap
# in a fast hasher): a new user or a sign-in then costs about a millisecond instead of ~0.25 s.
# The app keeps argon2-cffi's defaults; a hash names its own parameters, so both verify.
web_store._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def settings_for(root: Path, **changes: Any) -> Settings:
    """Settings of a sandbox run whose files all live under `root`."""
    account = root / "account.json"
    root.mkdir(parents=True, exist_ok=True)
    if not account.exists():
        shutil.copy(DEMO_ACCOUNT, account)
    return Settings(
        sandbox_path=account,
        journal_path=root / ".batch" / "journal.sqlite",
        reports_dir=root / "reports",
        **changes,
    )


@dataclass
class Site:
    """A web app on its own account copy, and the way to sign in to it."""

    root: Path
    settings: Settings
    app: FastAPI

    @classmethod
    def make(cls, root: Path, max_file_bytes: int | None = None) -> Site:
        """An app whose account, journal and reports are under `root`."""
        limits = Limits(max_file_bytes=max_file_bytes) if max_file_bytes else Limits()
        settings = settings_for(root, limits=limits)
        return cls(root, settings, create_app(settings, signin_delay_s=0.0))

    def add_user(self, name: str, role: str) -> None:
        """A user with the test password."""
        self.app.state.store.add_user(name, role, PASSWORD)

    def client(self, name: str, role: str) -> TestClient:
        """A new user, signed in on a fresh client."""
        self.add_user(name, role)
        client = TestClient(self.app)
        page = client.get("/signin")
        answer = client.post(
            "/signin",
            data={"username": name, "password": PASSWORD, "csrf_token": csrf(page.text)},
        )
        assert answer.status_code == 200, answer.text
        return client

    def token(self, name: str, role: str) -> str:
        """A new user's API token."""
        self.add_user(name, role)
        token: str = self.app.state.store.new_token(name)
        return token

    def account(self) -> dict[str, Any]:
        """The sandbox account's JSON now."""
        data: dict[str, Any] = json.loads((self.root / "account.json").read_text())
        return data

    def set_user_type(self, email: str, user_type: str) -> None:
        """Change one user of the account behind the app's back (as another admin would)."""
        data = self.account()
        for user in data["users"]:
            if user["email"] == email:
                user["type"] = user_type
        (self.root / "account.json").write_text(json.dumps(data))


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def upload(client: TestClient, path: Path, **fields: str) -> str:
    """Upload a file through the form; the run id of the page it leads to."""
    token = csrf(client.get("/").text)
    with path.open("rb") as stream:
        answer = client.post(
            "/upload",
            data={"csrf_token": token, "mode": "apply", **fields},
            files={"file": (path.name, stream)},
        )
    assert answer.status_code == 200, answer.text
    return str(answer.url).rsplit("/", 1)[-1]


def page_counts(html: str) -> dict[str, int]:
    """The outcome counts a preview or run page shows."""
    found = re.findall(r'data-outcome="(\w+)"><dt>\w+</dt><dd>(\d+)</dd>', html)
    return {name: int(n) for name, n in found}


def wait_for_end(client: TestClient, run_id: str, timeout_s: float = 60) -> dict[str, Any]:
    """Poll a run's progress until it is no longer queued or applying."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get(f"/runs/{run_id}/progress").json()
        if state["status"] not in ("queued", "applying"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not end in {timeout_s} s")

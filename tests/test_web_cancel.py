"""Cancel during a web apply: the requests in flight finish, nothing new is sent, and the run
resumes from its page; over both, every planned change reaches the account exactly once.

The account is served over 127.0.0.1 with latency, so the apply is slow enough to cancel part way.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from fastapi.testclient import TestClient

from batch.sandbox import Faults, Sandbox, serve
from batch.settings import Settings
from batch.web.app import create_app
from tests.web_support import PASSWORD, csrf, upload, wait_for_end

USERS = 120  # upgrades to send: long enough at the sandbox's pace to be cancelled part way


def _account(root: Path) -> tuple[Path, Path]:
    """An account of USERS Basic users with a seat each, and a file making them all Licensed."""
    users = [
        {"email": f"user{i:03d}@example.com", "first_name": "U", "last_name": str(i),
         "dept": "Sales", "type": "Basic", "status": "active",
         "large_meeting": None, "webinar": None, "zoom_events": None}
        for i in range(USERS)
    ]  # fmt: skip
    account = root / "account.json"
    account.write_text(json.dumps({
        "account": {"id": "cancel", "plan": "business", "on_prem_user_type": False},
        "plans": {"base": {"hosts": USERS}, "large_meeting": {}, "webinar": {},
                  "zoom_events": {}},
        "users": users,
    }))  # fmt: skip
    source = root / "upgrade.csv"
    source.write_text("Email,User type\n" + "".join(f"{u['email']},Licensed\n" for u in users))
    return account, source


def _licensed(sandbox: Sandbox) -> int:
    return sum(u["type"] == "Licensed" for u in sandbox.to_dict()["users"])


def _writes(sandbox: Sandbox) -> int:
    """Requests that could change the account (PATCH)."""
    return sum(n for (method, _), n in sandbox.stats.requests.items() if method == "PATCH")


def _journal_runs(journal: Path) -> list[tuple[str, str, int]]:
    """Each journal run's command, status and ops answered `applied`."""
    with sqlite3.connect(journal) as db:
        return list(
            db.execute(
                "SELECT command, status, (SELECT count(*) FROM ops WHERE ops.run_id ="
                " runs.run_id AND state = 'applied') FROM runs ORDER BY run_id"
            )
        )


def _wait_for_done(client: TestClient, run_id: str, done: int) -> None:
    """Poll the progress until `done` changes are answered."""
    deadline = time.monotonic() + 60
    while True:
        state = client.get(f"/runs/{run_id}/progress").json()
        progress = state.get("progress") or {}
        if progress.get("done", 0) >= done:
            return
        assert state["status"] in ("queued", "applying"), state
        assert time.monotonic() < deadline, f"no {done} changes answered in 60 s: {state}"
        time.sleep(0.02)


def test_cancel_stops_after_requests_in_flight_and_resume_finishes(tmp_path: Path) -> None:
    """Cancel mid-apply: the run is `stopped` with part of the users changed and each change
    recorded, Resume on its page applies the rest; every user upgraded by exactly one request."""
    account, source = _account(tmp_path)
    sandbox = Sandbox.from_file(account, faults=Faults(latency_s=0.05))
    journal = tmp_path / ".batch" / "journal.sqlite"
    with serve(sandbox) as url:
        settings = Settings(
            api_url=f"{url}/v2",
            oauth_url=f"{url}/oauth/token",
            journal_path=journal,
            reports_dir=tmp_path / "reports",
            chunk_size=10,
        )
        app = create_app(settings, signin_delay_s=0.0)
        app.state.store.add_user("ann", "admin", PASSWORD)
        admin = TestClient(app)
        admin.post(
            "/signin",
            data={
                "username": "ann",
                "password": PASSWORD,
                "csrf_token": csrf(admin.get("/signin").text),
            },
        )
        run_id = upload(admin, source)
        assert f"Apply {USERS} changes" in admin.get(f"/runs/{run_id}").text

        admin.post(f"/runs/{run_id}/apply", data={"csrf_token": csrf(admin.get("/").text)})
        _wait_for_done(admin, run_id, 20)
        admin.post(f"/runs/{run_id}/cancel", data={"csrf_token": csrf(admin.get("/").text)})
        stopped = wait_for_end(admin, run_id)
        assert stopped["status"] == "stopped", stopped
        ((command, status, applied_first),) = _journal_runs(journal)
        assert (command, status) == ("apply", "stopped")
        # stopped part way, and whatever reached the account was answered and recorded
        assert 20 <= applied_first < USERS
        assert _licensed(sandbox) == applied_first == _writes(sandbox)
        assert stopped["counts"]["applied"] == applied_first
        page = admin.get(f"/runs/{run_id}").text
        assert ">Resume<" in page
        assert Path(admin.app.state.store.run(run_id)["report"]).exists()  # type: ignore[attr-defined]

        admin.post(f"/runs/{run_id}/resume", data={"csrf_token": csrf(page)})
        resumed = wait_for_end(admin, run_id)
        assert resumed["status"] == "applied", resumed
        assert _licensed(sandbox) == USERS
        assert _writes(sandbox) == USERS  # nothing sent twice, nothing left out
        runs = _journal_runs(journal)
        assert [s for _, s, _ in runs] == ["stopped", "finished"]
        assert sum(n for _, _, n in runs) == USERS

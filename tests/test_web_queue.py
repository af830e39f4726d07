"""Applies wait for the account lock in a visible queue; a queued run is cancelled and resumed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from web_support import SAMPLES, Site, csrf, upload, wait_for_end

from batch.delivery.lock import account_lock_path

HOLDER = """
import sys, time
from pathlib import Path
from batch.delivery.lock import run_lock
with run_lock(Path(sys.argv[1]), command="batch apply other.csv"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _status(site: Site, run_id: str) -> str:
    status: str = site.app.state.store.run(run_id)["status"]
    return status


def test_queued_behind_another_run_then_cancelled_and_resumed(tmp_path: Path) -> None:
    """Another process holds the lock: the apply waits as `queued`, is cancelled, then resumed."""
    site = Site.make(tmp_path / "web")
    admin = site.client("ann", "admin")
    run_id = upload(admin, SAMPLES / "users-wide-en.csv")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(account_lock_path(site.settings)[0])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        admin.post(f"/runs/{run_id}/apply", data={"csrf_token": csrf(admin.get("/").text)})
        deadline = time.monotonic() + 30
        while "batch apply other.csv" not in site.app.state.store.run(run_id)["message"]:
            assert time.monotonic() < deadline, "the run never showed the lock's holder"
            time.sleep(0.1)
        assert _status(site, run_id) == "queued"
        assert "batch apply other.csv" in admin.get(f"/runs/{run_id}").text
        admin.post(f"/runs/{run_id}/cancel", data={"csrf_token": csrf(admin.get("/").text)})
        assert wait_for_end(admin, run_id)["status"] == "stopped"
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()
    users = {u["email"]: u for u in site.account()["users"]}
    assert users["floor.dejong@example.com"]["webinar"] is None  # nothing applied while queued
    page = admin.get(f"/runs/{run_id}").text
    assert ">Resume<" in page
    admin.post(f"/runs/{run_id}/resume", data={"csrf_token": csrf(page)})
    assert wait_for_end(admin, run_id)["status"] == "applied"
    users = {u["email"]: u for u in site.account()["users"]}
    assert users["floor.dejong@example.com"]["webinar"] == 500


def test_a_restart_stops_runs_left_applying(tmp_path: Path) -> None:
    """A run the previous server left `applying` is `stopped` after a restart, resumable."""
    site = Site.make(tmp_path / "web")
    admin = site.client("ann", "admin")
    run_id = upload(admin, SAMPLES / "users-wide-en.csv")
    site.app.state.store.update_run(run_id, status="applying")
    again = Site.make(tmp_path / "web")
    row = again.app.state.store.run(run_id)
    assert (row["status"], row["message"]) == ("stopped", "the server stopped during the run")

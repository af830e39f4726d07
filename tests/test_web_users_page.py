"""The users page: find a user, change their type and add-ons through a one-user plan."""

from __future__ import annotations

import re
from pathlib import Path

from web_support import Site, csrf, page_counts, wait_for_end


def test_one_user_is_changed_through_preview_and_apply(tmp_path: Path) -> None:
    """A search shows the user's holdings and owned sizes; a change becomes a one-user run."""
    site = Site.make(tmp_path / "web")
    admin = site.client("ann", "admin")
    page = admin.get("/users", params={"q": "eline.debruijn"}).text
    assert "eline.debruijn@example.com" in page
    webinar_sizes = re.search(r'name="addon_webinar">(.*?)</select>', page, re.S)
    assert webinar_sizes is not None
    assert re.findall(r'value="(\d+)"', webinar_sizes.group(1)) == ["500", "1000"]
    answer = admin.post(
        "/users/change",
        data={
            "csrf_token": csrf(page),
            "email": "eline.debruijn@example.com",
            "user_type": "Licensed",
            "addon_webinar": "500",
            "held_webinar": "",
            "addon_large_meeting": "",
            "held_large_meeting": "",
            "addon_zoom_events": "",
            "held_zoom_events": "",
        },
    )
    run_id = str(answer.url).rsplit("/", 1)[-1]
    assert page_counts(answer.text)["planned"] == 2
    admin.post(f"/runs/{run_id}/apply", data={"csrf_token": csrf(answer.text)})
    assert wait_for_end(admin, run_id)["status"] == "applied"
    users = {u["email"]: u for u in site.account()["users"]}
    assert (
        users["eline.debruijn@example.com"]["type"],
        users["eline.debruijn@example.com"]["webinar"],
    ) == ("Licensed", 500)
    assert "user-eline.debruijn-at-example.com.csv" in admin.get("/history").text


def test_viewer_cannot_change_a_user(tmp_path: Path) -> None:
    """A viewer sees users but has no save button, and a forged POST is 403."""
    site = Site.make(tmp_path / "web")
    viewer = site.client("fin", "viewer")
    page = viewer.get("/users", params={"q": "eline"}).text
    assert "eline.debruijn@example.com" in page and "Preview this change" not in page
    answer = viewer.post(
        "/users/change",
        data={
            "csrf_token": csrf(page),
            "email": "eline.debruijn@example.com",
            "user_type": "Licensed",
        },
    )
    assert answer.status_code == 403
    assert site.app.state.store.runs() == []

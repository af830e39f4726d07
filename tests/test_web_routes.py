"""The web pages through Starlette's TestClient: sign-in, CSRF, preview, apply, history, roles."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from web_support import (
    HOSTILE,
    PASSWORD,
    SAMPLES,
    Site,
    csrf,
    page_counts,
    settings_for,
    upload,
    wait_for_end,
)

from batch.errors import FileRefused
from batch.loading import load
from batch.output import Output
from batch.pipeline import apply_file, plan_file
from batch.web.auth import Throttle

SAMPLE_NAMES = ["users-wide-en.csv", "gebruikers-nl.csv", "licenses-long.xlsx"]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """An app on a copy of the demo account."""
    return Site.make(tmp_path / "web")


def _text(page: str) -> str:
    """A page's visible text, tags dropped and entities decoded."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.parametrize(
    "path",
    ["/", "/history", "/runs/abc123", "/runs/abc123/plan.xlsx", "/runs/abc123/report.xlsx", "/x"],
)
def test_signed_out_pages_redirect_to_sign_in(site: Site, path: str) -> None:
    """Every page asked for without a session answers with a redirect to the sign-in page."""
    answer = TestClient(site.app).get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin?next=")


def test_unknown_route_is_a_404_page(site: Site) -> None:
    """Signed in, an unknown route or run is a 404 page with no traceback."""
    admin = site.client("ann", "admin")
    for answer in (admin.get("/no/such/page"), admin.get("/runs/nosuchrun")):
        assert answer.status_code == 404
        assert "Traceback" not in answer.text and "Not found." in answer.text


def test_wrong_password_is_refused(site: Site) -> None:
    """A wrong password gives the sign-in page again with its message, and no session."""
    site.add_user("ann", "admin")
    client = TestClient(site.app)
    token = csrf(client.get("/signin").text)
    answer = client.post(
        "/signin", data={"username": "ann", "password": "wrong", "csrf_token": token}
    )
    assert answer.status_code == 401
    assert "Wrong user name or password." in answer.text
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/upload", {"mode": "apply"}),
        ("/signout", {}),
        ("/upload", {"mode": "apply", "csrf_token": "forged"}),
    ],
    ids=["upload-without-token", "signout-without-token", "upload-with-forged-token"],
)
def test_post_without_the_csrf_token_is_refused(
    site: Site, path: str, data: dict[str, str]
) -> None:
    """A form POST without the session's CSRF token is refused with 403 and changes nothing."""
    admin = site.client("ann", "admin")
    files = {"file": ("a.csv", io.BytesIO(b"email,license\na@example.com,Licensed\n"))}
    answer = admin.post(path, data=data, files=files if path == "/upload" else None)
    assert answer.status_code == 403
    assert "Reload the page" in answer.text
    assert site.app.state.store.runs() == []
    assert admin.get("/", follow_redirects=False).status_code == 200  # still signed in


@pytest.mark.parametrize("name", SAMPLE_NAMES, ids=SAMPLE_NAMES)
def test_preview_counts_equal_batch_plan(site: Site, tmp_path: Path, name: str) -> None:
    """The preview's counts per outcome are those of `batch plan` on the same file and account."""
    admin = site.client("ann", "admin")
    run_id = upload(admin, SAMPLES / name)
    page = admin.get(f"/runs/{run_id}").text
    cli = plan_file(SAMPLES / name, settings_for(tmp_path), Output("json", quiet=True))
    assert page_counts(page) == dict(cli.counts)
    assert re.search(r">Apply \d+ changes<", page)
    plan_report = admin.get(f"/runs/{run_id}/plan.xlsx")
    assert plan_report.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(plan_report.content), read_only=True)
    assert "Results" in book.sheetnames


@pytest.mark.parametrize("name", ["empty.csv", "document.pdf", "header-only.csv", "html-page.csv"])
def test_refused_file_shows_the_cli_reason(site: Site, name: str) -> None:
    """A file the CLI refuses is refused on the page with the CLI's own `Error:` line."""
    with pytest.raises(FileRefused) as refused:
        load(HOSTILE / name)
    admin = site.client("ann", "admin")
    run_id = upload(admin, HOSTILE / name)
    page = _text(admin.get(f"/runs/{run_id}").text)
    assert f"Error: {refused.value}" in page
    assert "Apply" not in page


def test_apply_runs_to_the_end_and_the_report_reads_back(site: Site) -> None:
    """Apply in the background: progress ends, the account changes, the report opens."""
    admin = site.client("ann", "admin")
    run_id = upload(admin, SAMPLES / "users-wide-en.csv")
    planned = page_counts(admin.get(f"/runs/{run_id}").text)["planned"]
    token = csrf(admin.get(f"/runs/{run_id}").text)
    admin.post(f"/runs/{run_id}/apply", data={"csrf_token": token})
    state = wait_for_end(admin, run_id)
    assert state["status"] == "applied"
    assert state["counts"]["applied"] == planned and state["counts"]["planned"] == 0
    users = {u["email"]: u for u in site.account()["users"]}
    assert users["floor.dejong@example.com"]["webinar"] == 500
    report = admin.get(f"/runs/{run_id}/report.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)["Results"]
    outcomes = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert outcomes.count("applied") == planned


def test_history_lists_cli_and_web_runs(site: Site) -> None:
    """The history shows every run of the journal: one from the CLI and one from the web."""
    apply_file(SAMPLES / "gebruikers-nl.csv", site.settings, Output("json", quiet=True))
    admin = site.client("ann", "admin")
    run_id = upload(admin, SAMPLES / "users-wide-en.csv")
    admin.post(f"/runs/{run_id}/apply", data={"csrf_token": csrf(admin.get("/").text)})
    wait_for_end(admin, run_id)
    page = _text(admin.get("/history").text)
    assert re.search(r"users-wide-en\.csv web ann apply applied", page)
    assert re.search(r"gebruikers-nl\.csv CLI apply applied", page)


def test_viewer_sees_no_apply_button_and_cannot_write(site: Site) -> None:
    """A viewer reads previews and history but has no Apply button and every write is 403."""
    admin = site.client("ann", "admin")
    run_id = upload(admin, SAMPLES / "users-wide-en.csv")
    viewer = site.client("fin", "viewer")
    page = viewer.get(f"/runs/{run_id}").text
    assert "Preview" in page and not re.search(r">\s*Apply", page)
    assert 'name="file"' not in viewer.get("/").text
    token = csrf(page)
    assert viewer.post(f"/runs/{run_id}/apply", data={"csrf_token": token}).status_code == 403
    files = {"file": ("a.csv", io.BytesIO(b"email,license\na@example.com,Licensed\n"))}
    assert viewer.post("/upload", data={"csrf_token": token}, files=files).status_code == 403
    assert site.app.state.store.run(run_id)["status"] == "planned"


def test_a_change_to_the_account_after_the_preview_is_caught(site: Site) -> None:
    """When the account changed so that the plan differs, nothing is applied and it asks again."""
    admin = site.client("ann", "admin")
    run_id = upload(admin, SAMPLES / "users-wide-en.csv")
    before = page_counts(admin.get(f"/runs/{run_id}").text)["planned"]
    site.set_user_type("eline.debruijn@example.com", "Licensed")  # the file upgrades her
    admin.post(f"/runs/{run_id}/apply", data={"csrf_token": csrf(admin.get("/").text)})
    state = wait_for_end(admin, run_id)
    assert state["status"] == "planned"
    page = _text(admin.get(f"/runs/{run_id}").text)
    assert "The account changed since the preview" in page
    assert "- eline.debruijn@example.com: type Licensed" in page
    assert page_counts(admin.get(f"/runs/{run_id}").text)["planned"] == before - 1
    users = {u["email"]: u for u in site.account()["users"]}
    assert users["floor.dejong@example.com"]["webinar"] is None  # nothing was applied
    admin.post(f"/runs/{run_id}/apply", data={"csrf_token": csrf(admin.get("/").text)})
    assert wait_for_end(admin, run_id)["status"] == "applied"


def test_lines_are_paged_and_filtered(site: Site, tmp_path: Path) -> None:
    """A long plan shows one page of 50 lines, problems first; filters and search narrow it."""
    lines = ["email,license"] + [f"user{i:03}@example.com,Licensed" for i in range(120)]
    lines += ["ann.smit@example.com,Licensed"]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n")
    admin = site.client("ann", "admin")
    run_id = upload(admin, path)
    first = admin.get(f"/runs/{run_id}").text
    assert first.count('<tr class="line') == 50
    assert "Page 1 of 3 (121 lines)" in _text(first)
    assert "ann.smit@example.com" not in first  # the one unchanged line comes after problems
    last = admin.get(f"/runs/{run_id}?page=3").text
    assert "ann.smit@example.com" in last
    found = _text(admin.get(f"/runs/{run_id}?email=user007").text)
    assert "Page 1 of 1 (1 lines)" in found and "user007@example.com" in found
    unchanged = _text(admin.get(f"/runs/{run_id}?outcome=unchanged").text)
    assert "Page 1 of 1 (1 lines)" in unchanged


def test_dutch_browser_gets_dutch_pages(site: Site) -> None:
    """A browser that prefers Dutch gets the pages in Dutch."""
    admin = site.client("ann", "admin")
    page = admin.get("/", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}).text
    assert "Een bestand uploaden" in page and '<html lang="nl">' in page
    assert "Upload a file" in admin.get("/", headers={"Accept-Language": "en-GB"}).text


def test_sandbox_banner_on_every_page(site: Site) -> None:
    """Every page says it is the sandbox, the sign-in page too."""
    admin = site.client("ann", "admin")
    for path in ("/", "/history", "/signin", "/nowhere"):
        assert "SANDBOX" in admin.get(path).text, path


def test_a_file_past_the_size_limit_is_cut_off(tmp_path: Path) -> None:
    """An upload past max_file_bytes is refused while it streams in, naming the limit."""
    site = Site.make(tmp_path, max_file_bytes=1000)
    admin = site.client("ann", "admin")
    big = b"email,license\n" + b"someone@example.com,Licensed\n" * 20_000
    answer = admin.post(
        "/upload",
        data={"csrf_token": csrf(admin.get("/").text)},
        files={"file": ("big.csv", io.BytesIO(big))},
    )
    assert answer.status_code == 413
    assert "max_file_bytes" in answer.text
    assert site.app.state.store.runs() == []


def test_sign_in_keeps_working_after_sign_out(site: Site) -> None:
    """Signing out ends the session: pages redirect to sign-in again."""
    admin = site.client("ann", "admin")
    admin.post("/signout", data={"csrf_token": csrf(admin.get("/").text)})
    assert admin.get("/", follow_redirects=False).status_code == 303
    assert PASSWORD  # the same password signs in again
    token = csrf(admin.get("/signin").text)
    answer = admin.post(
        "/signin", data={"username": "ann", "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 200


def test_sync_removals_need_their_number_typed(site: Site, tmp_path: Path) -> None:
    """A sync plan that removes licenses is applied only once their number is typed."""
    path = tmp_path / "sync.csv"
    path.write_text("Email,User type\nann.smit@example.com,Licensed\n")
    admin = site.client("ann", "admin")
    run_id = upload(admin, path, mode="sync", max_removals="100%")
    page = admin.get(f"/runs/{run_id}").text
    removals = re.search(r"This sync removes (\d+) licenses", page)
    assert removals is not None and int(removals.group(1)) > 0
    token = csrf(page)
    wrong = admin.post(f"/runs/{run_id}/apply", data={"csrf_token": token, "confirm_removals": "1"})
    assert "Type the number of removals" in wrong.text
    assert site.app.state.store.run(run_id)["status"] == "planned"
    admin.post(
        f"/runs/{run_id}/apply", data={"csrf_token": token, "confirm_removals": removals.group(1)}
    )
    assert wait_for_end(admin, run_id)["status"] == "applied"
    active = [u for u in site.account()["users"] if u["status"] == "active"]
    licensed = [u["email"] for u in active if u["type"] == "Licensed"]
    assert licensed == ["ann.smit@example.com"]  # sync: every other active user lost it


def test_an_unexpected_error_is_a_page_without_traceback(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while making a page gives a 500 page that says so, never a traceback."""
    admin = site.client("ann", "admin")
    run_id = upload(admin, SAMPLES / "users-wide-en.csv")

    def broken(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(site.app.state.runs, "preview", broken)
    client = TestClient(site.app, raise_server_exceptions=False, cookies=admin.cookies)
    answer = client.get(f"/runs/{run_id}")
    assert answer.status_code == 500
    assert "Something went wrong" in answer.text
    assert "Traceback" not in answer.text and "secret internals" not in answer.text


def test_failed_sign_ins_slow_down_that_name_and_address() -> None:
    """Each failure doubles the wait for that name or that address; success clears it."""
    throttle = Throttle(base_delay_s=0.25)
    assert throttle.delay("ann", "10.0.0.1") == 0
    for _ in range(3):
        throttle.failed("ann", "10.0.0.1")
    assert throttle.delay("ann", "10.0.0.9") == 1.0  # the name, from another address
    assert throttle.delay("bob", "10.0.0.1") == 1.0  # the address, for another name
    assert throttle.delay("bob", "10.0.0.9") == 0
    throttle.succeeded("ann", "10.0.0.1")
    assert throttle.delay("ann", "10.0.0.1") == 0


def test_idle_session_signs_out(tmp_path: Path) -> None:
    """A session unused for longer than the idle timeout leads to the sign-in page again."""
    site = Site.make(tmp_path)
    admin = site.client("ann", "admin")
    site.app.state.idle_timeout_s = -1  # every earlier request is now too long ago
    assert admin.get("/", follow_redirects=False).status_code == 303

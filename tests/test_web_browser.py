"""The web app in a real browser: Playwright drives Debian's Chromium against uvicorn on loopback.

Each test saves a 1280x800 screenshot of its page under tests/screenshots/ (not committed).
"""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import openpyxl
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from web_support import HOSTILE, PASSWORD, SAMPLES, Site, settings_for

from batch.errors import FileRefused
from batch.loading import load
from batch.output import Output
from batch.pipeline import RunOutcome, plan_file

CHROMIUM: Final = "/usr/bin/chromium"
SCREENSHOTS: Final = Path(__file__).parent / "screenshots"
# The wide sample in the fast suite; the other two take the same path (slow: run by .ci/run).
SAMPLES_TO_RUN: Final = [
    pytest.param("users-wide-en.csv", id="users-wide-en.csv"),
    pytest.param("gebruikers-nl.csv", id="gebruikers-nl.csv", marks=pytest.mark.slow),
    pytest.param("licenses-long.xlsx", id="licenses-long.xlsx", marks=pytest.mark.slow),
]
LAUNCH_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, for this module only.

    Playwright's sync API marks its event loop as running in this thread while it is started,
    so any later `asyncio.run` in the same pytest worker fails. A session-wide browser (as
    pytest-playwright keeps) broke other modules' tests that way; this one stops with the module.
    """
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh 1280x800 context that accepts downloads; navigation and clicks wait up to two
    minutes (a preview is planned in its request, on a shared 2-core machine)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(120_000)
    tab.set_default_navigation_timeout(120_000)
    yield tab
    context.close()


# A shared 2-core CI machine can be slow: wait generously for pages and assertions.
expect.set_options(timeout=30_000)


@dataclass
class Served:
    """The app served by uvicorn on 127.0.0.1 in a thread."""

    site: Site
    url: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """An app on a copy of the demo account, served on a free loopback port."""
    site = Site.make(tmp_path / "web")
    site.add_user("ann", "admin")
    site.add_user("fin", "viewer")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(site.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield Served(site, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=20)
    sock.close()


def shot(page: Page, name: str) -> None:
    """Save the page as tests/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def sign_in(page: Page, served: Served, name: str = "ann") -> None:
    """Sign in through the form."""
    page.goto(f"{served.url}/signin")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header")).to_contain_text(name)


def upload(page: Page, served: Served, path: Path) -> None:
    """Upload a file through the form and wait for its preview."""
    page.goto(f"{served.url}/")
    page.set_input_files("input[type=file][name=file]", str(path))
    page.click("form.upload button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/\w+"))


def batch_plan(path: Path, root: Path) -> RunOutcome:
    """`batch plan` on a fresh copy of the account (in a thread: Playwright owns this loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(plan_file, path, settings_for(root), Output("json", quiet=True)).result()


def shown_counts(page: Page) -> dict[str, int]:
    """The outcome counts on the page."""
    counts = {}
    for item in page.locator("[data-outcome]").all():
        counts[item.get_attribute("data-outcome") or ""] = int(item.locator("dd").inner_text())
    return counts


@pytest.mark.parametrize("name", SAMPLES_TO_RUN)
def test_sample_from_upload_to_report(
    page: Page, served: Served, tmp_path: Path, name: str
) -> None:
    """Sign in, upload, preview = batch plan, apply, progress ends, report reads, history."""
    sign_in(page, served)
    upload(page, served, SAMPLES / name)
    expected = batch_plan(SAMPLES / name, tmp_path / "cli")
    assert shown_counts(page) == dict(expected.counts)
    expect(page.locator(".banner")).to_contain_text("SANDBOX")
    shot(page, f"preview-{Path(name).stem}")
    apply = page.locator("button#apply")
    expect(apply).to_have_text(re.compile(r"^Apply \d+ changes$"))
    apply.click()
    expect(page.locator("#status")).to_have_text("applied", timeout=60_000)
    assert shown_counts(page)["applied"] == expected.counts["planned"]
    shot(page, f"run-{Path(name).stem}")
    with page.expect_download() as download:
        page.click("a#report")
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    outcomes = [row[4] for row in book["Results"].iter_rows(min_row=2, values_only=True)]
    assert outcomes.count("applied") == expected.counts["planned"]
    page.goto(f"{served.url}/history")
    expect(page.locator("table.history tbody tr").first).to_contain_text(name)
    expect(page.locator("table.history tbody tr").first).to_contain_text("applied")
    shot(page, f"history-{Path(name).stem}")


def test_viewer_sees_no_apply_and_the_api_refuses(page: Page, served: Served) -> None:
    """A viewer sees the preview with no Apply button; its token gets 403 on an API write."""
    sign_in(page, served)
    upload(page, served, SAMPLES / "users-wide-en.csv")
    run_url = page.url
    page.click("button:has-text('Sign out')")
    sign_in(page, served, "fin")
    page.goto(run_url)
    expect(page.locator("h1")).to_contain_text("Preview")
    expect(page.locator("button", has_text=re.compile("^Apply"))).to_have_count(0)
    shot(page, "viewer-preview")
    token = served.site.app.state.store.new_token("fin")
    run_id = run_url.rsplit("/", 1)[-1]
    answer = page.request.post(
        f"{served.url}/api/runs/{run_id}/apply", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 403


def test_post_without_csrf_token_is_refused(page: Page, served: Served) -> None:
    """A form POST with the session cookie but without the CSRF token is refused."""
    sign_in(page, served)
    answer = page.request.post(
        f"{served.url}/upload",
        multipart={
            "mode": "apply",
            "file": {
                "name": "a.csv",
                "mimeType": "text/csv",
                "buffer": b"email,license\na@example.com,Licensed\n",
            },
        },
    )
    assert answer.status == 403
    page.set_content(answer.text())
    shot(page, "csrf-refused")
    assert served.site.app.state.store.runs() == []


@pytest.mark.parametrize("path", ["/", "/history", "/runs/abc/report.xlsx", "/no-such-page"])
def test_signed_out_every_page_redirects_to_sign_in(page: Page, served: Served, path: str) -> None:
    """Signed out, a page leads to the sign-in form."""
    page.goto(f"{served.url}{path}")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    expect(page.locator("input[name=username]")).to_be_visible()
    shot(page, "signed-out" + path.replace("/", "-"))


def test_hostile_file_shows_its_refusal_line(page: Page, served: Served) -> None:
    """A file the CLI refuses shows the CLI's one-line reason, no traceback."""
    with pytest.raises(FileRefused) as refused:
        load(HOSTILE / "document.pdf")
    sign_in(page, served)
    upload(page, served, HOSTILE / "document.pdf")
    expect(page.locator(".refusal")).to_have_text(f"Error: {refused.value}")
    shot(page, "refused")


def test_account_change_between_preview_and_apply_is_caught(page: Page, served: Served) -> None:
    """A change to the account after the preview stops the apply and shows the difference."""
    sign_in(page, served)
    upload(page, served, SAMPLES / "users-wide-en.csv")
    served.site.set_user_type("eline.debruijn@example.com", "Licensed")
    page.click("button#apply")
    expect(page.locator(".changed")).to_contain_text(
        "- eline.debruijn@example.com: type Licensed", timeout=60_000
    )
    shot(page, "plan-changed")
    users = {u["email"]: u for u in served.site.account()["users"]}
    assert users["floor.dejong@example.com"]["webinar"] is None


def test_preview_fits_a_phone(page: Page, served: Served) -> None:
    """At phone width the preview has no sideways scrolling of the page (tables scroll alone)."""
    sign_in(page, served)
    upload(page, served, SAMPLES / "gebruikers-nl.csv")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("button#apply")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "preview-phone.png"), full_page=False)
    page.set_viewport_size({"width": 1280, "height": 800})
    shot(page, "preview-after-phone")

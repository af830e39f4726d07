"""`batch plan` and `batch apply` load the file while the account's users are listed. The
overlap is invisible to the user: a refused file is still the error reported, whatever the
account does, and a good file plans as it did when it was loaded first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.conftest import Workspace

GOOD = "Email,User type\nann@example.com,Licensed\n"
REFUSED = "Email,Webniar\nann@example.com,500\n"  # a near-miss header: the file is refused
TEXT = ("--log-format", "text")  # stderr's error lines as a person reads them
REFUSED_LINE = "column B 'Webniar' is not a column we know: did you mean Webinar?"


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_refused_file_is_reported_though_the_account_cannot_be_reached(
    ws: Workspace, command: str
) -> None:
    """Nothing listens on the API port: the file's fault (exit 2), not the account's (3)."""
    (ws.root / "in.csv").write_text(REFUSED)
    extra = ["--yes"] if command == "apply" else []
    done = ws.run(command, "in.csv", "--api-url", "http://127.0.0.1:9/v2",
                  "--oauth-url", "http://127.0.0.1:9/oauth/token", *extra, *TEXT)  # fmt: skip
    assert done.code == 2, done.stderr
    assert len(done.errors) == 1 and REFUSED_LINE in done.errors[0]


@pytest.mark.parametrize(
    ("content", "error"),
    [(REFUSED, REFUSED_LINE), (GOOD, "Error: {account}: users: must be a list, not null")],
    ids=["refused-file-first", "good-file"],
)
def test_a_broken_sandbox_file_comes_after_the_file_given(
    ws: Workspace, content: str, error: str
) -> None:
    """Both are exit 2: a refused file is the one named, a good one lets the sandbox's fault
    through."""
    (ws.root / "in.csv").write_text(content)
    ws.account.write_text('{"account": {"id": "a"}, "users": null}')
    done = ws.run("plan", "in.csv", "--sandbox", ws.account, *TEXT)
    assert done.code == 2
    assert len(done.errors) == 1 and error.format(account=ws.account) in done.errors[0]


def test_an_unreachable_account_is_reported_for_a_good_file(ws: Workspace) -> None:
    (ws.root / "in.csv").write_text(GOOD)
    done = ws.run("plan", "in.csv", "--api-url", "http://127.0.0.1:9/v2",
                  "--oauth-url", "http://127.0.0.1:9/oauth/token", *TEXT)  # fmt: skip
    assert done.code == 3
    assert len(done.errors) == 1 and "cannot reach" in done.errors[0]

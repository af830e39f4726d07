"""The served sandbox cannot be made to lie or to swallow a huge body: failed saves are undone,
request bodies are bounded, and a malformed account file is refused in one line."""

from __future__ import annotations

import errno
import json
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import batch.sandbox.account
from batch.sandbox import DEMO_ACCOUNT, Sandbox, serve

if TYPE_CHECKING:
    from conftest import Workspace

ANN = "ann.smit@example.com"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Sandbox, str, Path]]:
    """A copy of the demo account served on 127.0.0.1, saved to its file."""
    path = tmp_path / "sandbox.json"
    shutil.copyfile(DEMO_ACCOUNT, path)
    sandbox = Sandbox.from_file(path)
    with serve(sandbox) as url:
        yield sandbox, url, path


@contextmanager
def logged_in(url: str) -> Iterator[httpx.Client]:
    """An HTTP client of the served API with a token."""
    with httpx.Client(base_url=f"{url}/v2") as client:
        form = {"grant_type": "account_credentials", "account_id": "sandbox"}
        token = client.post(f"{url}/oauth/token", auth=("id", "secret"), data=form)
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


def user_in(data: dict[str, Any], email: str) -> dict[str, Any]:
    """One user of an account's JSON."""
    return next(u for u in data["users"] if u["email"] == email)


def test_failed_save_is_undone_and_answered_500(
    served: tuple[Sandbox, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change the disk cannot take (ENOSPC) answers 500 and is undone in memory too, so the
    account read back and its file agree; once there is room the same change goes through."""
    sandbox, url, path = served
    real_write = batch.sandbox.account.write_atomically
    disk_full = True

    def write(target: Path, content: bytes) -> None:
        if disk_full:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(target, content)

    monkeypatch.setattr(batch.sandbox.account, "write_atomically", write)
    before = path.read_bytes()
    with logged_in(url) as client:
        answer = client.patch(f"/users/{ANN}", json={"type": 1})
        assert answer.status_code == 500
        assert "could not be saved" in answer.json()["message"]
        assert client.get(f"/users/{ANN}").json()["type"] == 2  # still Licensed
        assert path.read_bytes() == before
        assert sandbox.to_dict() == json.loads(before)
        disk_full = False
        assert client.patch(f"/users/{ANN}", json={"type": 1}).status_code == 204
        assert client.get(f"/users/{ANN}").json()["type"] == 1
    assert user_in(json.loads(path.read_bytes()), ANN)["type"] == "Basic"
    assert sandbox.to_dict() == json.loads(path.read_bytes())


def raw_request(url: str, head: str, body: bytes = b"") -> bytes:
    """Send raw bytes to the served sandbox; everything it answers until it closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ("Content-Length: 1073741824\n", b"", b"413"),
        ("Content-Length: 1048577\n", b"x" * 10, b"413"),
        ("Content-Length: abc\n", b"", b"400"),
        ("Content-Length: -1\n", b"", b"400"),
        ("Content-Length: 2\nContent-Length: 3\n", b"{}", b"400"),
        ("Transfer-Encoding: chunked\n", b"100001\r\n" + b"x" * 100, b"413"),
        ("Transfer-Encoding: chunked\n", b"zz\r\n", b"400"),
        ("Transfer-Encoding: gzip\n", b"", b"400"),
    ],
    ids=["1gib-announced", "just-over", "not-a-number", "negative", "two-lengths",
         "chunked-too-big", "chunked-garbage", "other-encoding"],
)  # fmt: skip
def test_request_bodies_are_bounded(
    served: tuple[Sandbox, str, Path], headers: str, body: bytes, status: bytes
) -> None:
    """A body over 1 MiB is refused with 413 before it is read, a bad length with 400, and the
    connection is closed; nothing is changed."""
    sandbox, url, _ = served
    head = f"PATCH /v2/users/{ANN} HTTP/1.1\nHost: x\nAuthorization: Bearer none\n{headers}\n"
    answer = raw_request(url, head, body)  # returns: the server closed without the 1 GiB
    assert answer.split(b" ", 2)[1] == status
    assert b"Connection: close" in answer
    assert sandbox.stats.writes == 0


def test_chunked_body_within_the_limit_is_read(served: tuple[Sandbox, str, Path]) -> None:
    """A small chunked body is read whole and applied."""
    _, url, path = served
    with logged_in(url) as client:
        chunks = iter([b'{"ty', b'pe": 1}'])
        answer = client.patch(f"/users/{ANN}", content=chunks)
        assert answer.request.headers["Transfer-Encoding"] == "chunked"
        assert answer.status_code == 204
    assert user_in(json.loads(path.read_bytes()), ANN)["type"] == "Basic"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"account": {"id": "a"}, "users": null}', "users: must be a list, not null"),
        ('{"account": "a", "users": []}', "account: must be an object, not text"),
        ('{"account": {"id": "a"}, "users": [{"email": 7}]}',
         "users[0].email: must be text, not a whole number"),
        ('{"account": {"id": "a"}, "credentials": {"account_id": "a", "client_id": "b"}}',
         "credentials.client_secret: is missing"),
        ("[]", "the account file: must be an object, not a list"),
    ],
    ids=["users-null", "account-text", "email-number", "credentials-half", "list"],
)  # fmt: skip
def test_wrong_shaped_account_file_is_one_error_line(
    ws: Workspace, content: str, message: str
) -> None:
    """`batch plan --sandbox` with a malformed account file: exit 2 and one Error line naming
    the part, no traceback."""
    ws.account.write_text(content)
    run = ws.run("plan", ws.sample("users-wide-en.csv"), "--sandbox", ws.account,
                 "--log-format", "text")  # fmt: skip
    assert run.code == 2
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [f"Error: {ws.account}: {message}"], run.stderr
    assert "Traceback" not in run.stderr

"""Secrets never get out, even when a server echoes the request back in its error answers."""

from __future__ import annotations

import base64
import email
import email.policy
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from batch import scrub
from batch.sandbox import Sandbox
from batch.sandbox.server import serve
from tests.mailserver import Mailbox, smtp_server

if TYPE_CHECKING:
    from conftest import Workspace

CLIENT_SECRET = "canary-client-9b1e5f0d"
MAIL_PASSWORD = "canary-mailpw-c4a7e2"
SAMPLE = "users-wide-en.csv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"secret={CLIENT_SECRET}", "secret=***"),
        ("Authorization: Basic " + base64.b64encode(f"id-7:{CLIENT_SECRET}".encode()).decode(),
         "Authorization: Basic ***"),
        (base64.b64encode(f"id-7:{CLIENT_SECRET}".encode()).decode() + " seen", "*** seen"),
        ("{'authorization': 'Bearer eyJhbGciOi.J9eyJzdWIi.OiIxMjM0'}",
         "{'authorization': 'Bearer ***'}"),
        ("user a@example.com: Basic users cannot hold Webinar", None),
        ("license Basic for 3 users", None),
    ],
    ids=["secret", "basic-header", "base64-pair", "bearer", "basic-license", "basic-word"],
)  # fmt: skip
def test_scrub_hides_credentials_and_keeps_license_words(text: str, expected: str | None) -> None:
    """A registered secret, its base64 pair and Bearer/Basic credentials become ***; the word
    Basic as a license type stays."""
    scrub.register(CLIENT_SECRET)
    scrub.register_pair("id-7", CLIENT_SECRET)
    assert scrub.scrub(text) == (text if expected is None else expected)


def echo(request: httpx.Request) -> str:
    """The whole request as a careless server puts it in an error message."""
    headers = " ".join(f"{k}: {v}" for k, v in request.headers.items())
    return f"{request.method} {request.url} {headers} {request.content.decode(errors='replace')}"


class EchoingSandbox(Sandbox):
    """The sandbox, but every write (and, when told, the token request) is answered 400 or 500
    with the request echoed in the message."""

    refuse_tokens = False
    errors_500 = 3  # the first settings writes get a 500 (retried), the others a 400
    seen_authorization: set[str]

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not hasattr(self, "seen_authorization"):
            self.seen_authorization = set()
        self.seen_authorization.add(request.headers.get("authorization", ""))
        path = request.url.path
        if path.endswith("/oauth/token") and self.refuse_tokens:
            body = {"reason": f"invalid_client: {echo(request)}", "error": "invalid_client"}
            return httpx.Response(400, json=body)
        if request.method == "PATCH":
            status = 400
            if path.endswith("/settings") and self.errors_500 > 0:
                self.errors_500 -= 1
                status = 500
            return httpx.Response(status, json={"code": 300, "message": echo(request)})
        return super().handle(request)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A plain SMTP server on 127.0.0.1 refusing every login with a 535 that echoes the
    credentials (until told to accept); logins allowed without TLS."""
    with smtp_server(Mailbox(refuse_logins=True, echo=True)) as running:
        yield running


def blobs(data: bytes, where: str) -> Iterator[tuple[str, bytes]]:
    """The bytes and, for a zip (an xlsx), every part inside it, uncompressed."""
    yield where, data
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                yield f"{where}:{name}", archive.read(name)


def mail_blobs(raw: bytes, where: str) -> Iterator[tuple[str, bytes]]:
    """A received message's raw bytes and every part decoded (attachments unzipped)."""
    yield where, raw
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for number, part in enumerate(message.walk()):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            yield from blobs(payload, f"{where} part {number}")


@pytest.mark.slow  # three runs against served echoing servers: 30 s or more on a busy machine
def test_echoing_servers_leak_nothing(ws: Workspace, mailbox: tuple[Mailbox, int]) -> None:
    """A token endpoint, an API and an SMTP server that echo the request (client secret, Basic
    and Bearer headers, the mail login) in 400/500/535 answers: the secrets, their base64 forms
    and the bearer tokens are in no output, report, journal or mail."""
    box, port = mailbox
    ws.with_credentials("acct-echo", "client-echo", CLIENT_SECRET)
    env = {"ZOOM_ACCOUNT_ID": "acct-echo", "ZOOM_CLIENT_ID": "client-echo",
           "ZOOM_CLIENT_SECRET": CLIENT_SECRET, "SMTP_PASSWORD": MAIL_PASSWORD}  # fmt: skip
    sandbox = EchoingSandbox.from_file(ws.account)
    runs = []
    with serve(sandbox) as url:
        (ws.root / "batch.toml").write_text(
            f'[mail]\nhost = "127.0.0.1"\nport = {port}\nusername = "batch"\n'
            'password_env = "SMTP_PASSWORD"\nsender = "batch@example.com"\n'
            'recipients = ["finance@example.com"]\ntimeout_s = 10\n'
        )
        api = ("--api-url", f"{url}/v2", "--log-format", "text")
        runs.append(ws.run("apply", ws.sample(SAMPLE), *api, env=env))  # API echoes, 535 echo
        box.refuse_logins = False
        runs.append(ws.run("apply", ws.sample(SAMPLE), *api, env=env))  # API echoes, mailed
        sandbox.refuse_tokens = True
        runs.append(ws.run("apply", ws.sample(SAMPLE), *api, env=env))  # token endpoint echoes
    assert [run.code for run in runs] == [1, 1, 3], [run.stderr[-600:] for run in runs]
    # the servers did echo: the messages are there, their secrets hidden
    assert "535" in runs[0].stderr and "batch/***" in runs[0].stderr
    assert "invalid_client" in runs[2].stderr and "Basic ***" in runs[2].stderr
    messages = ws.messages(sorted((ws.root / "reports").glob("*.xlsx"))[-1])
    assert any("Bearer ***" in message for message in messages)
    assert len(box.mails) == 1

    tokens = {value.split(" ", 1)[1] for value in sandbox.seen_authorization
              if value.startswith("Bearer ")}  # fmt: skip
    assert tokens
    pair = base64.b64encode(f"client-echo:{CLIENT_SECRET}".encode()).decode().rstrip("=")
    mail_pair = base64.b64encode(f"\0batch\0{MAIL_PASSWORD}".encode()).decode().rstrip("=")
    secrets = {CLIENT_SECRET, MAIL_PASSWORD, pair, mail_pair, *tokens}
    found: list[tuple[str, bytes]] = []
    for number, run in enumerate(runs):
        found.append((f"run {number} stdout", run.stdout.encode()))
        found.append((f"run {number} stderr", run.stderr.encode()))
    files = [p for p in ws.root.rglob("*") if p.is_file() and p.suffix != ".json"]
    assert {p.suffix for p in files} >= {".xlsx", ".sqlite"}
    for path in files:
        if path.name != "batch.toml":
            found.extend(blobs(path.read_bytes(), str(path.relative_to(ws.root))))
    for number, raw in enumerate(mail.raw for mail in box.mails):
        found.extend(mail_blobs(raw, f"mail {number}"))
    for secret in secrets:
        leaks = [where for where, data in found if secret.encode() in data]
        assert leaks == [], f"{secret[:12]}... found in {leaks}"


def test_printable_escapes_undecodable_file_names() -> None:
    """A file name with bytes that are not UTF-8 is shown with the bytes escaped."""
    assert scrub.printable("lijst-\udce9.csv") == "lijst-\\xe9.csv"
    assert scrub.printable("gewoon.csv") == "gewoon.csv"


def test_short_secrets_are_not_registered(tmp_path: Path) -> None:
    """A secret under six characters is not hidden: it would garble ordinary words."""
    scrub.register("abc")
    assert scrub.scrub("abc abcdef") == "abc abcdef"

"""The report mail against a real SMTP server on 127.0.0.1 (aiosmtpd): what arrives, what fails."""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from batch.delivery import RunSummary
from batch.delivery.mail import MailError, send_report
from batch.settings import MailSettings, Secret
from tests.mailserver import Mailbox, free_port, smtp_server

PASSWORD = "s3cret-mail-pw"
REPORT_BYTES = b"PK\x03\x04 not really a workbook, but bytes to compare \x00\xff"
NOW = datetime(2026, 11, 27, 22, 58, tzinfo=UTC)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """The server's TLS context; the client trusts its certificate (as a company CA would be)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@dataclass
class Server:
    recorder: Mailbox
    mail: MailSettings


def serve(recorder: Mailbox, security: str, **options: Any) -> Iterator[Server]:
    with smtp_server(recorder, **options) as (_, port):
        yield Server(
            recorder,
            MailSettings(
                host="127.0.0.1",
                port=port,
                security=security,
                sender="batch@example.com",
                recipients=("finance@example.com", "it@example.com"),
                timeout_s=5,
            ),
        )


@pytest.fixture
def plain_server() -> Iterator[Server]:
    """A plain SMTP server that accepts a login without TLS."""
    yield from serve(Mailbox(PASSWORD, refuse=frozenset({"nobody@example.com"})), "none")


@pytest.fixture
def starttls_server(trusted: ssl.SSLContext) -> Iterator[Server]:
    """A server that requires STARTTLS before anything else."""
    yield from serve(
        Mailbox(PASSWORD),
        "starttls",
        tls_context=trusted,
        require_starttls=True,
        auth_require_tls=True,
    )


@pytest.fixture
def ssl_server(trusted: ssl.SSLContext) -> Iterator[Server]:
    """A server speaking TLS from the first byte (port 465 style)."""
    # aiosmtpd does not count implicit TLS as TLS for AUTH (it only knows STARTTLS)
    yield from serve(Mailbox(PASSWORD), "ssl", ssl_context=trusted)


def summary(report: Path, *, is_sandbox: bool = True, exit_code: int = 1) -> RunSummary:
    return RunSummary(
        file_name="users.csv",
        command="inbox",
        is_sandbox=is_sandbox,
        account_id="sandbox" if is_sandbox else "acc-42",
        counts={"applied": 40, "unchanged": 5, "invalid": 2, "failed": 0},
        seats_lines=("Licensed: 33 of 34 used after the run", "Webinar 500: 1 of 1 used"),
        exit_code=exit_code,
        report_path=report,
    )


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "20261127T225800Z-users-report.xlsx"
    path.write_bytes(REPORT_BYTES)
    return path


def received(server: Server) -> tuple[str, list[str], EmailMessage]:
    (mail,) = server.recorder.mails
    return mail.sender, mail.recipients, mail.message


@pytest.mark.parametrize("kind", ["plain", "starttls", "ssl"], ids=str)
def test_report_arrives_with_summary_and_attachment(
    kind: str, request: pytest.FixtureRequest, report: Path
) -> None:
    """The mail reaches every recipient with subject, summary body and the report's bytes."""
    server: Server = request.getfixturevalue(f"{kind}_server")
    mail = replace(server.mail, username="batch", password=Secret(PASSWORD),
                   recipients=("finance@example.com", "it@example.com"))  # fmt: skip
    send_report(mail, report, summary(report), now=NOW)
    sender, recipients, message = received(server)
    assert (sender, recipients) == ("batch@example.com", ["finance@example.com", "it@example.com"])
    assert server.recorder.logins == [(b"batch", PASSWORD.encode())]
    assert (
        message["Subject"] == "[SANDBOX] Zoom license batch: users.csv - some lines need attention"
    )
    assert (message["From"], message["To"]) == (
        "batch@example.com",
        "finance@example.com, it@example.com",
    )
    assert message["Date"] == "Fri, 27 Nov 2026 22:58:00 +0000"
    assert message["Message-ID"].endswith("@example.com>")
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().splitlines() == [
        "Zoom license batch: users.csv",
        "SANDBOX run: no real account was changed.",
        "Result: some lines need attention (exit 1)",
        "",
        "Lines per outcome:",
        "  applied: 40",
        "  unchanged: 5",
        "  invalid: 2",
        "",
        "Seats:",
        "  Licensed: 33 of 34 used after the run",
        "  Webinar 500: 1 of 1 used",
        "",
        "Report: 20261127T225800Z-users-report.xlsx (attached)",
    ]
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert attachment.get_filename() == report.name
    assert attachment.get_content() == REPORT_BYTES


def test_real_account_mail_names_the_account(plain_server: Server, report: Path) -> None:
    """A run on a real account says which account, with a subject template's date."""
    mail = replace(plain_server.mail, subject="{date} {status}: {file}")
    send_report(mail, report, summary(report, is_sandbox=False, exit_code=0), now=NOW)
    _, _, message = received(plain_server)
    body = message.get_body(("plain",))
    assert body is not None
    assert message["Subject"] == "2026-11-27 OK: users.csv"
    assert body.get_content().splitlines()[1:3] == ["Account: acc-42", "Result: OK (exit 0)"]
    assert "SANDBOX" not in body.get_content()


def test_summary_without_report(plain_server: Server, tmp_path: Path) -> None:
    """A file refused before any report is still mailed, with its error and no attachment."""
    refused = replace(summary(tmp_path / "x.xlsx", exit_code=2), counts={}, seats_lines=(),
                      error="users.csv: not a spreadsheet")  # fmt: skip
    send_report(plain_server.mail, None, refused, now=NOW)
    _, _, message = received(plain_server)
    body = message.get_body(("plain",))
    assert body is not None and list(message.iter_attachments()) == []
    assert "Error: users.csv: not a spreadsheet" in body.get_content().splitlines()
    assert message["Subject"].endswith("users.csv - file refused")


def refusing_cases() -> list[Any]:
    return [
        pytest.param({"port": "closed"}, r"cannot connect \(Connection refused\)", id="no-server"),
        pytest.param(
            {"username": "batch", "password": Secret("wrong-" + PASSWORD)},
            r"login as batch refused \(535 ",
            id="bad-login",
        ),
        pytest.param(
            {"recipients": ("nobody@example.com",)},
            r"recipients refused: nobody@example\.com \(550 5\.1\.1 no such mailbox\)",
            id="recipient-refused",
        ),
        pytest.param(
            {"recipients": ("finance@example.com", "nobody@example.com")},
            r"recipients refused \(sent to the others\): nobody@example\.com \(550",
            id="one-of-two-refused",
        ),
        pytest.param({"security": "starttls"}, r"not supported by the server", id="no-starttls"),
    ]


@pytest.mark.parametrize(("change", "reason"), refusing_cases())
def test_failures_give_one_clear_line(
    plain_server: Server, report: Path, change: dict[str, Any], reason: str
) -> None:
    """A refused mail is a MailError naming the server, never the password; the report stays."""
    if change.get("port") == "closed":
        change = {"port": free_port()}
    mail = replace(plain_server.mail, **change)
    with pytest.raises(MailError) as caught:
        send_report(mail, report, summary(report), now=NOW)
    message = str(caught.value)
    assert message.startswith(f"cannot mail the report via 127.0.0.1:{mail.port}: ")
    assert re.search(reason, message), message
    assert PASSWORD not in message and caught.value.exit_code == 1
    assert report.read_bytes() == REPORT_BYTES


def test_untrusted_certificate_is_refused(
    certificate: tuple[Path, Path], report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server whose certificate the client does not trust gets no mail (TLS failed)."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    for server in serve(Mailbox(PASSWORD), "starttls", tls_context=context, require_starttls=True):
        with pytest.raises(MailError, match="TLS failed"):
            send_report(server.mail, report, summary(report), now=NOW)
        assert server.recorder.mails == []

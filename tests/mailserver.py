"""The one mail server for tests: aiosmtpd on 127.0.0.1, keeping what it receives.

    with smtp_server(Mailbox(password="pw")) as (box, port): ...   or the `mail_server` fixture
    box.mails -> [Mail(sender, recipients, raw)]    mail.message: the parsed EmailMessage
    box.logins -> [(login, password)]               every AUTH attempt, as bytes

A login is accepted when `password` is None (any login) or the login is `batch` with that
password; `refuse_logins` refuses every login, and `echo` makes the 535 answer repeat the
login, the password and their base64 AUTH PLAIN form (a careless server, for the scrubber's
tests). Recipients in `refuse` are answered 550. Keyword options of `smtp_server` go to
aiosmtpd's Controller (TLS: `tls_context=`, `require_starttls=`, `ssl_context=`).
"""

from __future__ import annotations

import base64
import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOGIN = b"batch"


@dataclass(frozen=True)
class Mail:
    """One message as the server received it."""

    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The message parsed, headers decoded."""
        message = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps every message and login; see the module docstring."""

    password: str | None = None
    refuse_logins: bool = False
    echo: bool = False
    refuse: frozenset[str] = frozenset()
    mails: list[Mail] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(
            Mail(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        ok = not self.refuse_logins and (
            self.password is None
            or (data.login == LOGIN and data.password == self.password.encode())
        )
        if ok or not self.echo:
            return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535
        pair = base64.b64encode(b"\0" + data.login + b"\0" + data.password).decode()
        said = f"535 5.7.8 {data.login.decode()}/{data.password.decode()} ({pair}) refused"
        return AuthResult(success=False, handled=False, message=said)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (aiosmtpd cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(box: Mailbox | None = None, **options: Any) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1 while the block runs: its mailbox and port.

    A login is allowed without TLS unless `auth_require_tls` says otherwise.
    """
    box = box if box is not None else Mailbox()
    options.setdefault("auth_require_tls", False)
    port = free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=box.authenticate, **options
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()

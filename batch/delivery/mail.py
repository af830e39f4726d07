"""Mail the Excel report with a short plain-text summary (smtplib: plain, STARTTLS or SSL).

A failure (server unreachable, login refused, recipient refused) raises MailError with one line
naming the server, never the password; the report file is left where it is.

Example::

    send_report(settings.mail, Path("archive/processed/20261127T225800Z-users-report.xlsx"),
                summary)
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Final

from batch import scrub
from batch.delivery import RunSummary
from batch.errors import BatchError
from batch.settings import MailSettings
from batch.vocabulary import (
    EXIT_ACCOUNT,
    EXIT_INPUT,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_ROWS,
    EXIT_SAFETY,
    Outcome,
)

XLSX_TYPE: Final = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
SANDBOX_LINE: Final = "SANDBOX run: no real account was changed."

# The subject's {status}: what the exit code means, in a few words.
STATUS: Final[dict[int, str]] = {
    EXIT_OK: "OK",
    EXIT_ROWS: "some lines need attention",
    EXIT_INPUT: "file refused",
    EXIT_ACCOUNT: "account unreachable",
    EXIT_SAFETY: "stopped by a safety limit",
    EXIT_LOCKED: "another run was busy",
}


class MailError(BatchError):
    """The report could not be mailed (exit 1); the report file stays where it is."""

    exit_code = EXIT_ROWS

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"cannot mail the report via {server}: {reason}")
        self.server = server
        self.reason = reason


def status_text(exit_code: int) -> str:
    """The few words the subject uses for an exit code."""
    return STATUS.get(exit_code, f"exit {exit_code}")


def send_report(
    mail: MailSettings,
    report_path: Path | None,
    summary: RunSummary,
    *,
    now: datetime | None = None,
) -> None:
    """Send the report (attached) and its summary to `mail.recipients`; MailError on failure.

    `report_path` None sends the summary alone (a file refused before any report was written).
    """
    server = f"{mail.host}:{mail.port}"
    if not mail.recipients:
        raise MailError(server, "no recipients configured")
    message = build_message(mail, report_path, summary, now=now or datetime.now(UTC))
    try:
        with _connect(mail) as smtp:
            if mail.username:
                password = mail.password.reveal() if mail.password is not None else ""
                scrub.register_pair(mail.username, password)  # AUTH PLAIN/LOGIN, if echoed
                smtp.login(mail.username, password)
            refused = smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(server, f"login as {mail.username} refused ({_reply(error)})") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError(server, f"recipients refused: {_refused(error.recipients)}") from None
    except smtplib.SMTPSenderRefused as error:
        raise MailError(server, f"sender {error.sender} refused ({_reply(error)})") from None
    except smtplib.SMTPNotSupportedError as error:
        raise MailError(server, f"not supported by the server: {error}") from None
    except smtplib.SMTPResponseException as error:
        raise MailError(server, f"the server answered {_reply(error)}") from None
    except smtplib.SMTPException as error:
        raise MailError(server, str(error) or type(error).__name__) from None
    except ssl.SSLError as error:
        raise MailError(server, f"TLS failed ({error.reason or error})") from None
    except TimeoutError:
        raise MailError(server, f"no answer within {mail.timeout_s:g} s") from None
    except OSError as error:
        raise MailError(server, f"cannot connect ({error.strerror or error})") from None
    if refused:
        # others got it; still a failure the cron owner must see
        raise MailError(server, f"recipients refused (sent to the others): {_refused(refused)}")


def _connect(mail: MailSettings) -> smtplib.SMTP:
    """An open SMTP session, encrypted as configured."""
    if mail.security == "ssl":
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout_s, context=context)
    smtp = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout_s)
    try:
        if mail.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    except BaseException:
        smtp.close()
        raise
    return smtp


def _reply(error: smtplib.SMTPResponseException) -> str:
    text = (
        error.smtp_error.decode("utf-8", "replace")
        if isinstance(error.smtp_error, bytes)
        else str(error.smtp_error)
    )
    return f"{error.smtp_code} {text}".strip()


def _refused(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {reply.decode('utf-8', 'replace')})"
        for address, (code, reply) in refused.items()
    )


def _sender(mail: MailSettings) -> str:
    if mail.sender:
        return mail.sender
    if "@" in mail.username:
        return mail.username
    return f"batch@{socket.gethostname()}"


def build_message(
    mail: MailSettings, report_path: Path | None, summary: RunSummary, *, now: datetime
) -> EmailMessage:
    """The mail: headers, plain-text summary, and the report attached with its bytes."""
    sender = _sender(mail)
    subject = mail.subject.format(
        file=summary.file_name,
        status=status_text(summary.exit_code),
        date=now.astimezone(UTC).date().isoformat(),
    )
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(mail.recipients)
    # scrubbed, and a file name with CR/LF must not make a header of its own
    subject = _one_line(scrub.printable(subject))
    message["Subject"] = f"[SANDBOX] {subject}" if summary.is_sandbox else subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid("batch", domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(scrub.printable(body_text(summary, report_path)))
    if report_path is not None:
        message.add_attachment(
            report_path.read_bytes(),
            maintype=XLSX_TYPE[0],
            subtype=XLSX_TYPE[1],
            filename=_one_line(report_path.name),
        )
    return message


def _one_line(text: str) -> str:
    """`text` for a header: control characters (CR, LF, tab, ...) each become a space."""
    return "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text)


def body_text(summary: RunSummary, report_path: Path | None) -> str:
    """The plain-text body: file, result, lines per outcome, seats, the report's name."""
    lines = [f"Zoom license batch: {summary.file_name}"]
    if summary.is_sandbox:
        lines.append(SANDBOX_LINE)
    elif summary.account_id:
        lines.append(f"Account: {summary.account_id}")
    lines.append(f"Result: {status_text(summary.exit_code)} (exit {summary.exit_code})")
    if summary.error:
        lines.append(f"Error: {summary.error}")
    order = {outcome.value: i for i, outcome in enumerate(Outcome)}
    counts = sorted(
        ((str(k), int(v)) for k, v in summary.counts.items() if v),
        key=lambda item: order.get(item[0], len(order)),
    )
    if counts:
        lines += ["", "Lines per outcome:", *(f"  {name}: {n}" for name, n in counts)]
    if summary.seats_lines:
        lines += ["", "Seats:", *(f"  {line}" for line in summary.seats_lines)]
    lines += ["", *summary.notes] if summary.notes else []
    if report_path is not None:
        lines += ["", f"Report: {report_path.name} (attached)"]
    else:
        lines += ["", "No report was written."]
    return "\n".join(lines) + "\n"

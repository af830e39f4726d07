"""What `batch` prints, as a log collector and an admin see it, and what it never lets out.

Every process here runs with pipes for stdin, stdout and stderr (no terminal), as under cron.
"""

from __future__ import annotations

import email
import email.policy
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import orjson
import pytest

from tests.mailserver import Mailbox, smtp_server

if TYPE_CHECKING:
    from conftest import Served, Workspace

SAMPLE = "users-wide-en.csv"
CANARY = "canary-s3cr3t-7f3a9c"
MAIL_CANARY = "canary-mailpw-4d2e8b"


def parsed_lines(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line parsed as a JSON object (fails the test on the first that is not)."""
    events = [orjson.loads(line) for line in stderr.splitlines()]
    assert all(isinstance(event, dict) for event in events)
    return events


def is_json_object(line: str) -> bool:
    """True when the line is a JSON object."""
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


@pytest.mark.parametrize("command", ["validate", "plan", "apply"], ids=str)
def test_without_terminal_every_stderr_line_is_json(ws: Workspace, command: str) -> None:
    """With no terminal, each stderr line is one JSON object with ts, level and event, and the
    stdout lines are plain text."""
    account = [] if command == "validate" else ["--sandbox", ws.account]  # validate reads none
    run = ws.run(command, ws.sample(SAMPLE), *account)
    assert run.code == 1
    events = parsed_lines(run.stderr)
    assert all({"ts", "level", "event"} <= event.keys() for event in events)
    assert {"loaded", "summary"} <= {event["event"] for event in events}
    assert run.stdout.splitlines()[-1].startswith("Report: reports/users-wide-en-")
    assert not any(is_json_object(line) for line in run.stdout.splitlines())


@pytest.mark.parametrize(
    ("command", "options"),
    [("apply", ()), ("plan", ("--log-format", "json"))],
    ids=["apply-auto", "plan-json"],
)
def test_without_terminal_an_error_is_a_json_line(
    ws: Workspace, command: str, options: tuple[str, ...]
) -> None:
    """A file that cannot be used gives exit 2 and one JSON `error` event naming the file:
    every stderr line still parses as JSON."""
    run = ws.run(command, "missing.csv", "--sandbox", ws.account, *options)
    assert run.code == 2
    errors = [event for event in parsed_lines(run.stderr) if event["level"] == "error"]
    assert [(e["event"], e["exit_code"]) for e in errors] == [("error", 2)]
    assert str(errors[0]["message"]).startswith("missing.csv: cannot be read")


def test_text_log_format_writes_no_json(ws: Workspace) -> None:
    """`--log-format text` gives `time LEVEL event key=value` lines, none of them JSON."""
    run = ws.run("apply", ws.sample(SAMPLE), "--sandbox", ws.account, "--log-format", "text")
    assert run.code == 1
    lines = run.stderr.splitlines()
    assert any(" INFO " in line and " chunk " in line for line in lines)
    assert not any(is_json_object(line) for line in lines)


@pytest.mark.parametrize("log_format", ["auto", "text"], ids=str)
def test_quiet_prints_no_progress_or_info(ws: Workspace, log_format: str) -> None:
    """`--quiet` keeps stderr free of progress and info events; the stdout summary stays."""
    run = ws.run(
        "apply", ws.sample(SAMPLE), "--sandbox", ws.account, "--quiet", "--log-format", log_format
    )
    assert run.code == 1
    assert run.stderr == ""
    assert run.stdout.splitlines()[1] == (
        "apply users-wide-en.csv: 9 applied, 4 unchanged, 16 invalid, 1 skipped"
    )


def summary_title(report: Path) -> str:
    """The first cell of the report's Summary sheet."""
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        return str(next(workbook["Summary"].iter_rows(values_only=True))[0])
    finally:
        workbook.close()


@pytest.mark.parametrize(
    ("command", "where", "first_line"),
    [
        ("plan", "default", "Using the SANDBOX account in .batch/sandbox.json: "),
        ("apply", "file", "Using the SANDBOX account in {account}: "),
        ("apply", "served", "Using the SANDBOX served at {api_url}: "),
        ("inbox", "file", "Using the SANDBOX account in {account}: "),
    ],
    ids=["plan-default", "apply-sandbox-file", "apply-served", "inbox-sandbox-file"],
)
def test_first_line_names_the_sandbox(
    ws: Workspace, served: Served, command: str, where: str, first_line: str
) -> None:
    """Without credentials the first stdout line of plan, apply and inbox says SANDBOX and that
    no real account is touched, and so does the report's title."""
    if command == "inbox":
        (ws.root / "inbox").mkdir()
        (ws.root / "inbox" / SAMPLE).write_bytes(ws.sample(SAMPLE).read_bytes())
        (ws.root / "batch.toml").write_text("[inbox]\nsettle_s = 0\n")
    target = "inbox" if command == "inbox" else ws.sample(SAMPLE)
    options = {"default": [], "file": ["--sandbox", ws.account],
               "served": ["--api-url", served.api_url]}[where]  # fmt: skip
    run = ws.run(command, target, *options)
    assert run.code == 1
    first = run.stdout.splitlines()[0]
    expected = first_line.format(account=ws.account, api_url=served.api_url)
    assert first == expected + "no real Zoom account is touched."
    reports = list(ws.root.rglob("*.xlsx"))
    assert len(reports) == 1
    assert summary_title(reports[0]).startswith("SANDBOX")
    if where == "default":
        assert (ws.root / ".batch" / "sandbox.json").is_file()


# -- the canary secret ---------------------------------------------------------------------


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A plain SMTP server on 127.0.0.1 that takes only the canary login (allowed without TLS)."""
    with smtp_server(Mailbox(password=MAIL_CANARY)) as running:
        yield running


def blobs(data: bytes, where: str) -> Iterator[tuple[str, bytes]]:
    """The bytes themselves and, for a zip (an xlsx), every part inside it, uncompressed."""
    yield where, data
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                yield f"{where}!{name}", archive.read(name)


def mail_blobs(raw: bytes, where: str) -> Iterator[tuple[str, bytes]]:
    """A received message's raw bytes and every part decoded (attachments unzipped)."""
    yield where, raw
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for number, part in enumerate(message.walk()):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            yield from blobs(payload, f"{where} part {number}")


@pytest.mark.slow  # four runs and a mail server: about 20 s on a busy 2-core machine
def test_canary_secrets_appear_nowhere(ws: Workspace, mailbox: tuple[Mailbox, int]) -> None:
    """The client secret and the mail password, used by validate, plan, apply and inbox runs
    that succeed with them, are in no output, report, journal, archive, lock or mail."""
    box, port = mailbox
    ws.with_credentials("acct-canary", "client-canary", CANARY)
    env = {"ZOOM_ACCOUNT_ID": "acct-canary", "ZOOM_CLIENT_ID": "client-canary",
           "ZOOM_CLIENT_SECRET": CANARY, "SMTP_PASSWORD": MAIL_CANARY}  # fmt: skip
    inbox = ws.root / "inbox"
    inbox.mkdir()
    (inbox / SAMPLE).write_bytes(ws.sample("licenses-long.xlsx").read_bytes())
    runs = []
    with ws.serve() as served:
        (ws.root / "batch.toml").write_text(
            f'[zoom]\napi_url = "{served.api_url}"\n[inbox]\nsettle_s = 0\n'
            f'[mail]\nhost = "127.0.0.1"\nport = {port}\nusername = "batch"\n'
            'password_env = "SMTP_PASSWORD"\nsender = "batch@example.com"\n'
            'recipients = ["finance@example.com"]\ntimeout_s = 10\n'
        )
        api = ("--api-url", served.api_url)
        runs.append(ws.run("validate", ws.sample(SAMPLE), env=env))
        runs.append(ws.run("plan", ws.sample(SAMPLE), *api, env=env))
        runs.append(ws.run("apply", ws.sample(SAMPLE), *api, "--log-format", "text", env=env))
        runs.append(ws.run("inbox", "inbox", env=env))
    assert [run.code for run in runs] == [1, 1, 1, 1]  # the secret was accepted each time
    assert runs[1].stdout.startswith("Using Zoom account acct-canary at ")
    assert len(box.mails) == 2  # apply and inbox mailed their reports
    assert set(box.logins) == {(b"batch", MAIL_CANARY.encode())}

    found: list[tuple[str, bytes]] = []
    for number, run in enumerate(runs):
        found.append((f"run {number} stdout", run.stdout.encode()))
        found.append((f"run {number} stderr", run.stderr.encode()))
    files = [p for p in ws.root.rglob("*") if p.is_file() and "account.json" not in p.name]
    assert {p.suffix for p in files} >= {".xlsx", ".sqlite", ".csv", ".toml", ".lock"}
    for path in files:
        found.extend(blobs(path.read_bytes(), str(path.relative_to(ws.root))))
    for number, raw in enumerate(mail.raw for mail in box.mails):
        found.extend(mail_blobs(raw, f"mail {number}"))
    for secret in (CANARY, MAIL_CANARY):
        leaks = [where for where, data in found if secret.encode() in data]
        assert leaks == [], f"{secret} found in {leaks}"

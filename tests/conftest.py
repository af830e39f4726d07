"""End-to-end fixtures: `batch` run in-process or as a real process, the sandbox on 127.0.0.1.

    ws = Workspace(tmp_path)                 cwd of every `batch` run (.batch/, reports/)
    ws.run("apply", FILE, ...) -> Run        exit code, stdout, stderr of a finished run, in-process
    ws.run_process("apply", FILE, ...) -> Run   the same as a process of its own
    ws.start("inbox", DIR, ...) -> ForkedBatch   a process left running (signals, SIGKILL, locks)
    with ws.serve(faults) as served: ...     the account JSON served over loopback HTTP
    mail_server -> (Mailbox, port)           an SMTP server (tests/mailserver.py) keeping mails
    ws.results(report) -> [(row, license, action, outcome, code)]   the Results sheet
    ws.holdings() / ws.expected(*samples)    users' type and add-ons, found and predicted

`ws.run` calls the console script's `main()` in this process under click's CliRunner isolation
(a `batch` process spends 3-4 s importing pandas and friends before it does anything): the same
entry point, cwd, environment, empty stdin and scrubbed stdout/stderr as the console script.
Use `ws.run_process` where the process boundary is what is tested: signals, crashes, locks held
by another process, `BATCH_DEBUG` logging, the scrubber installed for the whole process. Those
processes are forked from the test process (tests/forked.py): a process of its own, without the
2 s a fresh interpreter spends on imports. The console script itself is started by the tests
that run `batch` on a terminal (test_confirm.py, test_terminal_summary.py).

Test modules use the `ws` and `served` fixtures; they import names from here for annotations
only (under TYPE_CHECKING).

The account is a copy of samples/sandbox.json at tmp_path/account.json; the sample files are
read where they are (samples/), so a test never changes them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import openpyxl
import pytest
from click.testing import CliRunner

from batch import scrub
from batch.sandbox import DEMO_ACCOUNT, Faults, Sandbox, serve
from tests.forked import ForkedBatch, call_main, run_forked
from tests.mailserver import Mailbox, smtp_server

SAMPLES: Final = DEMO_ACCOUNT.parent
BATCH: Final = Path(sys.executable).parent / "batch"
# Variables a developer's shell may hold that would send a test to a real account or mailbox.
SCRUBBED_ENV: Final = ("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET")
PROCESS_TIMEOUT_S: Final = 180


# Files whose tests run longest (state machines, property tests, real processes that wait for
# each other). They are collected first so that `-n 2` starts them early instead of leaving one
# worker alone with a minute-long test at the end; the order of everything else is unchanged.
LONG_FILES_FIRST: Final = (
    "test_stateful.py",
    "test_hostile.py",
    "test_account_lock.py",
    "test_file_rules.py",
    "test_e2e_inbox.py",
    "test_planning_properties.py",
    "test_stops.py",
    "test_intake_properties.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long files first, longest first (a stable sort: within a file, and for the rest,
    collection order)."""
    rank = {name: n for n, name in enumerate(LONG_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(autouse=True)
def no_event_loop_left_running(request: pytest.FixtureRequest) -> None:
    """Each test starts with no event loop marked running in its thread.

    Playwright's sync API marks its loop as running while it is started; a browser kept past
    its module made every later `asyncio.run` in that worker fail, depending on how xdist
    shared the tests out. This names the cause at once instead.
    """
    if "browser" in request.fixturenames:
        return
    assert asyncio._get_running_loop() is None, "an event loop was left running in this thread"


Holding = tuple[str, int | None, int | None, int | None]  # type, large meeting, webinar, events

# What applying each sample alone to the demo account changes, from the samples' Notes column:
# email -> (type, large_meeting, webinar, zoom_events) after the run. Everyone else keeps theirs.
SAMPLE_CHANGES: Final[dict[str, dict[str, Holding]]] = {
    "users-wide-en.csv": {
        "eline.debruijn@example.com": ("Licensed", None, None, None),
        "floor.dejong@example.com": ("Licensed", None, 500, None),
        "hanna.mulder@example.com": ("Basic", None, None, None),
        "guus.schouten@example.com": ("Licensed", None, None, None),
        "bas.devries@example.com": ("Licensed", None, None, None),
        "femke.meijer@example.com": ("Licensed", 500, 500, None),
        "gijs.deboer@example.com": ("Licensed", None, None, 500),
        "pien.brouwer@example.com": ("Licensed", 500, None, None),
    },
    "gebruikers-nl.csv": {
        "maud.maas@example.com": ("Licensed", None, None, None),
        "niels.verhoeven@example.com": ("Licensed", None, 500, None),
        "femke.meijer@example.com": ("Licensed", 1000, None, None),
        "zoe.vermeulen@example.com": ("Licensed", 500, None, None),
        "eva.visser@example.com": ("Licensed", None, None, None),
        "tess.degraaf@example.com": ("Licensed", None, None, 500),
        "wout.kok@example.com": ("Basic", None, None, None),
        "oscar.koster@example.com": ("Licensed", None, None, None),
        "bram.vanderheijden@example.com": ("Licensed", None, None, 500),
    },
    "licenses-long.xlsx": {
        "hugo.vanbeek@example.com": ("Licensed", None, 500, None),
        "carla.jansen@example.com": ("Licensed", None, None, None),
        "ivo.degroot@example.com": ("Licensed", 500, None, None),
        "ann.smit@example.com": ("Licensed", None, None, None),
        "femke.meijer@example.com": ("Licensed", 500, 500, None),
        "julia.bos@example.com": ("Licensed", None, None, 500),
        "quinten.dewit@example.com": ("Basic", None, None, None),
        "puck.vandam@example.com": ("Licensed", None, None, None),
    },
}


def wants_json_logs(args: tuple[str | Path, ...]) -> bool:
    """True when a command line asks for JSON logs (`--log-format json` or `=json`)."""
    words = [str(arg) for arg in args]
    pairs = zip(words, [*words[1:], ""], strict=True)
    return "--log-format=json" in words or ("--log-format", "json") in pairs


def assert_json_lines(stderr: str) -> None:
    """Every stderr line of a run with JSON logs is one JSON object with ts, level and event."""
    for line in stderr.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        assert isinstance(event, dict) and {"ts", "level", "event"} <= event.keys(), (
            f"a stderr line of a --log-format json run is not a JSON event: {line!r}"
        )


@dataclass(frozen=True)
class Run:
    """A finished `batch` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        """The stderr lines that start with `Error: `."""
        return [line for line in self.stderr.splitlines() if line.startswith("Error: ")]


@dataclass(frozen=True)
class Served:
    """A sandbox served over HTTP in this process: its stats and the URL to give `--api-url`."""

    sandbox: Sandbox
    url: str

    @property
    def api_url(self) -> str:
        """The API base, as `--api-url` takes it."""
        return f"{self.url}/v2"

    def holdings(self) -> dict[str, Holding]:
        """The served account's users now: type and add-on sizes."""
        return holdings_of(self.sandbox.to_dict())

    def write_requests(self) -> int:
        """Requests that could change the account (PATCH, or POST other than the token)."""
        return sum(
            n
            for (method, route), n in self.sandbox.stats.requests.items()
            if method == "PATCH" or (method == "POST" and "oauth" not in route)
        )


def holdings_of(account: Mapping[str, Any]) -> dict[str, Holding]:
    """Every user's type and add-on sizes, from section-5 account JSON."""
    return {
        user["email"]: (user["type"], user["large_meeting"], user["webinar"], user["zoom_events"])
        for user in account["users"]
    }


def expected_holdings(*samples: str) -> dict[str, Holding]:
    """The demo account's holdings after applying `samples` one after the other."""
    holdings = holdings_of(json.loads(DEMO_ACCOUNT.read_bytes()))
    for sample in samples:
        holdings.update(SAMPLE_CHANGES[sample])
    return holdings


def report_lines(report: Path) -> list[tuple[int, str, str, str, str]]:
    """The Results sheet as (Row, License, Action, Outcome, Code) tuples; a blank code is ""."""
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        rows = list(workbook["Results"].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = list(rows[0])
    at = {name: header.index(name) for name in ("Row", "License", "Action", "Outcome", "Code")}
    # read-only rows end at their last written cell: pad them to the header's width
    rows = [tuple(row) + (None,) * (len(header) - len(row)) for row in rows]
    return [
        (
            int(row[at["Row"]]),  # type: ignore[arg-type]
            str(row[at["License"]]),
            str(row[at["Action"]]),
            str(row[at["Outcome"]]),
            str(row[at["Code"]] or ""),
        )
        for row in rows[1:]
    ]


def report_messages(report: Path) -> list[str]:
    """The Results sheet's Message column."""
    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        rows = list(workbook["Results"].iter_rows(values_only=True))
    finally:
        workbook.close()
    column = list(rows[0]).index("Message")
    return [str(row[column] or "") for row in rows[1:]]


def run_inprocess(
    cwd: Path, *args: str | Path, env: Mapping[str, str] | None = None, stdin: str = ""
) -> Run:
    """`batch ARGS` through the console script's own `main()`, in this process.

    Click's CliRunner isolation gives it captured stdout/stderr (no terminal), `stdin` (empty)
    and the environment without the Zoom credential variables plus `env`; `cwd` is the
    working directory. What `main()` changes for the rest of a process is put back after: the
    SIGTERM handler, and the secrets registered with the scrubber (so a later test in this
    worker cannot pass because an earlier one registered its secret). An exception escaping
    `main()` is written to stderr with exit 1, as a real process does.
    """
    hidden: dict[str, str | None] = dict.fromkeys(SCRUBBED_ENV, None)
    hidden.update(env or {})
    lasting, recent = set(scrub._lasting), list(scrub._recent)
    sigterm, argv, before = signal.getsignal(signal.SIGTERM), sys.argv, Path.cwd()
    with CliRunner().isolation(input=stdin, env=hidden) as (stdout, stderr, _):
        os.chdir(cwd)
        try:
            code = call_main(args)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.chdir(before)
            sys.argv = argv
            signal.signal(signal.SIGTERM, sigterm)
            scrub._lasting.clear()
            scrub._lasting.update(lasting)
            scrub._recent.clear()
            scrub._recent.extend(recent)
            scrub._stale = True
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    return Run(code, out.replace("\r\n", "\n"), err.replace("\r\n", "\n"))


class Workspace:
    """A folder to run `batch` in, with its own copy of the demo account."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.account = root / "account.json"
        shutil.copyfile(DEMO_ACCOUNT, self.account)

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The process environment: ours without Zoom credentials, plus `extra`."""
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        env.update(extra or {})
        return env

    def run(
        self, *args: str | Path, env: Mapping[str, str] | None = None, timeout: float = 0
    ) -> Run:
        """Run `batch ARGS` to its end in this process: cwd, env, no terminal, as a process.

        `timeout` is accepted for callers written for a process; a run in this process has none.
        """
        del timeout
        done = run_inprocess(self.root, *args, env=env)
        if wants_json_logs(args):
            assert_json_lines(done.stderr)
        return done

    def run_process(
        self, *args: str | Path, env: Mapping[str, str] | None = None, timeout: float = 0
    ) -> Run:
        """Run `batch ARGS` as a process of its own (forked, tests/forked.py) with piped
        stdin/stdout/stderr (no terminal), to its end."""
        code, stdout, stderr = run_forked(
            args, cwd=self.root, env=self.env(env), timeout=timeout or PROCESS_TIMEOUT_S
        )
        if wants_json_logs(args):
            assert_json_lines(stderr)
        return Run(code, stdout, stderr)

    def start(self, *args: str | Path, env: Mapping[str, str] | None = None) -> ForkedBatch:
        """Start `batch ARGS` as a process of its own and return at once (a Popen-like
        `ForkedBatch`); the caller waits for, signals or kills it."""
        return ForkedBatch(args, cwd=self.root, env=self.env(env))

    @contextmanager
    def serve(self, faults: Faults | None = None) -> Iterator[Served]:
        """The workspace's account served on 127.0.0.1 while the block runs."""
        sandbox = Sandbox.from_file(self.account, faults=faults)
        with serve(sandbox) as url:
            yield Served(sandbox, url)

    def holdings(self) -> dict[str, Holding]:
        """The account file's users now: type and add-on sizes."""
        return holdings_of(json.loads(self.account.read_bytes()))

    results = staticmethod(report_lines)
    messages = staticmethod(report_messages)
    expected = staticmethod(expected_holdings)

    @staticmethod
    def sample(name: str) -> Path:
        """A file of samples/ (read in place, never changed)."""
        return SAMPLES / name

    def with_credentials(self, account_id: str, client_id: str, client_secret: str) -> None:
        """Make the sandbox account accept only these credentials."""
        data = json.loads(self.account.read_bytes())
        data["credentials"] = {
            "account_id": account_id,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self.account.write_text(json.dumps(data, indent=1))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh workspace under tmp_path with a copy of the demo account."""
    return Workspace(tmp_path)


@pytest.fixture
def served(ws: Workspace) -> Iterator[Served]:
    """The workspace's account served over loopback HTTP (no faults)."""
    with ws.serve() as running:
        yield running


@pytest.fixture
def mail_server() -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1 accepting every message and login: its mailbox and port."""
    with smtp_server() as running:
        yield running

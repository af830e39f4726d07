"""`batch plan` and `batch apply` end to end: real processes against the sandbox account.

Each sample row's purpose is in its Notes/Opmerking column; the tables below are those notes
written as the report lines they must give (Row, License, Action, Outcome, Code).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import openpyxl
import pytest

if TYPE_CHECKING:
    from conftest import Served, Workspace

Line = tuple[int, str, str, str, str]

WIDE_EN: list[Line] = [
    (2, "Licensed", "assign", "applied", ""),  # upgrade Basic to Licensed
    (3, "Licensed", "assign", "applied", ""),  # upgrade, then Webinar 500
    (3, "Webinar 500", "assign", "applied", ""),
    (4, "Basic", "assign", "applied", ""),  # downgrade to Basic: frees a seat
    (5, "Licensed", "assign", "applied", ""),  # upgrade using the seat freed above
    (6, "Large Meeting 500", "remove", "applied", ""),
    (7, "Large Meeting 500", "change", "applied", ""),  # 1000 -> 500
    (8, "Zoom Events 500", "assign", "applied", ""),  # yes: the only owned size
    (9, "Licensed", "none", "unchanged", ""),
    (9, "Webinar 1000", "none", "unchanged", ""),  # quoted "1,000"
    (11, "Licensed", "none", "unchanged", ""),  # capitals and a non-breaking space
    (12, "Licensed", "assign", "invalid", "missing-email"),
    (13, "Licensed", "assign", "invalid", "invalid-email"),
    (14, "Premium", "assign", "invalid", "unknown-license"),
    (15, "Zoom Events", "none", "invalid", "unknown-license"),  # "maybe"
    (16, "Webinar 750", "assign", "invalid", "invalid-size"),
    (17, "Webinar 500", "assign", "invalid", "not-stackable"),
    (18, "Webinar 1000", "assign", "invalid", "not-stackable"),
    (20, "Basic", "assign", "invalid", "conflict"),
    (21, "Licensed", "assign", "invalid", "conflict"),
    (22, "Large Meeting 500", "assign", "applied", ""),  # seat freed by bas
    (23, "Large Meeting 500", "assign", "skipped", "duplicate"),
    (24, "Basic", "none", "unchanged", ""),
    (24, "Webinar 500", "assign", "invalid", "missing-prerequisite"),  # file rule
    (25, "Webinar 500", "assign", "invalid", "missing-prerequisite"),  # account rule
    (26, "Webinar", "assign", "invalid", "size-ambiguous"),
    (27, "Licensed", "assign", "invalid", "user-not-found"),
    (28, "Webinar 500", "assign", "invalid", "user-not-found"),
    (29, "Licensed", "assign", "invalid", "user-not-active"),  # pending
    (30, "Webinar 500", "assign", "invalid", "user-not-active"),  # inactive
]

GEBRUIKERS_NL: list[Line] = [
    (2, "Licensed", "assign", "applied", ""),  # opwaarderen van Basis
    (3, "Licensed", "assign", "applied", ""),  # opwaarderen en Webinar 500
    (3, "Webinar 500", "assign", "applied", ""),
    (4, "Webinar 500", "remove", "applied", ""),  # nee
    (5, "Large Meeting 500", "assign", "applied", ""),
    (6, "Zoom Events 500", "remove", "applied", ""),  # verwijderen
    (7, "Webinar 1000", "none", "unchanged", ""),  # 1.000
    (8, "Zoom Events 500", "assign", "applied", ""),  # ja: enige maat 500
    (9, "Basic", "assign", "applied", ""),  # naar Basis: maakt een plek vrij
    (10, "Licensed", "assign", "applied", ""),  # met de vrijgekomen plek
    (12, "Licensed", "assign", "invalid", "missing-email"),
    (13, "Licensed", "assign", "invalid", "invalid-email"),
    (14, "Plus", "assign", "invalid", "unknown-license"),
    (15, "Large Meeting 750", "assign", "invalid", "invalid-size"),
    (16, "Webinar 500", "assign", "invalid", "not-stackable"),
    (17, "Webinar 1000", "assign", "invalid", "not-stackable"),
    (18, "Basic", "assign", "invalid", "conflict"),
    (19, "Licensed", "assign", "invalid", "conflict"),
    (20, "Zoom Events 500", "assign", "applied", ""),
    (21, "Zoom Events", "assign", "skipped", "duplicate"),
    (22, "Basic", "none", "unchanged", ""),
    (22, "Large Meeting 500", "assign", "invalid", "missing-prerequisite"),  # bestand
    (23, "Webinar 500", "assign", "invalid", "missing-prerequisite"),  # account
    (24, "Licensed", "none", "unchanged", ""),  # hoofdletters en harde spatie
    (25, "Licensed", "assign", "invalid", "user-not-found"),
    (26, "Licensed", "assign", "invalid", "user-not-active"),  # uitgenodigd
    (27, "Licensed", "assign", "invalid", "user-not-active"),  # gedeactiveerd
]

LICENSES_LONG: list[Line] = [
    (2, "Licensed", "assign", "applied", ""),
    (3, "Webinar 500", "assign", "applied", ""),  # prerequisite met in the same file
    (4, "Webinar 500", "remove", "applied", ""),
    (5, "Large Meeting 500", "assign", "applied", ""),  # Dutch words
    (6, "Large Meeting 500", "remove", "applied", ""),
    (7, "Large Meeting 500", "change", "applied", ""),  # 1000 -> 500
    (8, "Zoom Events 500", "assign", "applied", ""),
    (9, "Webinar 1000", "none", "unchanged", ""),
    (10, "Basic", "assign", "applied", ""),  # downgrade: frees a seat
    (11, "Licensed", "assign", "applied", ""),  # Met licentie
    (13, "Licensed", "assign", "invalid", "missing-email"),
    (14, "Webinar 500", "assign", "invalid", "invalid-email"),
    (15, "Webinar Gold", "assign", "invalid", "unknown-license"),
    (16, "Webinar 750", "assign", "invalid", "invalid-size"),
    (17, "Large Meeting 500", "assign", "invalid", "not-stackable"),
    (18, "Large Meeting 1000", "assign", "invalid", "not-stackable"),
    (19, "Webinar 500", "assign", "invalid", "conflict"),
    (20, "Webinar 500", "remove", "invalid", "conflict"),
    (21, "Licensed", "none", "unchanged", ""),
    (22, "Licensed", "assign", "skipped", "duplicate"),
    (23, "Basic", "none", "unchanged", ""),
    (24, "Webinar 500", "assign", "invalid", "missing-prerequisite"),  # file rule
    (25, "Zoom Events 500", "assign", "invalid", "missing-prerequisite"),  # account rule
    (27, "Licensed", "none", "unchanged", ""),  # capitals and a non-breaking space
    (28, "On-prem", "assign", "invalid", "onprem-unavailable"),
    (29, "Licensed", "assign", "invalid", "user-not-found"),
    (30, "Webinar 500", "assign", "invalid", "user-not-active"),  # pending
]

SAMPLES = {
    "users-wide-en.csv": WIDE_EN,
    "gebruikers-nl.csv": GEBRUIKERS_NL,
    "licenses-long.xlsx": LICENSES_LONG,
}


def planned(lines: list[Line]) -> list[Line]:
    """The same lines as a plan reports them: what apply would apply is `planned`."""
    return [(r, lic, a, "planned" if o == "applied" else o, c) for r, lic, a, o, c in lines]


# The wide sample in the default suite; the other two (their lines are checked by the apply
# test as well, and each costs a few processes) in CI's slow suite.
WIDE_FAST_OTHERS_SLOW = [
    "users-wide-en.csv",
    pytest.param("gebruikers-nl.csv", marks=pytest.mark.slow),
    pytest.param("licenses-long.xlsx", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name", WIDE_FAST_OTHERS_SLOW, ids=list(SAMPLES))
def test_plan_over_http_changes_nothing(ws: Workspace, served: Served, name: str) -> None:
    """`batch plan` against a served sandbox sends no write, leaves the account file as it was,
    exits 1 for the samples' mistakes and reports every row's planned outcome and code."""
    before = ws.account.read_bytes()
    run = ws.run("plan", ws.sample(name), "--api-url", served.api_url, "--report", "plan.xlsx")
    served.sandbox.flush()
    assert (run.code, run.errors) == (1, [])
    assert served.sandbox.stats.writes == 0
    assert served.write_requests() == 0
    assert ws.account.read_bytes() == before
    assert ws.results(ws.root / "plan.xlsx") == planned(SAMPLES[name])


def test_plan_in_process_leaves_the_file_byte_identical(ws: Workspace) -> None:
    """`batch plan --sandbox FILE` (the in-process sandbox) does not rewrite the account file."""
    before = ws.account.read_bytes()
    run = ws.run("plan", ws.sample("licenses-long.xlsx"), "--sandbox", ws.account)
    assert run.code == 1
    assert ws.account.read_bytes() == before
    (report,) = (ws.root / "reports").glob("licenses-long-*.xlsx")
    assert ws.results(report) == planned(LICENSES_LONG)


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("users-wide-en.csv", "served"),
        ("gebruikers-nl.csv", "in-process"),
        ("licenses-long.xlsx", "served"),
    ],
    ids=["wide-en-served", "nl-in-process", "long-served"],
)
def test_apply_gives_the_noted_lines_and_account(ws: Workspace, name: str, where: str) -> None:
    """`batch apply` of a sample reports each row as its note says and leaves exactly the
    noted users changed (type and add-ons), over HTTP and in-process alike."""
    args = ("apply", ws.sample(name), "--report", "a.xlsx")
    if where == "served":
        with ws.serve() as served:
            run = ws.run(*args, "--api-url", served.api_url)
    else:
        run = ws.run(*args, "--sandbox", ws.account)
    assert (run.code, run.errors) == (1, [])
    assert ws.results(ws.root / "a.xlsx") == SAMPLES[name]
    assert ws.holdings() == ws.expected(name)


@pytest.mark.parametrize("name", WIDE_FAST_OTHERS_SLOW, ids=list(SAMPLES))
def test_second_apply_sends_no_write(ws: Workspace, served: Served, name: str) -> None:
    """Applying the same file twice writes nothing the second time; the lines the first run
    applied now read `unchanged`, "done by an earlier run"."""
    args = ("apply", ws.sample(name), "--api-url", served.api_url)
    assert ws.run(*args, "--report", "first.xlsx").code == 1
    writes, write_requests = served.sandbox.stats.writes, served.write_requests()
    second = ws.run(*args, "--report", "second.xlsx")
    assert second.code == 1
    assert (served.sandbox.stats.writes, served.write_requests()) == (writes, write_requests)
    first_lines = ws.results(ws.root / "first.xlsx")
    second_lines = ws.results(ws.root / "second.xlsx")
    assert {line[3] for line in second_lines} <= {"unchanged", "invalid", "skipped"}
    earlier = [
        message.startswith("done by an earlier run")
        for message in ws.messages(ws.root / "second.xlsx")
    ]
    assert earlier == [line[3] == "applied" for line in first_lines]
    assert served.holdings() == ws.expected(name)


def test_dry_run_writes_nothing_and_reports_planned(ws: Workspace, served: Served) -> None:
    """`apply --dry-run` sends no write and reports `planned` where apply would apply."""
    before = ws.account.read_bytes()
    run = ws.run(
        "apply", ws.sample("users-wide-en.csv"), "--dry-run", "--api-url", served.api_url,
        "--report", "dry.xlsx",
    )  # fmt: skip
    served.sandbox.flush()
    assert run.code == 1
    assert (served.sandbox.stats.writes, served.write_requests()) == (0, 0)
    assert ws.account.read_bytes() == before
    assert ws.results(ws.root / "dry.xlsx") == planned(WIDE_EN)


def test_sync_beyond_max_removals_stops_before_any_change(ws: Workspace, served: Served) -> None:
    """`--mode sync` that would remove more than `--max-removals` exits 4 with one Error line
    giving the numbers, and changes nothing."""
    before = ws.account.read_bytes()
    run = ws.run(
        "apply", ws.sample("users-wide-en.csv"), "--mode", "sync", "--max-removals", "1",
        "--api-url", served.api_url, "--log-format", "text",
    )  # fmt: skip
    served.sandbox.flush()
    assert run.code == 4
    assert run.errors == [
        # 17 of the 30 active Licensed users are not in the file; carla and femke have no
        # Webinar line; 32 and 2 are the holders (pending and inactive ones included)
        "Error: sync would remove 17 of 32 Licensed licenses (53%) and 2 of 2 Webinar 500 "
        "licenses (100%), more than --max-removals 1: raise --max-removals to go ahead "
        f"(report: {next((ws.root / 'reports').glob('*.xlsx')).relative_to(ws.root)})"
    ]
    assert (served.sandbox.stats.writes, served.write_requests()) == (0, 0)
    assert ws.account.read_bytes() == before
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("command", [("plan",), ("apply", "--dry-run")], ids=["plan", "dry-run"])
def test_sync_brake_still_writes_the_report(ws: Workspace, command: tuple[str, ...]) -> None:
    """A plan or dry run stopped by `--max-removals` exits 4 and still writes the report: the
    removals sync would make are listed and the Summary names the brake."""
    before = ws.account.read_bytes()
    run = ws.run(
        *command, ws.sample("users-wide-en.csv"), "--mode", "sync", "--max-removals", "1",
        "--sandbox", ws.account, "--report", "brake.xlsx", "--log-format", "text",
    )  # fmt: skip
    assert run.code == 4
    assert run.errors[-1].endswith("raise --max-removals to go ahead (report: brake.xlsx)")
    assert ws.account.read_bytes() == before
    workbook = openpyxl.load_workbook(ws.root / "brake.xlsx", read_only=True)
    try:
        header, *rows = workbook["Results"].iter_rows(values_only=True)
        summary = [row[:2] for row in workbook["Summary"].iter_rows(values_only=True)]
    finally:
        workbook.close()
    at = {name: i for i, name in enumerate(header)}
    removals = [r for r in rows if r[at["Row"]] is None]  # sync's lines have no row of the file
    assert {(r[at["Action"]], r[at["Outcome"]]) for r in removals} == {("remove", "planned")}
    licenses = [r[at["License"]] for r in removals]
    # the brake's numbers: 17 Licensed users not in the file, 2 Webinar 500 holders (plus the
    # add-ons the downgraded users lose with their license)
    assert (licenses.count("Licensed"), licenses.count("Webinar 500")) == (17, 2)
    notes = [row[1] for row in summary if len(row) == 2 and row[0] == "Note"]
    assert any(
        str(n).startswith("Stopped by the sync brake, nothing changed: sync would remove 17 of 32")
        for n in notes
    )


@pytest.mark.parametrize(
    ("account_id", "client_id", "secret", "reason"),
    [
        ("acct-1", "client-1", "wrong-secret", "Invalid client_id or client_secret"),
        ("acct-2", "client-1", "right-secret", "Invalid account_id"),
    ],
    ids=["wrong-secret", "wrong-account"],
)
def test_refused_credentials_exit_3(
    ws: Workspace, account_id: str, client_id: str, secret: str, reason: str
) -> None:
    """Credentials the account refuses end the run with exit 3 and one Error line saying why
    (never the secret), before anything is read or written."""
    ws.with_credentials("acct-1", "client-1", "right-secret")
    env = {"ZOOM_ACCOUNT_ID": account_id, "ZOOM_CLIENT_ID": client_id,
           "ZOOM_CLIENT_SECRET": secret}  # fmt: skip
    with ws.serve() as served:
        run = ws.run(
            "apply", ws.sample("users-wide-en.csv"), "--api-url", served.api_url,
            "--log-format", "text", env=env,
        )  # fmt: skip
    assert run.code == 3
    assert run.stdout.splitlines()[0] == f"Using Zoom account {account_id} at {served.api_url}."
    (error,) = run.errors
    assert error.startswith(f"Error: Zoom refused the credentials for account {account_id}: ")
    assert reason in error
    assert secret not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert served.sandbox.stats.writes == 0
    assert not (ws.root / "reports").exists()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_unreachable_api_exits_3(ws: Workspace, host: str) -> None:
    """An --api-url on this machine nobody answers on ends the run at once with exit 3 and one
    Error line naming the URL and asking whether the sandbox is served."""
    url = f"http://{host}:{closed_port()}"
    run = ws.run(
        "apply", ws.sample("users-wide-en.csv"), "--api-url", f"{url}/v2", "--log-format", "text"
    )
    assert run.code == 3
    assert run.errors == [
        f"Error: cannot reach {url}/oauth/token: connection refused; "
        "is `batch sandbox serve` running?"
    ]
    assert "Traceback" not in run.stderr


UNUSABLE = [
    ("validate", "missing.csv", None, "cannot be read"),
    ("apply", "missing.xlsx", None, "cannot be read"),
    ("apply", "empty.csv", b"", "empty"),
    ("plan", "binary.xlsx", bytes(range(256)) * 8, "not a spreadsheet"),
    ("validate", "binary.csv", b"\x00\x01\x02PK\x03\x04\xff\xfe" * 200, "not a spreadsheet"),
    ("apply", "no-email.csv", b"Name,User type\nAnn,Licensed\n", "no email column"),
]


@pytest.mark.parametrize(
    ("command", "name", "content", "reason"),
    UNUSABLE,
    ids=[f"{command}-{name}" for command, name, _, _ in UNUSABLE],
)
def test_unusable_file_exits_2_with_one_error_line(
    ws: Workspace, command: str, name: str, content: bytes | None, reason: str
) -> None:
    """A missing, empty, binary or email-less file exits 2 with exactly one `Error:` line
    naming the file and the reason, no traceback, no report and no account change."""
    if content is not None:
        (ws.root / name).write_bytes(content)
    before = ws.account.read_bytes()
    account = [] if command == "validate" else ["--sandbox", ws.account]  # validate reads none
    run = ws.run(command, name, *account, "--log-format", "text")
    assert run.code == 2
    (error,) = run.errors
    assert error.startswith(f"Error: {name}: ")
    assert reason in error
    assert "Traceback" not in run.stdout + run.stderr
    assert not (ws.root / "reports").exists()
    assert ws.account.read_bytes() == before

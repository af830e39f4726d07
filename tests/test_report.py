"""The Excel result report: every sheet read back and checked against hand-built runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from batch.counts import outcome_counts
from batch.model import (
    REQUEST_COLUMNS,
    RESULT_COLUMNS,
    RESULT_INTERNAL_COLUMNS,
    AccountSnapshot,
    AccountUser,
    LoadedFile,
    RunInfo,
    Seats,
)
from batch.report import SeatMoves, default_report_path, write_report
from batch.report.cells import WRAP_WIDTH
from batch.vocabulary import Kind, UserType

STARTED = datetime(2026, 11, 27, 22, 58, 0, tzinfo=UTC)
FINISHED = datetime(2026, 11, 27, 23, 1, 30, tzinfo=UTC)
OUTCOMES = ("valid", "planned", "applied", "unchanged", "invalid", "failed", "skipped")

# ---------------------------------------------------------------------------------------------
# Builders: a loaded file, result lines and account snapshots, by hand.

WIDE_HEADERS = (
    "E-mail",
    "User type",
    "Webinar",
    "Large meeting",
    "Afdeling",
    "Kostenplaats",
    "Note",
)
WIDE_FIELDS = {
    "email": "E-mail",
    "user_type": "User type",
    "webinar": "Webinar",
    "large_meeting": "Large meeting",
    "department": "Afdeling",
    "cost_center": "Kostenplaats",
}
FIELD_KIND = {"User type": "base", "Webinar": "webinar", "Large meeting": "large_meeting"}


def loaded_file(
    rows: Sequence[Sequence[str]],
    *,
    headers: Sequence[str] = WIDE_HEADERS,
    fields: dict[str, str] | None = None,
    layout: str = "wide",
    extra: Sequence[str] = ("Note",),
    first_row: int = 2,
) -> LoadedFile:
    """A LoadedFile whose requests are one per filled license cell (wide) or per row (long)."""
    fields = dict(WIDE_FIELDS if fields is None else fields)
    source = pd.DataFrame(
        [list(r) for r in rows],
        columns=list(headers),
        index=range(first_row, first_row + len(rows)),
        dtype=object,
    )
    requests: list[dict[str, Any]] = []
    for row, line in source.iterrows():
        email = str(line[fields["email"]]).strip().lower()
        columns = (
            [fields["license"]]
            if layout == "long"
            else [h for h in FIELD_KIND if h in headers and line[h]]
        )
        for column in columns:
            requests.append(
                {
                    "request": len(requests), "row": row, "email": email,
                    "email_input": line[fields["email"]], "column": column, "raw": line[column],
                    "kind": FIELD_KIND.get(column, ""), "user_type": "", "size": pd.NA,
                    "action": "assign",
                }
            )  # fmt: skip
    return LoadedFile(
        name="users.csv",
        sha256="ab" * 32,
        layout=layout,  # type: ignore[arg-type]
        source=source,
        fields=fields,
        extra_columns=tuple(extra),
        requests=pd.DataFrame(requests, columns=list(REQUEST_COLUMNS)),
    )


def result_lines(lines: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Results from tuples: row, email, license, action, outcome, code, message, request, kind,
    previous[, done_earlier]."""
    records = []
    for line in lines:
        row, email, label, action, outcome, code, message, request, kind, previous = line[:10]
        done = line[10] if len(line) > 10 else False
        records.append(
            {
                "row": row, "email": email, "license": label, "action": action,
                "outcome": outcome, "code": code, "message": message, "request": request,
                "kind": kind, "user_type": "", "size": pd.NA, "done_earlier": done,
                "previous": previous,
            }
        )  # fmt: skip
    frame = pd.DataFrame(records, columns=[*RESULT_COLUMNS, *RESULT_INTERNAL_COLUMNS])
    frame["row"] = frame["row"].astype("Int64")
    return frame


def user(email: str, type_: UserType = UserType.LICENSED, **kw: Any) -> AccountUser:
    """An active account user."""
    return AccountUser(id=email.split("@")[0], email=email, type=type_, status="active", **kw)


def snapshot(users: Sequence[AccountUser], seats: dict[Any, tuple[int, int]]) -> AccountSnapshot:
    """An account with these users and (purchased, used) seats."""
    return AccountSnapshot(
        account_id="acc-123",
        plan="business",
        on_prem_available=False,
        users={u.email: u for u in users},
        seats={key: Seats(p, u) for key, (p, u) in seats.items()},
    )


def run_info(file: LoadedFile, **kw: Any) -> RunInfo:
    """An apply run on account acc-123 unless told otherwise."""
    values: dict[str, Any] = {
        "command": "apply", "file": file, "started": STARTED, "finished": FINISHED,
        "account_id": "acc-123", "tool_version": "0.1.0", "user": "ann@host",
    }  # fmt: skip
    values.update(kw)
    return RunInfo(**values)


def sheet_rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    """Every row of a sheet as value tuples, trailing blanks trimmed."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = []
        for row in wb[sheet].iter_rows(values_only=True):
            values = list(row)
            while values and values[-1] is None:
                values.pop()
            rows.append(tuple(values))
        return rows
    finally:
        wb.close()


# ---------------------------------------------------------------------------------------------
# A wide file of four users, applied against an account.

WIDE_ROWS = (
    ("ann@example.com", "Licensed", "1000", "", "Sales", "CC-1", "keep"),
    ("bob@example.com", "", "500", "", "Sales", "CC-1", ""),
    ("cy@example.com", "Basic", "", "", "", "", "leaver"),
    ("dee@example.com", "Licensed", "500", "1000", "IT", "CC-2", "new"),
)
# ann: Licensed unchanged, Webinar 500 -> 1000 (change); bob: webinar 500 invalid (no-seats);
# cy: downgrade to Basic (frees Licensed) + Large Meeting 500 removal line;
# dee: Licensed assigned, Webinar 500 failed, Large Meeting 1000 skipped.
WIDE_RESULTS = (
    (2, "ann@example.com", "Licensed", "none", "unchanged", "", "", 0, "base", "Licensed"),
    (2, "ann@example.com", "Webinar 1000", "change", "applied", "", "", 1, "webinar",
     "Webinar 500"),
    (3, "bob@example.com", "Webinar 500", "assign", "invalid", "no-seats", "no free seat", 2,
     "webinar", ""),
    (4, "cy@example.com", "Basic", "assign", "applied", "", "", 3, "base", "Licensed"),
    (4, "cy@example.com", "Large Meeting 500", "remove", "applied", "", "", 3, "large_meeting",
     "Large Meeting 500"),
    (5, "dee@example.com", "Licensed", "assign", "applied", "", "", 4, "base", "Basic"),
    (5, "dee@example.com", "Webinar 500", "assign", "failed", "api-error", "Zoom 200: max", 5,
     "webinar", ""),
    (5, "dee@example.com", "Large Meeting 1000", "assign", "skipped", "dependency-failed",
     "skipped", 6, "large_meeting", ""),
)  # fmt: skip

BEFORE = snapshot(
    [
        user("ann@example.com", webinar=500, dept="Acct-Sales"),
        user("bob@example.com"),
        user("cy@example.com", large_meeting=500, dept="Old"),
        user("dee@example.com", UserType.BASIC),
        user("eve@example.com", webinar=1000, dept="Finance", cost_center="CC-9"),
    ],
    {
        (Kind.BASE, None): (10, 4),
        (Kind.WEBINAR, 500): (1, 1),
        (Kind.WEBINAR, 1000): (2, 1),
        (Kind.LARGE_MEETING, 500): (1, 1),
        (Kind.LARGE_MEETING, 1000): (1, 0),
    },
)
AFTER = snapshot(
    [
        user("ann@example.com", webinar=1000, dept="Acct-Sales"),
        user("bob@example.com"),
        user("cy@example.com", UserType.BASIC, dept="Old"),
        user("dee@example.com"),
        user("eve@example.com", webinar=1000, dept="Finance", cost_center="CC-9"),
    ],
    {
        (Kind.BASE, None): (10, 4),
        (Kind.WEBINAR, 500): (1, 0),
        (Kind.WEBINAR, 1000): (2, 2),
        (Kind.LARGE_MEETING, 500): (1, 0),
        (Kind.LARGE_MEETING, 1000): (1, 0),
    },
)


@pytest.fixture
def wide_report(tmp_path: Path) -> Path:
    """The wide run's report, applied, with prices."""
    run = run_info(loaded_file(WIDE_ROWS))
    return write_report(
        tmp_path / "out" / "report.xlsx",
        run,
        result_lines(WIDE_RESULTS),
        before=BEFORE,
        after=AFTER,
        prices={"Licensed": 15.0, "Webinar 1000": 100.0, "Webinar 500": 50.0},
    )


# ---------------------------------------------------------------------------------------------
# Paths and writing


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 27, 22, 58, 0, tzinfo=UTC), "users-20261127T225800Z.xlsx"),
        (datetime.fromisoformat("2026-11-27T23:58:00+01:00"), "users-20261127T225800Z.xlsx"),
        (datetime(2026, 1, 2, 3, 4, 5), "users-20260102T030405Z.xlsx"),
    ],
    ids=["utc", "other-zone-converted", "naive-taken-as-utc"],
)
def test_default_report_path(now: datetime, expected: str) -> None:
    """The default report name is the file's stem and the UTC start time."""
    assert default_report_path(Path("reports"), "users.csv", now) == Path("reports") / expected


def test_report_replaces_atomically(tmp_path: Path) -> None:
    """Writing over an existing report replaces it and leaves no temporary file beside it."""
    target = tmp_path / "deep" / "dir" / "r.xlsx"
    run = run_info(loaded_file(WIDE_ROWS))
    write_report(target, run, result_lines(WIDE_RESULTS[:1]), before=BEFORE)
    write_report(target, run, result_lines(WIDE_RESULTS), before=BEFORE)
    assert sorted(p.name for p in target.parent.iterdir()) == ["r.xlsx"]
    assert len(sheet_rows(target, "Results")) == 1 + len(WIDE_RESULTS)


# ---------------------------------------------------------------------------------------------
# Summary


def test_summary_counts_per_outcome(wide_report: Path) -> None:
    """All seven outcomes are counted, zeros included, with a total."""
    rows = sheet_rows(wide_report, "Summary")
    start = rows.index(("Outcome", "Lines")) + 1
    assert rows[start : start + 8] == [
        ("valid", 0), ("planned", 0), ("applied", 4), ("unchanged", 1),
        ("invalid", 1), ("failed", 1), ("skipped", 1), ("Total", 8),
    ]  # fmt: skip


def test_summary_counts_per_license(wide_report: Path) -> None:
    """Lines per license and outcome, licenses in report order, with a row total."""
    rows = sheet_rows(wide_report, "Summary")
    start = rows.index(("License", *OUTCOMES, "Total")) + 1
    assert rows[start:] == [
        ("Licensed", 0, 0, 1, 1, 0, 0, 0, 2),
        ("Basic", 0, 0, 1, 0, 0, 0, 0, 1),
        ("Large Meeting 500", 0, 0, 1, 0, 0, 0, 0, 1),
        ("Large Meeting 1000", 0, 0, 0, 0, 0, 0, 1, 1),
        ("Webinar 500", 0, 0, 0, 0, 1, 1, 0, 2),
        ("Webinar 1000", 0, 0, 1, 0, 0, 0, 0, 1),
    ]


def test_summary_run_facts(wide_report: Path) -> None:
    """The run's facts are there, start and end as real Excel datetimes in UTC."""
    facts = {r[0]: r[1] for r in sheet_rows(wide_report, "Summary") if len(r) == 2}
    assert facts["File"] == "users.csv"
    assert facts["SHA-256"] == "ab" * 32
    assert facts["Account"] == "acc-123"
    assert facts["Command"] == "apply"
    assert facts["Started (UTC)"] == datetime(2026, 11, 27, 22, 58)
    assert facts["Finished (UTC)"] == datetime(2026, 11, 27, 23, 1, 30)
    assert facts["Run by"] == "ann@host"
    assert facts["Tool version"] == "0.1.0"


def test_summary_has_bar_chart(wide_report: Path) -> None:
    """The Summary sheet carries a native bar chart with one series per outcome."""
    from zipfile import ZipFile

    with ZipFile(wide_report) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        xml = archive.read(charts[0]).decode()
    assert len(charts) == 1
    assert "<barChart>" in xml
    assert xml.count("<ser>") == len(OUTCOMES)


@pytest.mark.parametrize(
    ("kw", "title", "red"),
    [
        ({"is_sandbox": True, "account_id": "sandbox"}, "SANDBOX: emulated account", True),
        ({"account_id": "acc-123"}, "Zoom account acc-123", False),
        ({"command": "validate", "account_id": None}, "Offline check", False),
    ],
    ids=["sandbox", "real-account", "validate-offline"],
)
def test_summary_title(tmp_path: Path, kw: dict[str, Any], title: str, red: bool) -> None:
    """The title says SANDBOX in big white-on-red letters for a sandbox run, else the account."""
    path = write_report(
        tmp_path / "r.xlsx", run_info(loaded_file(WIDE_ROWS), **kw), result_lines(WIDE_RESULTS)
    )
    cell = openpyxl.load_workbook(path)["Summary"]["A1"]
    assert str(cell.value).startswith(title)
    assert (cell.fill.fgColor.rgb == "00C00000") is red
    assert (cell.font.sz >= 20) is red


def test_summary_dry_run_says_so(tmp_path: Path) -> None:
    """A dry run is named as such in the command line of the Summary."""
    run = run_info(loaded_file(WIDE_ROWS), dry_run=True)
    path = write_report(tmp_path / "r.xlsx", run, result_lines(WIDE_RESULTS), before=BEFORE)
    facts = {r[0]: r[1] for r in sheet_rows(path, "Summary") if len(r) == 2}
    assert facts["Command"] == "apply (dry run)"


# ---------------------------------------------------------------------------------------------
# Results


def test_results_rows(wide_report: Path) -> None:
    """Results has the spec's columns, then the carried-through input columns, Row a number."""
    rows = sheet_rows(wide_report, "Results")
    assert rows[0] == ("Row", "Email", "License", "Action", "Outcome", "Code", "Message", "Note")
    assert rows[1] == (2, "ann@example.com", "Licensed", "none", "unchanged", None, None, "keep")
    assert rows[3] == (3, "bob@example.com", "Webinar 500", "assign", "invalid", "no-seats",
                       "no free seat")  # fmt: skip
    assert [r[0] for r in rows[1:]] == [2, 2, 3, 4, 4, 5, 5, 5]


@pytest.mark.parametrize(
    ("outcome", "colour"),
    [
        ("applied", "A9D08E"), ("unchanged", "D9D9D9"), ("planned", "9BC2E6"),
        ("valid", "E2EFDA"), ("invalid", "F4B183"), ("failed", "FF7C80"), ("skipped", "FFE699"),
    ],
    ids=lambda v: str(v),
)  # fmt: skip
def test_results_outcome_colour(tmp_path: Path, outcome: str, colour: str) -> None:
    """Each outcome cell has its own colour, and only the outcome cell is coloured."""
    lines = [(2, "ann@example.com", "Licensed", "assign", o, "", "", 0, "base", "")
             for o in ("applied", outcome)]  # fmt: skip
    path = write_report(tmp_path / "r.xlsx", run_info(loaded_file(WIDE_ROWS)), result_lines(lines))
    ws = openpyxl.load_workbook(path)["Results"]
    assert ws["E3"].value == outcome
    assert ws["E3"].fill.fgColor.rgb == "00" + colour
    assert ws["B3"].fill.fill_type is None


def test_results_row_na_and_done_earlier(tmp_path: Path) -> None:
    """A line not from the file has an empty Row; lines of an earlier run are marked."""
    lines = [
        (2, "ann@example.com", "Licensed", "assign", "applied", "", "done by an earlier run",
         0, "base", "", True),
        (None, "zed@example.com", "Webinar 500", "remove", "applied", "", "", None, "webinar",
         "Webinar 500"),
    ]  # fmt: skip
    path = write_report(tmp_path / "r.xlsx", run_info(loaded_file(WIDE_ROWS)), result_lines(lines))
    rows = sheet_rows(path, "Results")
    assert rows[0][-1] == "Done earlier"
    assert rows[1] == (2, "ann@example.com", "Licensed", "assign", "applied", None,
                       "done by an earlier run", "keep", "yes")  # fmt: skip
    assert rows[2] == (None, "zed@example.com", "Webinar 500", "remove", "applied")


@pytest.mark.parametrize("sheet", ["Results", "Problems", "Seats", "Chargeback"])
def test_tables_frozen_and_filtered(wide_report: Path, sheet: str) -> None:
    """Every table sheet has a frozen header row and a filter starting at A1."""
    ws = openpyxl.load_workbook(wide_report)[sheet]
    assert ws.freeze_panes == "A2"
    assert str(ws.auto_filter.ref).startswith("A1:")


def test_results_widths_fit(tmp_path: Path) -> None:
    """Column widths fit the values; a very long message is capped and wraps, whole."""
    long_message = "x" * 500
    lines = [(2, "a-rather-long-address@example.com", "Licensed", "assign", "invalid",
              "conflict", long_message, 0, "base", "")]  # fmt: skip
    path = write_report(tmp_path / "r.xlsx", run_info(loaded_file(WIDE_ROWS)), result_lines(lines))
    dims = openpyxl.load_workbook(path)["Results"].column_dimensions
    assert dims["B"].width >= len("a-rather-long-address@example.com")
    assert dims["G"].width == WRAP_WIDTH
    message = openpyxl.load_workbook(path)["Results"]["G2"]
    assert message.alignment.wrap_text and message.value == long_message
    assert 6 <= dims["A"].width <= 10


# ---------------------------------------------------------------------------------------------
# Problems


def test_problems_wide_blanks_cells_that_went_fine(wide_report: Path) -> None:
    """One Problems row per input row with a problem, its fine license cells blanked."""
    assert sheet_rows(wide_report, "Problems") == [
        ("Row", *WIDE_HEADERS, "Reason"),
        (3, "bob@example.com", None, "500", None, "Sales", "CC-1", None, "no-seats: no free seat"),
        (5, "dee@example.com", None, "500", "1000", "IT", "CC-2", "new",
         "api-error: Zoom 200: max; dependency-failed: skipped"),
    ]  # fmt: skip


LONG_HEADERS = ("Email", "License", "Actie", "Dept")
LONG_FIELDS = {"email": "Email", "license": "License", "action": "Actie", "department": "Dept"}
LONG_ROWS = (
    ("ann@example.com", "Webinar 500", "toewijzen", "Sales"),
    ("bob@example.com", "Webinar 3", "", "IT"),
    ("cy@example.com", "Basis", "", "IT"),
)


def test_problems_long_copies_rows(tmp_path: Path) -> None:
    """For the long layout, each problem row is the input row as is, plus its reason."""
    file = loaded_file(LONG_ROWS, headers=LONG_HEADERS, fields=LONG_FIELDS, layout="long", extra=())
    lines = [
        (2, "ann@example.com", "Webinar 500", "assign", "applied", "", "", 0, "webinar", ""),
        (3, "bob@example.com", "Webinar", "assign", "invalid", "invalid-size", "3 is not a size",
         1, "webinar", ""),
        (4, "cy@example.com", "Basic", "assign", "failed", "timeout", "no answer", 2, "base",
         "Licensed"),
    ]  # fmt: skip
    path = write_report(tmp_path / "r.xlsx", run_info(file), result_lines(lines), before=BEFORE)
    assert sheet_rows(path, "Problems") == [
        ("Row", *LONG_HEADERS, "Reason"),
        (3, "bob@example.com", "Webinar 3", None, "IT", "invalid-size: 3 is not a size"),
        (4, "cy@example.com", "Basis", None, "IT", "timeout: no answer"),
    ]


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("long", (None, "zed@example.com", "Webinar 500", "remove", None,
                  "not in the file: timeout: t")),
        ("wide", (None, "zed@example.com", None, "remove", None, None, None, None,
                  "not in the file: timeout: t")),
    ],
    ids=["long", "wide"],
)  # fmt: skip
def test_problems_line_not_in_file(tmp_path: Path, layout: str, expected: tuple[Any]) -> None:
    """A failed sync removal of a user not in the file is written in the file's own columns."""
    file = (
        loaded_file(LONG_ROWS, headers=LONG_HEADERS, fields=LONG_FIELDS, layout="long", extra=())
        if layout == "long"
        else loaded_file(WIDE_ROWS)
    )
    lines = [(None, "zed@example.com", "Webinar 500", "remove", "failed", "timeout", "t", None,
              "webinar", "Webinar 500")]  # fmt: skip
    path = write_report(tmp_path / "r.xlsx", run_info(file), result_lines(lines), before=BEFORE)
    assert sheet_rows(path, "Problems")[1] == expected


def _problems_as_file(report: Path, target: Path) -> Path:
    """Save the Problems sheet on its own, as an admin would (xlsx or csv by the suffix)."""
    rows = sheet_rows(report, "Problems")
    frame = pd.DataFrame(rows[1:], columns=list(rows[0])).fillna("")
    if target.suffix == ".csv":
        frame.to_csv(target, index=False)
    else:
        frame.to_excel(target, index=False, sheet_name="Problems")
    return target


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_problems_round_trip(tmp_path: Path, suffix: str) -> None:
    """The Problems sheet saved on its own is an input file again: the loader reads only the
    failed requests from it, with the original headers and Reason carried through."""
    from batch.loading import load

    source = tmp_path / "users.csv"
    source.write_text(
        "E-mail;User type;Webinar;Afdeling\n"
        "ann@example.com;Licensed;500;Sales\n"
        "bob@example.com;Licensed;1000;IT\n",
        encoding="utf-8",
    )
    file = load(source)
    req = file.requests
    outcomes = {("ann@example.com", "base"): ("applied", ""),
                ("ann@example.com", "webinar"): ("failed", "api-error"),
                ("bob@example.com", "base"): ("applied", ""),
                ("bob@example.com", "webinar"): ("applied", "")}  # fmt: skip
    lines = []
    for r in req.itertuples():
        outcome, code = outcomes[(r.email, r.kind)]
        label = "Licensed" if r.kind == "base" else f"Webinar {r.size}"
        lines.append((r.row, r.email, label, "assign", outcome, code, "", r.request, r.kind, ""))
    report = write_report(tmp_path / "r.xlsx", run_info(file), result_lines(lines))

    again = load(_problems_as_file(report, tmp_path / f"problems{suffix}"))
    book = (
        CalamineWorkbook.from_path(str(tmp_path / "problems.xlsx")) if suffix == ".xlsx" else None
    )
    if book is not None:
        header = book.get_sheet_by_index(0).to_python()[0]
        assert header == ["Row", "E-mail", "User type", "Webinar", "Afdeling", "Reason"]
    assert again.extra_columns == ("Row", "Reason")
    assert [(r.email, r.kind, r.size) for r in again.requests.itertuples()] == [
        ("ann@example.com", "webinar", 500)
    ]


# ---------------------------------------------------------------------------------------------
# Seats


def test_seats_after_apply(wide_report: Path) -> None:
    """Seats: change frees the old size and takes the new; a downgrade frees Licensed and the
    add-on it held; used after is the account's own count."""
    assert sheet_rows(wide_report, "Seats")[:6] == [
        ("License", "Purchased", "Used before", "Freed", "Granted", "Used after", "Free after"),
        ("Licensed", 10, 4, 1, 1, 4, 6),
        ("Large Meeting 500", 1, 1, 1, 0, 0, 1),
        ("Large Meeting 1000", 1, 0, 0, 0, 0, 1),
        ("Webinar 500", 1, 1, 1, 0, 0, 1),
        ("Webinar 1000", 2, 1, 0, 1, 2, 0),
    ]


def test_seats_plan_projects_from_planned_lines(tmp_path: Path) -> None:
    """For plan, used after is projected from the planned lines; earlier runs' lines don't count."""
    planned = [(*line[:4], "planned" if line[4] == "applied" else line[4], *line[5:])
               for line in WIDE_RESULTS]  # fmt: skip
    planned.append((2, "ann@example.com", "Webinar 500", "assign", "applied", "", "", 9,
                    "webinar", "", True))  # fmt: skip
    run = run_info(loaded_file(WIDE_ROWS), command="plan")
    path = write_report(tmp_path / "r.xlsx", run, result_lines(planned), before=BEFORE)
    rows = sheet_rows(path, "Seats")
    assert rows[1:6] == [
        ("Licensed", 10, 4, 1, 1, 4, 6),
        ("Large Meeting 500", 1, 1, 1, 0, 0, 1),
        ("Large Meeting 1000", 1, 0, 0, 0, 0, 1),
        ("Webinar 500", 1, 1, 1, 0, 0, 1),
        ("Webinar 1000", 2, 1, 0, 1, 2, 0),
    ]
    assert "projected from the planned lines" in rows[7][0]


def test_seats_and_counts_are_the_ones_handed_in(tmp_path: Path) -> None:
    """The report shows the seat moves and counts the pipeline hands it, not its own reading."""
    moves = SeatMoves(freed=Counter({(Kind.WEBINAR, 500): 1}), granted=Counter())
    counts = {**outcome_counts(result_lines(WIDE_RESULTS)), "applied": 9}
    run = run_info(loaded_file(WIDE_ROWS), command="plan")
    path = write_report(
        tmp_path / "r.xlsx",
        run,
        result_lines(WIDE_RESULTS),
        before=BEFORE,
        counts=counts,
        moves=moves,
    )
    assert sheet_rows(path, "Seats")[1:6] == [
        ("Licensed", 10, 4, 0, 0, 4, 6),
        ("Large Meeting 500", 1, 1, 0, 0, 1, 0),
        ("Large Meeting 1000", 1, 0, 0, 0, 0, 1),
        ("Webinar 500", 1, 1, 1, 0, 0, 1),
        ("Webinar 1000", 2, 1, 0, 0, 1, 1),
    ]
    assert ("applied", 9) in sheet_rows(path, "Summary")


def test_seats_mismatch_is_noted(tmp_path: Path) -> None:
    """When the account's count after the run disagrees with the arithmetic, a note says so."""
    after = snapshot(list(AFTER.users.values()), {**{k: (v.purchased, v.used) for k, v in
                     AFTER.seats.items()}, (Kind.WEBINAR, 1000): (2, 1)})  # fmt: skip
    run = run_info(loaded_file(WIDE_ROWS))
    path = write_report(
        tmp_path / "r.xlsx", run, result_lines(WIDE_RESULTS), before=BEFORE, after=after
    )
    rows = sheet_rows(path, "Seats")
    assert ("Webinar 1000", 2, 1, 0, 1, 1, 1) in rows
    assert rows[-1] == (
        "Webinar 1000: the account counts 1 used after the run, but 1 - 0 + 1 = 2: "
        "something else changed the account during the run.",
    )


@pytest.mark.parametrize("sheet", ["Seats", "Chargeback"])
def test_validate_has_no_account_figures(tmp_path: Path, sheet: str) -> None:
    """validate reads no account: Seats and Chargeback say so instead of showing figures."""
    lines = [(*line[:4], "valid", *line[5:]) for line in WIDE_RESULTS]
    run = run_info(loaded_file(WIDE_ROWS), command="validate", account_id=None)
    path = write_report(tmp_path / "r.xlsx", run, result_lines(lines))
    rows = sheet_rows(path, sheet)
    assert len(rows) == 2
    assert "validate" in rows[1][0] and "run plan or apply" in rows[1][0]


# ---------------------------------------------------------------------------------------------
# Chargeback


def test_chargeback_with_prices(wide_report: Path) -> None:
    """Licenses after the run per department (file first, else account) with monthly costs."""
    rows = sheet_rows(wide_report, "Chargeback")
    assert rows[:5] == [
        ("Department", "Licensed", "Webinar 1000", "Total", "Monthly cost (EUR)"),
        ("Finance", 1, 1, 2, 115),
        ("IT", 1, 0, 1, 15),
        ("Sales", 2, 1, 3, 130),
        ("Total", 4, 2, 6, 260),
    ]
    assert rows[6:10] == [
        ("Cost centre", "Licensed", "Webinar 1000", "Total", "Monthly cost (EUR)"),
        ("CC-1", 2, 1, 3, 130),
        ("CC-2", 1, 0, 1, 15),
        ("CC-9", 1, 1, 2, 115),
    ]


def test_chargeback_plan_without_prices(tmp_path: Path) -> None:
    """Plan projects who holds what; without prices, counts only and a note how to add them."""
    planned = [(*line[:4], "planned" if line[4] == "applied" else line[4], *line[5:])
               for line in WIDE_RESULTS]  # fmt: skip
    run = run_info(loaded_file(WIDE_ROWS), command="plan")
    path = write_report(tmp_path / "r.xlsx", run, result_lines(planned), before=BEFORE)
    rows = sheet_rows(path, "Chargeback")
    assert rows[:5] == [
        ("Department", "Licensed", "Webinar 1000", "Total"),
        ("Finance", 1, 1, 2),
        ("IT", 1, 0, 1),
        ("Sales", 2, 1, 3),
        ("Total", 4, 2, 6),
    ]
    assert any("No price table configured" in str(r[0]) for r in rows if r)


# ---------------------------------------------------------------------------------------------
# Safety and size

DANGEROUS = (
    "=HYPERLINK(\"http://x\",\"y\")", "+31 6 1234", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1",
    "＝1+1", "=", "-",
)  # fmt: skip


@pytest.mark.parametrize("copies", [1, 10], ids=["few-rows", "many-rows"])
def test_no_input_text_becomes_a_formula(tmp_path: Path, copies: int) -> None:
    """Input text starting with = + - @ tab CR or a full-width = stays text in every sheet,
    whether the table is short (built value by value) or long (built per distinct value)."""
    many = DANGEROUS * copies
    rows = [(f"{d}@example.com", "Licensed", d, "", d, d, d) for d in many]
    lines = [(n + 2, f"{d}@example.com", d, "assign", "invalid", "unknown-license", d, n, "base",
              "") for n, d in enumerate(many)]  # fmt: skip
    lines.append((None, "=evil()", "Licensed", "remove", "failed", "api-error", "=1", None,
                  "base", "Licensed"))  # fmt: skip
    run = run_info(loaded_file(rows), user="=cmd|' /C calc'!A0", notes=("=note",))
    path = write_report(tmp_path / "r.xlsx", run, result_lines(lines), before=BEFORE)
    wb = openpyxl.load_workbook(path)
    texts = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.add(cell.value)
    assert set(DANGEROUS) <= texts
    messages = [wb["Results"].cell(n + 2, 7) for n in range(len(DANGEROUS))]
    assert all(cell.quotePrefix for cell in messages)  # stays text when edited in Excel
    assert "=cmd|' /C calc'!A0" in texts
    cells = [wb["Results"].cell(n + 2, 7) for n in range(len(many))]
    assert [cell.value for cell in cells] == list(many)
    assert all(cell.quotePrefix and cell.data_type == "s" for cell in cells)
    notes = [wb["Problems"].cell(n + 2, 7).value for n in range(len(many))]
    assert notes == list(many)
    results = pd.read_excel(path, sheet_name="Results", dtype=str, engine="calamine")
    assert results["Message"].tolist()[: len(many)] == list(many)


def test_control_characters_are_dropped(tmp_path: Path) -> None:
    """Characters XML cannot hold are dropped instead of failing the report."""
    lines = [(2, "ann@example.com", "Licensed", "assign", "invalid", "conflict", "a\x00b\x1fc",
              0, "base", "")]  # fmt: skip
    path = write_report(tmp_path / "r.xlsx", run_info(loaded_file(WIDE_ROWS)), result_lines(lines))
    assert sheet_rows(path, "Results")[1][6] == "abc"


@pytest.mark.parametrize(
    ("lines", "max_rows", "sheets"),
    [
        (8, 3, {"Results": 3, "Results (2)": 3, "Results (3)": 2}),
        (6, 3, {"Results": 3, "Results (2)": 3}),
        (3, 3, {"Results": 3}),
        (0, 3, {"Results": 0}),
    ],
    ids=["continues-on-three-sheets", "exactly-two-sheets", "exactly-one-sheet", "empty"],
)
def test_results_overflow(
    tmp_path: Path, lines: int, max_rows: int, sheets: dict[str, int]
) -> None:
    """Past the per-sheet row limit, Results continue on `Results (2)`, ... each with its header."""
    many = [(2, f"u{n}@example.com", "Licensed", "assign", "invalid", "conflict", "c", n, "base",
             "") for n in range(lines)]  # fmt: skip
    run = run_info(loaded_file(WIDE_ROWS))
    path = write_report(tmp_path / "r.xlsx", run, result_lines(many), max_rows=max_rows)
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    found = {n: len(sheet_rows(path, n)) - 1 for n in names if n.startswith("Results")}
    assert found == sheets
    emails = [r[1] for n in sheets for r in sheet_rows(path, n)[1:]]
    assert emails == [f"u{n}@example.com" for n in range(lines)]
    assert all(sheet_rows(path, n)[0][0] == "Row" for n in sheets)
    assert names[: 1 + len(sheets)] == ["Summary", *sheets]


# ---------------------------------------------------------------------------------------------
# The streamed table rows: what a reader finds in them, short tables and long ones alike

TRICKY_TEXTS = (
    ("xml-specials", "a & b <c> \"q\" 'q' ]]>", "a & b <c> \"q\" 'q' ]]>"),
    ("entity-stays-literal", "&amp; &#13;", "&amp; &#13;"),
    ("padded", "  padded  ", "  padded  "),
    ("newline", "two\nlines", "two\nlines"),
    ("crlf", "a\r\nb", "a\r\nb"),
    ("inner-tab", "a\tb", "a\tb"),
    ("unicode", "Zoë ✓ 日本語 😀", "Zoë ✓ 日本語 😀"),
    ("control-chars", "a\x00b\x1fc\x0b", "abc"),
    ("only-control", "\x01\x02", None),
    ("too-long", "é" * 40_000, "é" * 32_767),
    ("number-like", "00123", "00123"),
    ("excel-escape-lookalike", "a_x0041_b_x0042_x0043_", "a_x0041_b_x0042_x0043_"),
)


@pytest.mark.parametrize("copies", [1, 70], ids=["few-rows", "many-rows"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=name) for name, text, expected in TRICKY_TEXTS],
)
def test_text_reads_back_as_written(
    tmp_path: Path, text: str, expected: str | None, copies: int
) -> None:
    """Message and carried-through cells read back (openpyxl and calamine) as the input text,
    cleaned of what Excel cannot hold, as string cells, in Results and Problems."""
    rows = [(f"u{n}@example.com", "Licensed", "", "", "", "", text) for n in range(copies)]
    lines = [(n + 2, f"u{n}@example.com", "Licensed", "assign", "invalid", "conflict", text, n,
              "base", "") for n in range(copies)]  # fmt: skip
    path = write_report(tmp_path / "r.xlsx", run_info(loaded_file(rows)), result_lines(lines))
    book = CalamineWorkbook.from_path(str(path))
    for sheet, column in (("Results", 6), ("Results", 7), ("Problems", 7)):
        table = book.get_sheet_by_name(sheet).to_python()
        assert [r[column] for r in table[1:]] == [expected or ""] * copies, (sheet, column)
    if "_x" in text:
        return  # openpyxl does not decode Excel's _xHHHH_ escapes as Excel and calamine do
    wb = openpyxl.load_workbook(path)
    for sheet, column in (("Results", 7), ("Results", 8), ("Problems", 8)):
        cells = [wb[sheet].cell(n + 2, column) for n in range(copies)]
        assert [c.value for c in cells] == [expected] * copies, (sheet, column)
        assert {c.data_type for c in cells} == {"s" if expected is not None else "n"}


def test_outcome_colours_in_a_long_table(tmp_path: Path) -> None:
    """In a table of many lines each outcome cell still has its colour and no other is coloured."""
    outcomes = [OUTCOMES[n % len(OUTCOMES)] for n in range(140)]
    lines = [(2, f"u{n}@example.com", "Licensed", "assign", o, "", "", n, "base", "")
             for n, o in enumerate(outcomes)]  # fmt: skip
    path = write_report(tmp_path / "r.xlsx", run_info(loaded_file(WIDE_ROWS)), result_lines(lines))
    ws = openpyxl.load_workbook(path)["Results"]
    colours = {"applied": "A9D08E", "unchanged": "D9D9D9", "planned": "9BC2E6", "valid": "E2EFDA",
               "invalid": "F4B183", "failed": "FF7C80", "skipped": "FFE699"}  # fmt: skip
    assert [ws.cell(n + 2, 5).value for n in range(len(outcomes))] == outcomes
    assert [ws.cell(n + 2, 5).fill.fgColor.rgb for n in range(len(outcomes))] == [
        "00" + colours[o] for o in outcomes
    ]
    assert {ws.cell(n + 2, c).fill.fill_type for n in range(len(outcomes)) for c in (1, 2, 3)} == {
        None
    }


def test_long_table_over_several_blocks_and_sheets(tmp_path: Path) -> None:
    """25,000 lines on sheets of 12,000 rows: every line once, in order, Row a number, and each
    sheet's filter covers exactly its rows."""
    count = 25_000
    lines = [(n + 2, f"u{n}@example.com", "Licensed", "assign", "applied", "", "", n, "base", "")
             for n in range(count)]  # fmt: skip
    run = run_info(loaded_file(WIDE_ROWS))
    path = write_report(tmp_path / "r.xlsx", run, result_lines(lines), max_rows=12_000)
    book = CalamineWorkbook.from_path(str(path))
    names = ["Results", "Results (2)", "Results (3)"]
    assert book.sheet_names[:4] == ["Summary", *names]
    tables = [book.get_sheet_by_name(name).to_python() for name in names]
    assert [len(t) - 1 for t in tables] == [12_000, 12_000, 1_000]
    data = [row for table in tables for row in table[1:]]
    assert [row[1] for row in data] == [f"u{n}@example.com" for n in range(count)]
    assert [row[0] for row in data] == [float(n + 2) for n in range(count)]
    wb = openpyxl.load_workbook(path)
    assert [wb[n].auto_filter.ref for n in names] == ["A1:H12001", "A1:H12001", "A1:H1001"]

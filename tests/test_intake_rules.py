"""How the loader reads what admins write: header spellings, near misses, size columns, cell
words in four languages, pasted addresses, sheets, and the workbook memory guards."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from batch.cli.main import cli
from batch.config import load_config
from batch.errors import ConfigError, FileRefused
from batch.loading import load
from batch.model import LoadedFile
from batch.rules import check_file
from batch.settings import Intake, Limits


def load_text(text: str, **options: Any) -> LoadedFile:
    return load(io.BytesIO(text.encode("utf-8")), name="in.csv", **options)


def refusal(data: bytes, name: str = "in.csv", **options: Any) -> str:
    with pytest.raises(FileRefused) as caught:
        load(io.BytesIO(data), name=name, **options)
    return caught.value.reason


def lines(loaded: LoadedFile) -> list[tuple[Any, ...]]:
    """(kind, size or None, action, load_code) per request."""
    r = loaded.requests
    return [
        (k, None if pd_na(s) else int(s), a, c)
        for k, s, a, c in zip(r["kind"], r["size"], r["action"], r["load_code"], strict=True)
    ]


def pd_na(value: object) -> bool:
    return value is None or str(value) == "<NA>"


def xlsx(sheets: list[tuple[str, list[list[Any]]]], active: int = 0, hidden: str = "") -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        if name == hidden:
            ws.sheet_state = "hidden"
    wb.active = active
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Webinar (attendees)", "webinar"),
        ("Large Meeting\n(participants)", "large_meeting"),
        ("LARGE MEETINGS", "large_meeting"),
        ("Zoom Webinars", "webinar"),
        ("Zoom Event", "zoom_events"),
        ("Zoom Events [tickets]", "zoom_events"),
        ("webinar_capacity", "webinar_size"),
        ("Large Meeting size", "large_meeting_size"),
        ("Grote vergadering grootte", "large_meeting_size"),
        ("E-mail address", "email"),
        ("Email*", "email"),
    ],
    ids=lambda v: repr(v) if "\n" in str(v) else str(v),
)
def test_headers_are_normalised_before_matching(header: str, field: str) -> None:
    """Case, line breaks, a unit in brackets, plurals and Zoom's product names do not count."""
    other = "Webinar" if field == "email" else "Email"
    loaded = load_text(f'{other},"{header}"\nann@example.com,500\n')
    assert loaded.fields[field] == header.strip()


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("Webniar", "column B 'Webniar' is not a column we know: did you mean Webinar?"),
        ("Zoom Evnets", "did you mean Zoom Events?"),
        ("Webinar licences", "did you mean Webinar?"),
        ("Large Meeting 500", "did you mean Large Meeting?"),
        ("Capacity", "column B 'Capacity' does not say whose size it is"),
        ("yTpe", "column B 'yTpe' is not a column we know: did you mean User type?"),
        ("User type attendees)", "did you mean User type?"),
        ("Type (seats", "did you mean User type?"),
    ],
    ids=["typo", "typo-two-words", "subject-word", "size-in-header", "bare-capacity", "swap-short",
         "name-then-more", "short-name-then-unit"],
)
def test_a_column_close_to_a_known_one_refuses_the_file(header: str, words: str) -> None:
    """A near miss is refused naming the column and the nearest known name: never dropped."""
    reason = refusal(f"Email,{header},Webinar\nann@example.com,Licensed,500\n".encode())
    assert words in reason
    assert "[intake] ignore_columns" in reason or "Capacity" in header


def test_ignore_columns_carry_a_near_miss_through_unread() -> None:
    """A header listed in [intake] ignore_columns is carried through, in any case and spacing."""
    text = "Email,Webniar,User type\nann@example.com,500,Licensed\n"
    loaded = load_text(text, intake=Intake(ignore_columns=("WEBNIAR",)))
    assert loaded.extra_columns == ("Webniar",)
    assert [r[0] for r in lines(loaded)] == ["base"]


@pytest.mark.parametrize(
    ("text", "header_row", "skipped", "note"),
    [
        (
            "Licenses for April\n\nEmail,Webinar\nann@example.com,500\n",
            3,
            (1,),
            "row 1 above the header (row 3) were skipped",
        ),
        (
            '#TYPE System.Management.Automation.PSCustomObject\n"Email";"Webinar"\n'
            '"ann@example.com";"500"\n',
            2,
            (1,),
            "row 1 above the header (row 2) were skipped",
        ),
        ("sep=;\nEmail;Webinar\nann@example.com;500\n", 1, (), "its first line sep=; set the"),
        (
            "Title, with a comma\nSubtitle\nEmail|Webinar\nann@example.com|500\n",
            3,
            (1, 2),
            "rows 1-2 above the header (row 3) were skipped",
        ),
    ],
    ids=["title", "powershell-type-line", "sep-line", "two-title-rows-other-delimiter"],
)
def test_the_header_is_found_below_title_lines(
    text: str, header_row: int, skipped: tuple[int, ...], note: str
) -> None:
    """Rows above the header are skipped and named; `sep=X` sets the delimiter."""
    loaded = load_text(text)
    assert (loaded.header_row, loaded.skipped_rows) == (header_row, skipped)
    assert any(n.startswith(note) for n in loaded.notes)
    assert lines(loaded) == [("webinar", 500, "assign", "")]


def test_a_header_below_twenty_filled_rows_is_not_searched_for() -> None:
    """The header search looks at the first 20 non-empty rows only, then refuses clearly."""
    text = "".join(f"note {i}\n" for i in range(20)) + "Email,Webinar\nann@example.com,500\n"
    assert "no email column" in refusal(text.encode())


@pytest.mark.parametrize(
    ("column", "cell", "expected"),
    [
        ("Webinar", "Webinar 500", ("webinar", 500, "assign", "")),
        ("Webinar", "500 attendees", ("webinar", 500, "assign", "")),
        ("Webinar", "Zoom Webinars 500", ("webinar", 500, "assign", "")),
        ("Webinar", "Webinar (500)", ("webinar", 500, "assign", "")),
        ("Large Meeting", "Large Meetings 1000", ("large_meeting", 1000, "assign", "")),
        ("Large Meeting", "500 participants", ("large_meeting", 500, "assign", "")),
        ("Large Meeting", "Webinar 500", ("large_meeting", 500, "assign", "conflict")),
        ("Webinar", "TRUE", ("webinar", None, "assign", "")),
        ("Webinar", "WAAR", ("webinar", None, "assign", "")),
        ("Webinar", "wahr", ("webinar", None, "assign", "")),
        ("Webinar", "VRAI", ("webinar", None, "assign", "")),
        ("Webinar", "1", ("webinar", None, "assign", "")),
        ("Webinar", "Grant", ("webinar", None, "assign", "")),
        ("Webinar", "FALSE", ("webinar", None, "none", "")),
        ("Webinar", "ONWAAR", ("webinar", None, "none", "")),
        ("Webinar", "FALSCH", ("webinar", None, "none", "")),
        ("Webinar", "faux", ("webinar", None, "none", "")),
        ("Webinar", "0", ("webinar", None, "remove", "")),
        ("Webinar", "Unassign", ("webinar", None, "remove", "")),
        ("Webinar", "revoke", ("webinar", None, "remove", "")),
        ("Webinar", "Delete", ("webinar", None, "remove", "")),
        ("Webinar", "intrekken", ("webinar", None, "remove", "")),
        ("Webinar", "500 apples", ("webinar", None, "", "")),
        ("User type", "Pro", ("base", None, "assign", "")),
        ("User type", "Corp", ("base", None, "assign", "")),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_wide_cells_read_product_names_units_and_four_languages(
    column: str, cell: str, expected: tuple[Any, ...]
) -> None:
    """Each wide cell becomes one line: its add-on, size, action and any code found on loading."""
    loaded = load_text(f"Email,{column}\nann@example.com,{cell}\n")
    assert lines(loaded) == [expected]


@pytest.mark.parametrize(
    ("word", "user_type", "note"),
    [("Pro", "Licensed", "'Pro' read as Licensed"), ("Corp", "On-prem", "'Corp' read as On-prem")],
    ids=["pro", "corp"],
)
def test_legacy_type_names_are_read_with_a_note(word: str, user_type: str, note: str) -> None:
    """Zoom's former type names are read as today's, and the line's Message says so."""
    loaded = load_text(f"Email,License\nann@example.com,{word}\n")
    results = check_file(loaded.requests)
    assert results.loc[0, ["license", "outcome"]].tolist() == [user_type, "valid"]
    assert note in results.loc[0, "message"]


@pytest.mark.parametrize(
    ("action", "expected"),
    [("Add", "assign"), ("grant", "assign"), ("Unassign", "remove"), ("Revoke", "remove"),
     ("delete", "remove"), ("intrekken", "remove"), ("verwijderen", "remove")],
    ids=lambda v: v,
)  # fmt: skip
def test_long_action_words(action: str, expected: str) -> None:
    """The long layout's Action column takes the everyday words for grant and take away."""
    loaded = load_text(f"Email,License,Action\nann@example.com,Webinar 500,{action}\n")
    assert loaded.requests["action"].tolist() == [expected]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Licenced", "Did you mean Licensed?"),
        ("Webniar 500", "Did you mean Webinar 500?"),
        ("Basc", "Did you mean Basic?"),
    ],
    ids=lambda v: v,
)
def test_unknown_license_messages_suggest_the_nearest_word(typed: str, message: str) -> None:
    """Every unknown-license message offers the closest known word when there is one."""
    results = check_file(load_text(f"Email,License\nann@example.com,{typed}\n").requests)
    assert results.loc[0, "code"] == "unknown-license"
    assert results.loc[0, "message"].endswith(message)


@pytest.mark.parametrize(
    ("cell", "email", "code", "words"),
    [
        ("Jan Jansen <Jan@X.nl>", "jan@x.nl", "", "read as Jan@X.nl"),
        ('"Jansen, Jan" <jan@x.nl>', "jan@x.nl", "", "read as jan@x.nl"),
        ("mailto:jan@x.nl", "jan@x.nl", "", "read as jan@x.nl"),
        ("jan@x.nl;", "jan@x.nl", "", "read as jan@x.nl"),
        ("'jan@x.nl',", "jan@x.nl", "", "read as jan@x.nl"),
        ("jan@x.nl; piet@x.nl", None, "invalid-email", "holds 2 addresses: keep one per row"),
        ("Jan Jansen", None, "invalid-email", "holds no email address"),
        ("<jan@x.nl> <piet@x.nl>", None, "invalid-email", "holds 2 addresses"),
    ],
    ids=["name", "last-first", "mailto", "trailing-semicolon", "quoted", "two", "name-only",
         "two-angled"],
)  # fmt: skip
def test_pasted_addresses_are_read_or_refused_saying_what_was_found(
    cell: str, email: str | None, code: str, words: str
) -> None:
    """One address in Outlook's wrapping is read, with a note; anything else is invalid-email."""
    quoted = '"' + cell.replace('"', '""') + '"'
    loaded = load_text(f"Email,User type\n{quoted},Licensed\n")
    results = check_file(loaded.requests)
    assert results.loc[0, "code"] == code
    if email is not None:
        assert loaded.requests.loc[0, "email"] == email
    assert words in results.loc[0, "message"]


@pytest.mark.parametrize(
    ("header", "cells", "expected"),
    [
        ("Webinar,Webinar size", "TRUE,500", [("webinar", 500, "assign", "")]),
        ("Webinar,Webinar size", "yes,", [("webinar", None, "assign", "")]),
        ("Webinar,Webinar size", "FALSE,500", [("webinar", None, "none", "")]),
        ("Webinar,Webinar size", "500,1000", [("webinar", 500, "assign", "conflict")]),
        ("Webinar,Webinar size", "no,", [("webinar", None, "remove", "")]),
        ("Webinar,Webinar size", ",1000", [("webinar", 1000, "assign", "")]),
        ("webinar_capacity", "1000", [("webinar", 1000, "assign", "")]),
        ("webinar_capacity", "0", [("webinar", None, "none", "")]),
        ("Zoom Events,Capacity", "x,1000", [("zoom_events", 1000, "assign", "")]),
    ],
    ids=["flag-and-size", "flag-only", "unticked-with-size", "sizes-differ", "no", "size-only",
         "api-capacity", "api-capacity-zero", "bare-capacity-after-add-on"],
)  # fmt: skip
def test_an_add_on_and_its_size_column_make_one_request(
    header: str, cells: str, expected: list[tuple[Any, ...]]
) -> None:
    """A flag column and a size column of one add-on give one line, never two or none."""
    assert lines(load_text(f"Email,{header}\nann@example.com,{cells}\n")) == expected


def test_sheet_option_names_a_sheet_and_an_unknown_name_lists_the_sheets() -> None:
    """`--sheet` picks a sheet by name in any case; a name not there is refused listing them."""
    data = xlsx([("March", [["Email", "Webinar"], ["a@x.nl", 500]]),
                 ("April", [["Email", "Webinar"], ["b@x.nl", 1000]])])  # fmt: skip
    loaded = load(io.BytesIO(data), name="in.xlsx", intake=Intake(sheet="APRIL"))
    assert (loaded.sheet, loaded.requests["email"].tolist()) == ("April", ["b@x.nl"])
    reason = refusal(data, "in.xlsx", intake=Intake(sheet="May"))
    assert reason == "has no sheet 'May': its sheets are 'March', 'April'"


@pytest.mark.parametrize(
    ("active", "hidden", "sheet"),
    [(0, "", "March"), (1, "", "April"), (2, "", "April"), (1, "March", "April")],
    ids=["first-active", "second-active", "notes-active-one-with-header", "other-hidden"],
)
def test_the_active_sheet_wins_else_the_only_one_with_a_header(
    active: int, hidden: str, sheet: str
) -> None:
    """The selected tab is read when it has our header; otherwise the one tab that does."""
    march = [["Email", "Webinar"], ["a@x.nl", 500]]
    april = [["Title"], ["Email", "Webinar"], ["b@x.nl", 1000]]
    sheets = [("March", march), ("April", april), ("Notes", [["free text"]])]
    if active == 2:
        sheets = [("Notes2", [["x"]]), ("April", april), ("Notes", [["free text"]])]
    loaded = load(io.BytesIO(xlsx(sheets, active, hidden)), name="in.xlsx")
    assert loaded.sheet == sheet


def with_shared_strings(data: bytes, count: int) -> bytes:
    """The workbook with a shared-strings part of `count` entries (openpyxl writes none)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        entries = "".join(f"<si><t>s{i}</t></si>" for i in range(count))
        target.writestr("xl/sharedStrings.xml", f"<sst>{entries}</sst>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (Limits(max_cells=5), "a sheet has 6 filled cells, the limit (max_cells) is 5"),
        (Limits(max_cells=3), "the limit (max_cells) is 3"),
        (Limits(max_shared_strings=2), "more than 2 distinct texts (shared strings)"),
    ],
    ids=["filled-cells", "filled-cells-lower", "shared-strings"],
)
def test_workbooks_past_the_memory_limits_are_refused_before_reading(
    limits: Limits, words: str
) -> None:
    """Cell and shared-string counts are checked in the zip, before the workbook is unpacked."""
    data = with_shared_strings(
        xlsx([("Users", [["Email", "Webinar"], ["a@x.nl", 500], ["b@x.nl", 1000]])]), 3
    )
    reason = refusal(data, "in.xlsx", limits=limits)
    assert reason.startswith("too large when unpacked:") and words in reason


def test_config_limits_and_intake_keys_reach_the_settings(tmp_path: Path) -> None:
    """[limits] max_cells / max_shared_strings and [intake] sheet / ignore_columns are read."""
    path = tmp_path / "batch.toml"
    path.write_text(
        "[limits]\nmax_cells = 10\nmax_shared_strings = 20\n"
        '[intake]\nsheet = "April"\nignore_columns = ["Webniar", "Meeting notes"]\n'
    )
    settings = load_config(path, {})
    assert (settings.limits.max_cells, settings.limits.max_shared_strings) == (10, 20)
    assert settings.intake == Intake(sheet="April", ignore_columns=("Webniar", "Meeting notes"))
    path.write_text('[intake]\nignore_columns = "Webniar"\n')
    with pytest.raises(ConfigError, match=r"intake\.ignore_columns"):
        load_config(path, {})


def test_validate_refuses_an_ambiguous_workbook_with_exit_2_and_takes_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`batch validate` exits 2 naming the sheets when it cannot choose, and `--sheet` chooses."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "two.xlsx"
    path.write_bytes(xlsx([("Read me", [["x"]]), ("March", [["Email", "Webinar"], ["a@x.nl", 500]]),
                           ("April", [["Email", "Webinar"], ["b@x.nl", 1000]])]))  # fmt: skip
    report = str(tmp_path / "r.xlsx")
    refused = CliRunner().invoke(cli, ["validate", str(path), "--report", report])
    assert refused.exit_code == 2
    assert "several sheets have a header we recognise ('March', 'April')" in refused.output
    chosen = CliRunner().invoke(
        cli, ["validate", str(path), "--sheet", "March", "--report", report]
    )
    assert chosen.exit_code == 0, chosen.output

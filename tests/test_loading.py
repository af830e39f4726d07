"""The loader as an admin meets it: encodings, delimiters, row numbers, words and layouts."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook

from batch.errors import FileRefused
from batch.loading import load
from batch.model import REQUEST_COLUMNS, REQUEST_NOTE_COLUMNS, LoadedFile

NBSP = "\u00a0"


def load_bytes(data: bytes, name: str = "t.csv") -> LoadedFile:
    """Load from an in-memory file, as tests must."""
    return load(io.BytesIO(data), name=name)


def lines(loaded: LoadedFile, *columns: str) -> list[tuple[Any, ...]]:
    """The requests as tuples of the given columns, <NA> as None."""
    cols = columns or ("row", "email", "kind", "user_type", "size", "action")
    frame = loaded.requests.loc[:, list(cols)].astype(object)
    frame = frame.where(frame.notna(), None)
    return [tuple(r) for r in frame.itertuples(index=False)]


def xlsx(*sheets: tuple[str, list[tuple[int, list[Any]]]]) -> bytes:
    """A workbook of named sheets, each a list of (row number, cells from column A)."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]  # a fresh workbook has one
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row, cells in rows:
            for column, value in enumerate(cells, start=1):
                if value is not None:
                    sheet.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


WIDE_TEXT = "Email,User type,Webinar,Department\nann@example.com,Licensed,500,Café € ë\n"
WIDE_EXPECTED = [
    (2, "ann@example.com", "base", "Licensed", None, "assign"),
    (2, "ann@example.com", "webinar", "", 500, "assign"),
]


@pytest.mark.parametrize(
    "data",
    [
        WIDE_TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + WIDE_TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + WIDE_TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + WIDE_TEXT.encode("utf-16-be"),
        WIDE_TEXT.encode("cp1252"),
        WIDE_TEXT.replace("\n", "\r\n").encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-le", "utf16-be", "windows-1252", "windows-1252-crlf"],
)
def test_encodings_give_the_same_requests_and_text(data: bytes) -> None:
    """Every supported encoding reads the same requests and keeps accents and € intact."""
    loaded = load_bytes(data)
    assert lines(loaded) == WIDE_EXPECTED
    assert loaded.source.loc[2, "Department"] == "Café € ë"


def test_bytes_undefined_in_windows_1252_fall_back_to_latin1() -> None:
    """A byte Windows-1252 leaves undefined (0x81) still loads instead of failing."""
    loaded = load_bytes(b"Email,Webinar,Notes\nann@example.com,500,a\x81b\xe9\n")
    assert loaded.source.loc[2, "Notes"] == "a\x81bé"


@pytest.mark.parametrize(
    "delimiter", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"]
)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_delimiters_and_line_ends_are_sniffed(delimiter: str, newline: str) -> None:
    """Any of the four delimiters and any line end gives the same requests."""
    rows = [["Email", "User type", "Webinar"], ["ann@example.com", "Licensed", "500"]]
    text = newline.join(delimiter.join(r) for r in rows) + newline
    assert lines(load_bytes(text.encode())) == WIDE_EXPECTED


def test_sniffing_prefers_the_delimiter_that_names_known_headers() -> None:
    """A header with commas inside names is split on `;` when that names more known columns."""
    text = "Email;Webinar;Notes, remarks, more\nann@example.com;500;a, b\n"
    loaded = load_bytes(text.encode())
    assert loaded.extra_columns == ("Notes, remarks, more",)
    assert lines(loaded, "row", "size") == [(2, 500)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Email,Webinar\n\nann@example.com,500\n\n\nbob@example.com,1000\n",
            [(3, "ann@example.com"), (6, "bob@example.com")],
        ),
        (
            "\n\n;;\nEmail;Webinar\nann@example.com;500\n",
            [(5, "ann@example.com")],
        ),
        (
            'Email,Webinar,Notes\nann@example.com,500,"two\nlines, and a comma"\n'
            "bob@example.com,500,\n",
            [(2, "ann@example.com"), (3, "bob@example.com")],
        ),
        (
            "Email;Webinar;Afdeling\r\nann@example.com;500;IT\r\n;;\r\n   \r\n"
            "bob@example.com;500;\r\n",
            [(2, "ann@example.com"), (5, "bob@example.com")],
        ),
    ],
    ids=["blank-lines", "leading-blank-lines", "quoted-newline", "delimiter-only-lines"],
)
def test_row_numbers_match_excel(text: str, expected: list[tuple[int, str]]) -> None:
    """Row is the number Excel shows: blank lines count, a quoted line break does not."""
    loaded = load_bytes(text.encode())
    assert lines(loaded, "row", "email") == expected
    assert list(loaded.source.index) == [r for r, _ in expected]


def test_quoted_fields_keep_delimiters_and_quotes() -> None:
    """Quoted cells may hold the delimiter, quotes and line breaks; raw keeps them as typed."""
    text = 'Email,Webinar,Notes\n"ann@example.com","1,000","say ""hi"", then\nleave"\n'
    loaded = load_bytes(text.encode())
    assert lines(loaded, "raw", "size") == [("1,000", 1000)]
    assert loaded.source.loc[2, "Notes"] == 'say "hi", then\nleave'


def test_ragged_rows_longer_than_the_header_still_load() -> None:
    """A row with more fields than the header loads; the extra field gets a column letter."""
    text = "Email,Webinar\nann@example.com,500,stray\nbob@example.com,1000\n"
    loaded = load_bytes(text.encode())
    assert lines(loaded, "row", "size") == [(2, 500), (3, 1000)]
    assert loaded.extra_columns == ("Column C",)
    assert loaded.source.loc[2, "Column C"] == "stray"


@pytest.mark.parametrize(
    ("cell", "email"),
    [
        ("Ann.Smit@Example.COM", "ann.smit@example.com"),
        (f"ann.smit@example.com{NBSP}", "ann.smit@example.com"),
        (f"  {NBSP}ANN.smit@example.com  ", "ann.smit@example.com"),
        ("ann.smit@example.com\u200b", "ann.smit@example.com"),
        ("\ufeffann.smit@example.com", "ann.smit@example.com"),
        ("", ""),
    ],
    ids=["capitals", "trailing-nbsp", "spaces-both-sides", "zero-width", "stray-bom", "blank"],
)
def test_emails_are_trimmed_and_lower_cased(cell: str, email: str) -> None:
    """The email is folded for matching while email_input keeps the cell as typed."""
    loaded = load_bytes(f"Email;Webinar\n{cell};500\n".encode())
    assert lines(loaded, "email", "email_input") == [(email, cell)]


@pytest.mark.parametrize(
    ("column", "cell", "expected"),
    [
        ("User type", "Licensed", ("base", "Licensed", None, "assign")),
        ("User type", "Met licentie", ("base", "Licensed", None, "assign")),
        ("User type", "gelicentieerd", ("base", "Licensed", None, "assign")),
        ("User type", "BASIS", ("base", "Basic", None, "assign")),
        ("User type", "1", ("base", "Basic", None, "assign")),
        ("User type", "On-prem", ("base", "On-prem", None, "assign")),
        ("User type", "Premium", ("base", "", None, "assign")),
        ("Webinar", "500", ("webinar", "", 500, "assign")),
        ("Webinar", "1.000", ("webinar", "", 1000, "assign")),
        ("Webinar", "1,000", ("webinar", "", 1000, "assign")),
        ("Webinar", "1000.0", ("webinar", "", 1000, "assign")),
        ("Webinar", "750", ("webinar", "", 750, "assign")),
        ("Large Meeting", "yes", ("large_meeting", "", None, "assign")),
        ("Large Meeting", "x", ("large_meeting", "", None, "assign")),
        ("Large Meeting", "JA", ("large_meeting", "", None, "assign")),
        ("Large Meeting", "✓", ("large_meeting", "", None, "assign")),
        ("Zoom Events", "no", ("zoom_events", "", None, "remove")),
        ("Zoom Events", "0", ("zoom_events", "", None, "remove")),
        ("Zoom Events", "nee", ("zoom_events", "", None, "remove")),
        ("Zoom Events", "Verwijderen", ("zoom_events", "", None, "remove")),
        ("Zoom Events", "remove", ("zoom_events", "", None, "remove")),
        ("Webinar", "12.5", ("webinar", "", None, "")),
        ("Webinar", "gold", ("webinar", "", None, "")),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_wide_cells_become_requests(column: str, cell: str, expected: tuple[Any, ...]) -> None:
    """Each wide cell word maps to a kind, user type, size and action; raw keeps it as typed."""
    loaded = load_bytes(f"Email;{column}\nann@example.com;{cell}\n".encode())
    assert lines(loaded, "kind", "user_type", "size", "action") == [expected]
    assert lines(loaded, "column", "raw") == [(column, cell)]


def test_wide_rows_give_a_line_per_filled_cell_in_file_order() -> None:
    """Blank cells leave a license alone; filled ones give lines in row, then column order."""
    text = (
        "Webinar,Email,User type,Large Meeting,Zoom Events\n"
        "500,ann@example.com,Licensed,,yes\n"
        ",bob@example.com,,,\n"
        "no,,Basic,,\n"
    )
    assert lines(load_bytes(text.encode()), "row", "email", "column", "action") == [
        (2, "ann@example.com", "Webinar", "assign"),
        (2, "ann@example.com", "User type", "assign"),
        (2, "ann@example.com", "Zoom Events", "assign"),
        (4, "", "Webinar", "remove"),
        (4, "", "User type", "assign"),
    ]


@pytest.mark.parametrize(
    ("license_cell", "action_cell", "expected"),
    [
        ("Large Meeting 500", "", ("large_meeting", "", 500, "assign")),
        ("Webinar 1.000", "assign", ("webinar", "", 1000, "assign")),
        ("Webinar", "remove", ("webinar", "", None, "remove")),
        ("Grote vergadering 1000", "toewijzen", ("large_meeting", "", 1000, "assign")),
        ("Zoom Events 3000", "Verwijderen", ("zoom_events", "", 3000, "remove")),
        ("Webinar 750", "", ("webinar", "", 750, "assign")),
        ("Met licentie", "", ("base", "Licensed", None, "assign")),
        ("Basis", "", ("base", "Basic", None, "assign")),
        ("On-prem", "", ("base", "On-prem", None, "assign")),
        ("Webinar Gold", "", ("", "", None, "assign")),
        ("", "", ("", "", None, "assign")),
        ("Webinar 500", "maybe", ("webinar", "", 500, "")),
    ],
    ids=lambda v: v if isinstance(v, str) and v else None,
)
def test_long_cells_become_requests(
    license_cell: str, action_cell: str, expected: tuple[Any, ...]
) -> None:
    """Each long row is one line: the license word and the action word, unknown ones blank."""
    text = f"Email;License;Action;Notes\nann@example.com;{license_cell};{action_cell};n\n"
    loaded = load_bytes(text.encode())
    assert loaded.layout == "long"
    assert lines(loaded, "kind", "user_type", "size", "action") == [expected]
    assert lines(loaded, "column", "raw") == [("License", license_cell)]


def test_long_rows_without_email_still_give_requests() -> None:
    """A long row with a license but no email keeps its line so the rules can say why."""
    text = "Email,License\n,Licensed\nann@example.com,Webinar 500\n,,\n"
    assert lines(load_bytes(text.encode()), "row", "email", "kind") == [
        (2, "", "base"),
        (3, "ann@example.com", "webinar"),
    ]


def test_requests_table_has_the_documented_columns_and_dtypes() -> None:
    """The requests table has batch.model's REQUEST_COLUMNS and note columns, numbered 0..n-1."""
    requests = load_bytes(WIDE_TEXT.encode()).requests
    assert tuple(requests.columns) == (*REQUEST_COLUMNS, *REQUEST_NOTE_COLUMNS)
    assert requests["request"].tolist() == [0, 1]
    assert str(requests["size"].dtype) == "Int64"
    assert requests["row"].dtype == "int64"
    assert all(pd.api.types.is_string_dtype(requests[c]) for c in ("email", "raw", "kind"))


@pytest.mark.parametrize(
    ("header", "fields"),
    [
        (
            "E_MAIL;user-type;LargeMeeting; Zoom  Events ",
            ("email", "user_type", "large_meeting", "zoom_events"),
        ),
        (
            "E-mailadres;Gebruikerstype;Grote vergadering;Webinars",
            ("email", "user_type", "large_meeting", "webinar"),
        ),
        (
            "Gebruiker;Licentie;Actie;Afdeling;Kostenplaats",
            ("email", "license", "action", "department", "cost_center"),
        ),
        ("User Email;Licence;Cost Centre;Dept", ("email", "license", "cost_center", "department")),
    ],
    ids=["spelling-variants", "dutch-wide", "dutch-long", "english-long"],
)
def test_headers_match_aliases_ignoring_case_spaces_and_dashes(
    header: str, fields: tuple[str, ...]
) -> None:
    """Header aliases match regardless of case, spaces, `_` and `-`, in English and Dutch."""
    row = ";".join(["ann@example.com", "Licensed", "500", "IT", "KP-1"][: header.count(";") + 1])
    loaded = load_bytes(f"{header}\n{row}\n".encode())
    assert tuple(loaded.fields) == fields
    assert loaded.fields["email"] == header.split(";")[0].strip()


def test_unknown_and_duplicate_columns_are_carried_through_in_order() -> None:
    """Unknown columns and a second Dept keep their text under unique names, in file order."""
    text = "Notes,Email,Dept,Webinar,Dept,,Manager,,\nn1,ann@example.com,IT,500,Ops,x,Kim,,\n"
    loaded = load_bytes(text.encode())
    assert loaded.extra_columns == ("Notes", "Dept (2)", "Column F", "Manager")
    assert loaded.fields["department"] == "Dept"
    assert list(loaded.source.columns) == [
        "Notes", "Email", "Dept", "Webinar", "Dept (2)", "Column F", "Manager",
    ]  # fmt: skip
    assert loaded.source.loc[2].tolist() == [
        "n1",
        "ann@example.com",
        "IT",
        "500",
        "Ops",
        "x",
        "Kim",
    ]


def test_a_header_line_longer_than_the_sniffed_window_is_read_whole() -> None:
    """A header of 2,500 long column names (over 64 KB on one line) with Email and License at
    its end: every column is read, none is dropped (pandas warned and dropped them, silently
    in a real run), and the requests are the rows' own."""
    filler = [f"Extra column number {i:04d} of an HR export" for i in range(2500)]
    header = ",".join([*filler, "Email", "License", "Last"])
    assert len(header) > 65536
    rows = 3
    body = "".join(
        ",".join([*(["x"] * len(filler)), f"u{r}@example.com", "Licensed", f"end{r}"]) + "\n"
        for r in range(rows)
    )
    loaded = load_bytes(f"{header}\n{body}".encode())
    assert list(loaded.source.columns)[-3:] == ["Email", "License", "Last"]
    assert len(loaded.source.columns) == len(filler) + 3
    assert loaded.source["Last"].tolist() == [f"end{r}" for r in range(rows)]
    assert lines(loaded, "row", "email", "user_type") == [
        (r + 2, f"u{r}@example.com", "Licensed") for r in range(rows)
    ]


def test_loaded_file_records_name_hash_and_layout(tmp_path: Any) -> None:
    """A path loads under its own file name with the SHA-256 of its bytes."""
    path = tmp_path / "users.csv"
    path.write_bytes(WIDE_TEXT.encode())
    loaded = load(path)
    assert (loaded.name, loaded.layout) == ("users.csv", "wide")
    assert loaded.sha256 == hashlib.sha256(WIDE_TEXT.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# XLSX


def test_xlsx_reads_the_first_sheet_with_our_header_and_its_row_numbers() -> None:
    """An Instructions sheet in front is skipped; rows are the sheet's own row numbers."""
    data = xlsx(
        ("Instructions", [(1, ["Fill in the next sheet"]), (3, ["One row per license"])]),
        ("People", [(1, ["Name", "Dept"]), (2, ["Ann", "IT"])]),
        (
            "Licenses",
            [
                (3, [None, "Email", "License", "Cost center"]),
                (4, [None, "ann@example.com", "Webinar 500", 4100]),
                (7, [None, "bob@example.com", "Large Meeting 1000", 12.5]),
                (9, [None, " ", None, None, None, "  "]),
            ],
        ),
    )
    loaded = load_bytes(data, name="l.xlsx")
    assert lines(loaded, "row", "email", "kind", "size") == [
        (4, "ann@example.com", "webinar", 500),
        (7, "bob@example.com", "large_meeting", 1000),
    ]
    assert list(loaded.source.columns) == ["Email", "License", "Cost center"]
    assert loaded.source["Cost center"].tolist() == ["4100", "12.5"]


@pytest.mark.parametrize(
    ("value", "text", "size"),
    [
        (1000.0, "1000", 1000),
        (500, "500", 500),
        (12.5, "12.5", None),
        (True, "TRUE", None),
        (dt.datetime(2024, 5, 1), "2024-05-01", None),
        ("1.000", "1.000", 1000),
    ],
    ids=["float", "int", "fraction", "bool", "date", "text"],
)
def test_xlsx_cells_become_text_as_shown(value: Any, text: str, size: int | None) -> None:
    """Numbers, booleans and dates from a workbook turn into the text Excel shows."""
    data = xlsx(("Sheet1", [(1, ["Email", "Webinar"]), (2, ["ann@example.com", value])]))
    loaded = load_bytes(data, name="w.xlsx")
    assert lines(loaded, "raw", "size") == [(text, size)]


def test_xlsx_true_means_yes() -> None:
    """A TRUE boolean in an add-on column assigns it, like the word yes."""
    data = xlsx(("Sheet1", [(1, ["Email", "Webinar"]), (2, ["ann@example.com", True])]))
    assert lines(load_bytes(data, name="w.xlsx"), "kind", "action") == [("webinar", "assign")]


def test_format_is_told_by_content_not_extension() -> None:
    """A workbook named .csv is read as a workbook and a CSV named .xlsx as CSV."""
    data = xlsx(("Sheet1", [(1, ["Email", "Webinar"]), (2, ["ann@example.com", 500])]))
    assert lines(load_bytes(data, name="x.csv"), "size") == [(500,)]
    assert lines(load_bytes(WIDE_TEXT.encode(), name="x.xlsx"), "size") == [(None,), (500,)]


# ---------------------------------------------------------------------------------------------
# Refusals


def _zip_of_text() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


REFUSALS = [
    ("empty", b"", "the file is empty"),
    ("whitespace", b"  \r\n\r\n\t", "the file is empty"),
    ("only-delimiters", b";;;\r\n;;;\r\n", "the file is empty"),
    ("header-only", b"Email,Webinar\r\n", "no data rows"),
    ("header-and-blank-lines", b"Email;Webinar\r\n;\r\n\r\n", "no data rows"),
    ("no-email", b"Name,Webinar\nAnn,500\n", "no email column: expected a header such as Email"),
    ("no-license", b"Email,Dept\nann@example.com,IT\n", "no license columns"),
    ("mixed", b"Email,License,Webinar\na@x.nl,Basic,500\n", "mixes the long layout"),
    ("two-emails", b"Email,E-mail,Webinar\na,b,500\n", "two columns mean email"),
    ("two-webinars", b"Email,Webinar,Webinars\na,500,1000\n", "two columns mean webinar"),
    ("binary", bytes(range(256)) * 4, "not a spreadsheet"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a spreadsheet"),
    ("utf16-without-bom", "Email,Webinar\na,500\n".encode("utf-16-le"), "not a spreadsheet"),
    ("old-xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), ".xls workbook"),
    ("zip-not-xlsx", _zip_of_text(), "zip archive that is not an .xlsx"),
    ("truncated-xlsx", b"PK\x03\x04" + bytes(100), "zip archive that is not an .xlsx"),
    ("xlsx-no-header", xlsx(("Instructions", [(1, ["Read me"])])), "no email column"),
    ("xlsx-empty", xlsx(("Sheet1", [])), "the file is empty"),
]


@pytest.mark.parametrize(
    ("data", "reason"), [(d, r) for _, d, r in REFUSALS], ids=[i for i, _, _ in REFUSALS]
)
def test_unusable_files_are_refused_with_one_clear_line(data: bytes, reason: str) -> None:
    """A file that cannot be used raises FileRefused (exit 2) with a one-line reason."""
    with pytest.raises(FileRefused) as caught:
        load_bytes(data, name="in.csv")
    assert reason in caught.value.reason
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("in.csv: ")


def test_mixed_layout_message_names_the_columns() -> None:
    """The mixed-layout refusal says which columns clash and what to do."""
    with pytest.raises(FileRefused) as caught:
        load_bytes(b"Email,Licentie,Webinar,Gebruikerstype\na,Basic,500,Basis\n")
    assert caught.value.reason == (
        "mixes the long layout (license column 'Licentie') with wide columns ('Gebruikerstype', "
        "'Webinar'): use either one License column or User type/add-on columns"
    )


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        ({"max_file_bytes": 20}, "the limit (max_file_bytes) is 20 bytes"),
        ({"max_rows": 2}, "too many rows: 3 data rows, the limit (max_rows) is 2"),
        (
            {"max_cell_chars": 10},
            "row 4, column C ('Notes') has 11 characters, the limit (max_cell_chars) is 10",
        ),
    ],
    ids=["max_file_bytes", "max_rows", "max_cell_chars"],
)
def test_limits_refuse_the_file_naming_the_limit(
    limits: dict[str, int], reason: str, tmp_path: Any
) -> None:
    """A file past an input limit is refused, naming the limit, from a path or a stream."""
    from batch.settings import Limits

    data = b"Email,Webinar,Notes\na@x.nl,500,\nb@x.nl,500,short\nc@x.nl,500,01234567890\n"
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    for source in (path, io.BytesIO(data)):
        with pytest.raises(FileRefused) as caught:
            load(source, name="big.csv", limits=Limits(**limits))
        assert reason in caught.value.reason


def test_a_missing_path_is_refused_not_a_traceback(tmp_path: Any) -> None:
    """A path that does not exist is a FileRefused naming the file."""
    with pytest.raises(FileRefused) as caught:
        load(tmp_path / "nope.csv")
    assert str(caught.value) == "nope.csv: cannot be read: No such file or directory"

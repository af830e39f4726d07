"""Build the generated part of the hostile-input corpus: crafted workbooks, big and odd files.

    python tests/hostile/make_corpus.py OUT_DIR [--slow]

The committed corpus (the other files in this folder) holds what is small enough to keep by
hand; here are the cases that are big (a million rows, a zip bomb), need a zip writer (truncated
or crafted workbooks) or cannot be committed at all (a symlink to /dev/zero, a folder, a missing
path). `CASES` maps each file name to the function that writes it; `SLOW` names the expensive
ones, which the tests run only with `-m slow`.
"""

from __future__ import annotations

import io
import os
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

from openpyxl import Workbook

Builder = Callable[[Path], None]

CASES: dict[str, Builder] = {}
SLOW: set[str] = set()

HEADER: Final = ("Email", "User type", "Webinar", "Department")
GOOD_ROWS: Final = (
    ("ann@example.com", "Licensed", "500", "Sales"),
    ("bob@example.com", "Basic", "", "HR"),
)
GOOD_CSV: Final = (
    ",".join(HEADER) + "\n" + "".join(",".join(r) + "\n" for r in GOOD_ROWS)
).encode()
EXCEL_MAX_ROWS: Final = 1_048_576


def case(name: str, *, slow: bool = False) -> Callable[[Builder], Builder]:
    """Register a builder under the file name it writes."""

    def register(builder: Builder) -> Builder:
        CASES[name] = builder
        if slow:
            SLOW.add(name)
        return builder

    return register


def build(folder: Path, name: str) -> Path:
    """Write case `name` into `folder` (once) and return its path."""
    path = folder / name
    if not os.path.lexists(path):
        CASES[name](path)
    return path


# --- workbooks written by hand: the XML parts of a minimal .xlsx -------------------------------

_CONTENT_TYPES: Final = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE: Final = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS: Final = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK: Final = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    "<sheets>{sheets}</sheets></workbook>"
)
_WORKBOOK_RELS: Final = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    "{rels}</Relationships>"
)
_SHEET_REL: Final = (
    '<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
)
_SHEET_OPEN: Final = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _letters(column: int) -> str:
    """Excel's letters for a 1-based column number."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def row_xml(row: int, cells: Iterable[str], first_column: int = 1) -> bytes:
    """One sheet row of inline-string cells (blank texts are left out)."""
    parts = [
        f'<c r="{_letters(column)}{row}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'
        for column, text in enumerate(cells, start=first_column)
        if text
    ]
    return f'<row r="{row}">{"".join(parts)}</row>'.encode()


def sheet_xml(rows: Iterable[bytes], merges: str = "") -> Iterator[bytes]:
    """A worksheet part from row elements, streamed."""
    yield _SHEET_OPEN + b"<sheetData>"
    yield from rows
    yield b"</sheetData>" + merges.encode() + b"</worksheet>"


def write_xlsx(path: Path, sheets: list[tuple[str, str, Iterable[bytes]]]) -> None:
    """A workbook of (name, state, parts of the sheet XML) written part by part."""
    entries = "".join(
        f'<sheet name="{name}" sheetId="{n}" state="{state}" r:id="rId{n}"/>'
        for n, (name, state, _) in enumerate(sheets, start=1)
    )
    numbers = range(1, len(sheets) + 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        types = "".join(_SHEET_TYPE.format(n=n) for n in numbers)
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(sheets=types))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(sheets=entries))
        rels = "".join(_SHEET_REL.format(n=n) for n in numbers)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(rels=rels))
        for n, (_, _, parts) in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as part:
                for chunk in parts:
                    part.write(chunk)


def good_rows(first_row: int = 1) -> list[bytes]:
    """The header and the good rows as sheet rows from `first_row`."""
    return [row_xml(first_row + i, r) for i, r in enumerate((HEADER, *GOOD_ROWS))]


def good_xlsx() -> bytes:
    """A small valid workbook (openpyxl), as bytes."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (HEADER, *GOOD_ROWS):
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def save(workbook: Workbook, path: Path) -> None:
    """Save an openpyxl workbook (a wrapper, so every builder reads the same)."""
    workbook.save(path)


# --- truncated and foreign zips ----------------------------------------------------------------


def _truncated(share: float | None, cut_end: int = 0) -> Builder:
    def write(path: Path) -> None:
        data = good_xlsx()
        end = int(len(data) * share) if share is not None else len(data) - cut_end
        path.write_bytes(data[:end])

    return write


for _label, _share, _cut in [
    ("truncated-at-100-bytes", 100 / 5000, 0),
    ("truncated-at-10pct", 0.10, 0),
    ("truncated-at-50pct", 0.50, 0),
    ("truncated-at-90pct", 0.90, 0),
    ("truncated-end-record", None, 10),
]:
    case(f"{_label}.xlsx")(_truncated(_share, _cut))


@case("zip-without-workbook.xlsx")
def _zip_without_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("users.csv", GOOD_CSV)


@case("word-document.xlsx")
def _word_document(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")


@case("workbook-without-sheets.xlsx")
def _workbook_without_sheets(path: Path) -> None:
    write_xlsx(path, [])


@case("sheet-xml-broken.xlsx")
def _sheet_xml_broken(path: Path) -> None:
    write_xlsx(path, [("Users", "visible", [_SHEET_OPEN, b"<sheetData><row r=", b"\x00\xff"])])


@case("xlsx-named.csv")
def _xlsx_named_csv(path: Path) -> None:
    path.write_bytes(good_xlsx())


# --- workbooks with odd cells ------------------------------------------------------------------


@case("formulas-cached.xlsx")
def _formulas_cached(path: Path) -> None:
    """Formulas with cached values (as Excel saves them) and texts that look like formulas."""
    rows = [
        row_xml(1, (*HEADER, "Notes")),
        b'<row r="2"><c r="A2" t="str"><f>HYPERLINK("mailto:cat@example.com","cat@example.com")'
        b'</f><v>cat@example.com</v></c><c r="B2" t="inlineStr"><is><t>Licensed</t></is></c>'
        b'<c r="C2"><f>250*2</f><v>500</v></c><c r="E2" t="str"><f>1+1</f><v>2</v></c></row>',
        row_xml(3, ("dan@example.com", "Licensed", "=1+1", '=HYPERLINK("http://x","y")')),
        row_xml(4, ("=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1:A2)", "\tTab")),
    ]
    write_xlsx(path, [("Users", "visible", sheet_xml(rows))])


@case("formulas-uncached.xlsx")
def _formulas_uncached(path: Path) -> None:
    """Formulas as openpyxl writes them: no cached value, so nothing to read but the formula."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([*HEADER, "Notes"])
    sheet.append(['=HYPERLINK("mailto:eve@example.com","eve@example.com")', "Licensed", "=1+1"])
    sheet.append(["fay@example.com", "Licensed", "500", "Sales", "=1+1"])
    save(workbook, path)


@case("dates-and-types.xlsx")
def _dates_and_types(path: Path) -> None:
    """Dates, times, booleans, floats and error cells where texts are expected."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([*HEADER, datetime(2024, 5, 1)])
    sheet.append([datetime(2024, 5, 1, 12, 30), "Licensed", 500.0, date(2024, 1, 2), time(8)])
    sheet.append(["gus@example.com", True, datetime(2024, 5, 1), 3.25, False])
    sheet.append(["hal@example.com", 2, 1000, "#N/A", "=1/0"])
    sheet.append(["ivy@example.com", "Licensed", 1e308, -0.0, 12345678901234567890])
    save(workbook, path)


@case("merged-cells.xlsx")
def _merged_cells(path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (HEADER, *GOOD_ROWS, ("cy@example.com", "Licensed", "1000", "IT")):
        sheet.append(list(row))
    sheet.merge_cells("B2:B4")  # one user type over three users: only the first keeps it
    sheet.merge_cells("D1:E1")
    save(workbook, path)


def _hidden_first(state: str) -> Builder:
    def write(path: Path) -> None:
        old = [row_xml(1, HEADER), row_xml(2, ("old@example.com", "Licensed", "500", "Gone"))]
        write_xlsx(
            path,
            [("Old", state, sheet_xml(old)), ("Users", "visible", sheet_xml(good_rows()))],
        )

    return write


case("hidden-sheet-first.xlsx")(_hidden_first("hidden"))
case("very-hidden-sheet-first.xlsx")(_hidden_first("veryHidden"))


@case("only-hidden-sheet.xlsx")
def _only_hidden_sheet(path: Path) -> None:
    write_xlsx(
        path,
        [
            ("Old", "hidden", sheet_xml(good_rows())),
            ("Notes", "visible", sheet_xml([row_xml(1, ("Read me",))])),
        ],
    )


@case("instructions-sheet-first.xlsx")
def _instructions_first(path: Path) -> None:
    notes = [row_xml(1, ("How to fill this in",)), row_xml(3, ("Email: one address per row",))]
    write_xlsx(
        path,
        [("Read me", "visible", sheet_xml(notes)), ("Users", "visible", sheet_xml(good_rows()))],
    )


@case("header-in-row-50.xlsx")
def _header_row_50(path: Path) -> None:
    write_xlsx(path, [("Users", "visible", sheet_xml(good_rows(first_row=50)))])


@case("far-corner-cell.xlsx")
def _far_corner(path: Path) -> None:
    """A header and one stray cell in the last row and column Excel has (XFD1048576)."""
    rows = [*good_rows(), row_xml(EXCEL_MAX_ROWS, ("x",), first_column=16384)]
    write_xlsx(path, [("Users", "visible", sheet_xml(rows))])


@case("far-corner-cell-single-quoted.xlsx")
def _far_corner_single_quoted(path: Path) -> None:
    """The same stray cell, its row and reference in single quotes (legal XML): still seen."""
    far = row_xml(EXCEL_MAX_ROWS, ("x",), first_column=16384)
    far = far.replace(b'r="XFD1048576"', b"r='XFD1048576'").replace(b'"1048576"', b"'1048576'")
    write_xlsx(path, [("Users", "visible", sheet_xml([*good_rows(), far]))])


@case("empty-workbook.xlsx")
def _empty_workbook(path: Path) -> None:
    save(Workbook(), path)


@case("header-only.xlsx")
def _header_only_xlsx(path: Path) -> None:
    write_xlsx(path, [("Users", "visible", sheet_xml([row_xml(1, HEADER)]))])


@case("cell-of-1mb.xlsx")
def _big_cell_xlsx(path: Path) -> None:
    rows = [*good_rows(), row_xml(4, ("cy@example.com", "Licensed", "", "x" * 1_048_576))]
    write_xlsx(path, [("Users", "visible", sheet_xml(rows))])


# --- big or odd text files ---------------------------------------------------------------------


@case("cell-of-1mb.csv")
def _big_cell_csv(path: Path) -> None:
    path.write_bytes(GOOD_CSV + b"cy@example.com,Licensed,," + b"x" * 1_048_576 + b"\n")


@case("line-of-1mb-quoted.csv")
def _long_quoted_line(path: Path) -> None:
    """An unbalanced quote that swallows the rest of a 1 MB file into one cell."""
    path.write_bytes(GOOD_CSV + b'cy@example.com,"Licensed,500,IT\n' + b"dan,x,1,y\n" * 100_000)


@case("ragged-row-of-2000-fields.csv")
def _ragged_row(path: Path) -> None:
    path.write_bytes(GOOD_CSV + b"cy@example.com,Licensed" + b",x" * 2_000 + b"\n")


@case("devzero-link.csv")
def _devzero(path: Path) -> None:
    path.symlink_to("/dev/zero")


@case("a-folder.csv")
def _folder(path: Path) -> None:
    path.mkdir()


@case("missing.csv")
def _missing(path: Path) -> None:
    """Nothing: the path does not exist (a file that disappeared)."""


@case("million-empty-rows.csv", slow=True)
def _million_empty_csv(path: Path) -> None:
    with path.open("wb") as out:
        out.write(GOOD_CSV)
        out.write(b",,,\n" * 500_000 + b"\n" * 500_000)
        out.write(b"cy@example.com,Licensed,1000,IT\n")


@case("million-empty-rows.xlsx", slow=True)
def _million_empty_xlsx(path: Path) -> None:
    """Empty-string cells down to row 1,000,004, then one real user at the very end."""

    def rows() -> Iterator[bytes]:
        yield from good_rows()
        blank = '<c r="A{0}" t="inlineStr"><is><t></t></is></c>'
        for start in range(4, 1_000_004, 10_000):
            stop = min(start + 10_000, 1_000_004)
            yield "".join(
                f'<row r="{r}">{blank.format(r)}</row>' for r in range(start, stop)
            ).encode()
        yield row_xml(1_000_004, ("cy@example.com", "Licensed", "1000", "IT"))

    write_xlsx(path, [("Users", "visible", sheet_xml(rows()))])


@case("rows-2000001.csv", slow=True)
def _over_max_rows(path: Path) -> None:
    with path.open("wb") as out:
        out.write(b"Email,User type\n")
        out.write(b"u@example.com,Licensed\n" * 2_000_001)


@case("columns-10000.csv", slow=True)
def _wide_csv(path: Path) -> None:
    extra = [f"Extra {i}" for i in range(9_996)]
    lines = [",".join((*HEADER, *extra))]
    lines += [",".join((*r, *(f"v{i}" for i in range(9_996)))) for r in GOOD_ROWS]
    path.write_text("\n".join(lines) + "\n")


@case("columns-10000.xlsx", slow=True)
def _wide_xlsx(path: Path) -> None:
    extra = [f"Extra {i}" for i in range(9_996)]
    rows = [row_xml(1, (*HEADER, *extra))]
    rows += [row_xml(n, (*r, *(f"v{i}" for i in range(9_996)))) for n, r in enumerate(GOOD_ROWS, 2)]
    write_xlsx(path, [("Users", "visible", sheet_xml(rows))])


@case("zip-bomb.xlsx", slow=True)
def _zip_bomb(path: Path) -> None:
    """A sheet that inflates to 1.2 GB from a few MB: the same empty-cell row, over and over."""
    chunk = b'<row><c t="inlineStr"><is><t></t></is></c></row>' * 20_000  # about 1 MB
    parts = (chunk for _ in range(1_200))
    write_xlsx(path, [("Users", "visible", sheet_xml([*good_rows(), *parts]))])


def build_all(folder: Path, *, slow: bool = False) -> list[Path]:
    """Write every case (the slow ones too when asked) into `folder`; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    return [build(folder, name) for name in CASES if slow or name not in SLOW]


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    for path in build_all(Path(argv[0]), slow="--slow" in argv):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

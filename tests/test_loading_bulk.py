"""A workbook read in bulk (fastexcel into Arrow) gives the very table the cell-by-cell reader
gives: same text per cell, same row numbers, same columns."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from typing import Any

import openpyxl
import pandas as pd
import pytest

from batch.errors import FileRefused
from batch.loading import bulk, load, xlsxfile
from batch.settings import Limits

TEXTS = ["ann@example.com", "Licensed", "  ", "", "R&D", "x<y", "1.000", "TRUE", "Ünïcode", "0"]
NUMBERS: list[Any] = [0, 1, 500, 1000.0, 12.5, 0.1, -3, 123456789012345, 0.30000000000000004]


def _workbook(cells: dict[tuple[int, int], Any], number_format: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for (row, column), value in cells.items():
        cell = sheet.cell(row=row, column=column, value=value)
        if number_format:
            cell.number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell_by_cell(data: bytes, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    with monkeypatch.context() as patch:
        patch.setattr(bulk, "read", lambda *_: None)
        return xlsxfile.read_table(data).table


def _compact(table: pd.DataFrame) -> dict[tuple[int, int], str]:
    """The table's non-empty cells by (row, column): the cell-by-cell table also holds the
    empty rows above the first cell, which the header search skips anyway."""
    return {
        (int(row), int(column)): str(table.iat[i, j])
        for i, row in enumerate(table.index)
        for j, column in enumerate(table.columns)
        if table.iat[i, j] != ""
    }


@pytest.mark.parametrize("seed", range(8), ids=[f"seed{s}" for s in range(8)])
def test_bulk_table_matches_cell_by_cell(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random sheets of texts and plain numbers anywhere on the sheet read alike both ways."""
    pick = random.Random(seed)
    top, left = pick.randint(1, 5), pick.randint(1, 4)
    cells = {
        (top + pick.randrange(30), left + pick.randrange(6)): pick.choice(TEXTS + NUMBERS)
        for _ in range(pick.randint(1, 120))
    }
    data = _workbook(cells)
    used: list[bool] = []
    real = bulk.read

    def counted(*args: Any) -> pd.DataFrame | None:
        table = real(*args)
        used.append(table is not None)
        return table

    with monkeypatch.context() as patch:
        patch.setattr(bulk, "read", counted)
        read = xlsxfile.read_table(data)
    assert used == [True], "the sheet is plain: it is read in bulk"
    expected = _cell_by_cell(data, monkeypatch)
    assert _compact(read.table) == _compact(expected)
    assert list(read.table.columns) == list(expected.columns)
    assert read.table.index[-1] == expected.index[-1]


@pytest.mark.parametrize(
    ("value", "number_format", "text"),
    [
        (True, None, "TRUE"),
        (dt.datetime(2024, 5, 1), None, "2024-05-01"),
        (dt.datetime(2024, 5, 1, 13, 5), None, "2024-05-01 13:05:00"),
        (45413, "yyyy-mm-dd", "2024-05-01"),
        (1e-7, None, "1e-07"),
        (1e20, None, "100000000000000000000"),
        (-0.0, None, "0"),
    ],
    ids=["bool", "date", "datetime", "date-format", "tiny", "huge", "minus-zero"],
)
def test_cells_bulk_would_misread_are_read_as_shown(
    value: Any, number_format: str | None, text: str
) -> None:
    """A sheet holding a cell whose bulk text would differ keeps the text Excel shows."""
    cells = {(1, 1): "Email", (1, 2): "Note", (2, 1): "a@b.c", (2, 2): value}
    data = _workbook(cells, number_format)
    assert xlsxfile.read_table(data).table.loc[2, 1] == text


def _with_own_format(data: bytes, code: str) -> bytes:
    """The workbook with its one cell style on a format of its own (id 164) of `code`, as
    LibreOffice saves its default style ("General"), and B2 styled with it."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename == "xl/styles.xml":
                text = part.decode()
                text = text.replace(
                    '<numFmts count="0"/>',
                    f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{code}"/></numFmts>',
                )
                head, xfs = text.split("<cellXfs", 1)
                part = (
                    head + "<cellXfs" + xfs.replace('numFmtId="0"', 'numFmtId="164"', 1)
                ).encode()
            elif info.filename == "xl/worksheets/sheet1.xml":  # the number cell names its style
                part = part.replace(b'<c r="B2" t="n">', b'<c r="B2" s="0" t="n">')
            target.writestr(info, part)
    return out.getvalue()


@pytest.mark.parametrize(
    ("code", "bulk_used", "text"),
    [("General", True, "45413"), ("0.00", True, "45413"), ("yyyy-mm-dd", False, "2024-05-01")],
    ids=["general", "decimals", "date"],
)
def test_own_number_formats_by_their_code(
    code: str, bulk_used: bool, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A format of the workbook's own whose code is a plain one (LibreOffice's "General")
    reads in bulk; one that shows a date is read cell by cell, as the admin sees it."""
    data = _with_own_format(_workbook({(1, 1): "Email", (1, 2): "Note", (2, 1): "a@b.c",
                                       (2, 2): 45413}), code)  # fmt: skip
    used: list[bool] = []
    real = bulk.read

    def counted(*args: Any) -> pd.DataFrame | None:
        used.append(True)
        return real(*args)

    with monkeypatch.context() as patch:
        patch.setattr(bulk, "read", counted)
        table = xlsxfile.read_table(data).table
    assert bool(used) is bulk_used
    assert table.loc[2, 1] == text


# -- what a differential fuzz of the two readers found (openpyxl, xlsxwriter, LibreOffice and
# hand-written sheets): each case read in bulk once gave another text than cell by cell


def _patched(data: bytes, part: str, *edits: tuple[str, str]) -> bytes:
    """The workbook with text replaced in one part (each `old` must be there)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == part:
                text = content.decode()
                for old, new in edits:
                    assert old in text, old
                    text = text.replace(old, new, 1)
                content = text.encode()
            target.writestr(info, content)
    return out.getvalue()


SHEET, STYLES = "xl/worksheets/sheet1.xml", "xl/styles.xml"


def _alike(data: bytes, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    """The table as read (in bulk where the scan allows it), asserted equal to cell by cell."""
    read = xlsxfile.read_table(data).table
    assert _compact(read) == _compact(_cell_by_cell(data, monkeypatch))
    return read


@pytest.mark.parametrize(
    "value",
    [1000.0000000001, 2.0000000001, 0.1234567891, 0.00012345678, 123456789.123, 8449846022.1,
     -707397104970.562, 0.000123, 1234.5678],
)  # fmt: skip
def test_fractions_read_as_written(value: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """A number with a fraction reads as Python writes it, never rounded to 9 places or
    widened to its binary expansion (1000.0000000001 was "1000": a Webinar size of 1000)."""
    data = _workbook({(1, 1): "Email", (1, 2): "Webinar", (2, 1): "a@b.c", (2, 2): value})
    assert _alike(data, monkeypatch).loc[2, 1] == repr(value)


DATE_STYLED = {(1, 1): "Email", (1, 2): "Since", (2, 1): "a@b.c", (2, 2): 45413}
OWN_FORMATS = '<numFmts count="0"/>'
XF_OF_B2 = '<xf numFmtId="2" fontId="0"'  # openpyxl's style of a "0.00" cell


@pytest.mark.parametrize(
    "edits",
    [
        [(OWN_FORMATS, '<numFmts count="1"><numFmt numFmtId="2" formatCode="yyyy-mm-dd"/>'
                       "</numFmts>")],
        [(OWN_FORMATS, '<numFmts count="2"><numFmt numFmtId="164" formatCode="General"/>'
                       '<numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'),
         (XF_OF_B2, '<xf numFmtId="164" fontId="0"')],
        [(XF_OF_B2, "<xf numFmtId='14' fontId=\"0\"")],
        [(OWN_FORMATS, '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
                       "</numFmts>"),
         (XF_OF_B2, '<xf numFmtId="164" fontId="0"'),
         ("</cellStyles>", '</cellStyles><dxfs count="1"><dxf><numFmt numFmtId="164" '
                           'formatCode="General"/></dxf></dxfs>')],
    ],
    ids=["built-in-id-redefined", "last-definition-counts", "single-quotes", "dxf-not-a-format"],
)  # fmt: skip
def test_number_formats_are_read_as_the_reader_reads_them(
    edits: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A date format the workbook writes in an unusual way still shows the date."""
    data = _patched(_workbook(DATE_STYLED, "0.00"), STYLES, *edits)
    assert _alike(data, monkeypatch).loc[2, 1] == "2024-05-01"


@pytest.mark.parametrize(
    ("flag", "since"),
    [("t='b'", "s='1' t=\"n\""), ('t = "b"', 's = "1" t="n"')],
    ids=["single-quotes", "spaces-around-equals"],
)
def test_cell_attributes_in_any_quoting(
    flag: str, since: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A boolean or a date-styled cell whose attributes are quoted another way reads as shown."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["B1"], sheet["C1"] = "Email", "Flag", "Since"
    sheet["A2"], sheet["B2"], sheet["C2"] = "a@b.c", True, 45413
    sheet["C2"].number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    book.save(buffer)
    data = _patched(
        buffer.getvalue(),
        SHEET,
        ('<c r="B2" t="b">', f'<c r="B2" {flag}>'),
        ('<c r="C2" s="1" t="n">', f'<c r="C2" {since}>'),
    )
    table = _alike(data, monkeypatch)
    assert (table.loc[2, 1], table.loc[2, 2]) == ("TRUE", "2024-05-01")


def test_value_tags_with_attributes_or_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """<v >-0</v>, <v xml:space="preserve">1E-7</v>, <v\\n>0.00001</v> read as shown."""
    cells = {(1, 1): "Email", (1, 2): "N", (1, 3): "M", (1, 4): "K", (2, 1): "a@b.c",
             (2, 2): 1, (2, 3): 2, (2, 4): 3}  # fmt: skip
    data = _patched(
        _workbook(cells),
        SHEET,
        ('<c r="B2" t="n"><v>1</v>', '<c r="B2" t="n"><v >-0</v>'),
        ('<c r="C2" t="n"><v>2</v>', '<c r="C2" t="n"><v xml:space="preserve">1E-7</v>'),
        ('<c r="D2" t="n"><v>3</v>', '<c r="D2" t="n"><v\n>0.00001</v>'),
    )
    table = _alike(data, monkeypatch)
    assert [table.loc[2, c] for c in (1, 2, 3)] == ["0", "1e-07", "1e-05"]


@pytest.mark.parametrize(
    "extra",
    ['<c r="C4" t="inlineStr"><v>5</v></c>', '<c r="C4"><v ></v></c>', '<c r="C4"><v/></c>'],
    ids=["inline-string-with-v", "spaced-empty-value", "empty-value"],
)
def test_a_far_cell_the_reader_takes_as_empty_shifts_nothing(
    extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A last cell that looks filled but the reader takes as empty: every other cell stays
    where it is (the bulk grid was placed from that cell: every cell moved a row and a column)."""
    cells = {(1, 1): "Email", (1, 2): "Webinar", (2, 1): "a@b.c", (2, 2): 500,
             (3, 1): "c@d.e", (3, 2): 1000}  # fmt: skip
    data = _patched(
        _workbook(cells),
        SHEET,
        ("</row></sheetData>", f'</row><row r="4">{extra}</row></sheetData>'),
    )
    table = _alike(data, monkeypatch)
    assert (table.loc[1, 0], table.loc[2, 1], table.loc[3, 0]) == ("Email", "500", "c@d.e")


@pytest.mark.parametrize(
    ("value", "number_format"),
    [(-1e12, "yyyy-mm-dd"), (-1e12, "h:mm"), (1e12, "[h]:mm:ss")],
    ids=["negative-date", "negative-time", "huge-duration"],
)
def test_a_number_past_excels_dates_in_a_date_cell_is_refused_in_one_line(
    value: float, number_format: str
) -> None:
    """The reader panics (no Exception at all) or overflows on it: the file is refused with
    a reason and what to do, never a traceback."""
    cells = {(1, 1): "Email", (1, 2): "Licensed since", (2, 1): "a@b.c", (2, 2): value}
    data = _workbook(cells, number_format)
    with pytest.raises(FileRefused) as refused:
        load(io.BytesIO(data), name="users.xlsx")
    message = str(refused.value)
    assert "a cell cannot be read" in message and "format such cells as numbers" in message
    assert "\n" not in message


# -- hand-written workbooks (a second fuzz round): what no everyday writer makes, read alike

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
_DATE_IN_B2 = (
    _HEAD + '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="1"><v>45413</v></c></row>'
)


def _hand_written(rows: str, cell_xfs: str = '<xf numFmtId="0"/>', styles: str = "") -> bytes:
    """A one-sheet workbook as written by hand: `rows` the sheetData, shared strings Email,
    Since, a@b.c; styles.xml's cellXfs (or the whole `styles` body)."""
    body = styles or f"<cellXfs>{cell_xfs}</cellXfs>"
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook {_NS} xmlns:r="{_REL}"><sheets><sheet name="Sheet1" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_REL}/styles" '
        f'Target="styles.xml"/><Relationship Id="rId3" Type="{_REL}/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>',
        "xl/styles.xml": f"<styleSheet {_NS}>{body}</styleSheet>",
        "xl/sharedStrings.xml": f"<sst {_NS}><si><t>Email</t></si><si><t>Since</t></si>"
        "<si><t>a@b.c</t></si></sst>",
        "xl/worksheets/sheet1.xml": f"<worksheet {_NS}><sheetData>{rows}</sheetData></worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


_DATE_XFS = '<xf numFmtId="0"/><xf numFmtId="14"/>'
_Q = 'xmlns:q="urn:q"'


@pytest.mark.parametrize(
    ("rows", "cell_xfs", "styles"),
    [
        (_DATE_IN_B2.replace('s="1"', 'x=">" s="1"'), _DATE_XFS, ""),
        (_DATE_IN_B2.replace('s="1"', 's="0000000001"'), _DATE_XFS, ""),
        (_DATE_IN_B2, '<xf numFmtId="0" a-b="1"/><xf numFmtId="14"/>', ""),
        (_DATE_IN_B2, '<xf numFmtId="0"/><!-- <xf numFmtId="0"/> --><xf numFmtId="14"/>', ""),
        (_DATE_IN_B2, "", '<numFmts><!-- <numFmt numFmtId="14" formatCode="General"/> -->'
                          f"</numFmts><cellXfs>{_DATE_XFS}</cellXfs>"),
        (_DATE_IN_B2, "", f"<cellXfs>{_DATE_XFS}</cellXfs>"
                          '<numFmts><numFmt numFmtId="14" formatCode="General"/></numFmts>'),
        (_DATE_IN_B2, f'<xf numFmtId="0"/><xf numFmtId="14" q:numFmtId="0" {_Q}/>', ""),
        (_DATE_IN_B2, "", f'<numFmts><numFmt q:numFmtId="14" formatCode="General" {_Q}/>'
                          f"</numFmts><cellXfs>{_DATE_XFS}</cellXfs>"),
    ],
    ids=["gt-in-an-attribute", "style-index-of-10-digits", "xf-attribute-with-dash",
         "xf-in-a-comment", "numfmt-in-a-comment", "numfmts-after-cellxfs",
         "prefixed-xf-attribute", "prefixed-numfmt-attribute"],
)  # fmt: skip
def test_a_date_style_written_by_hand_still_shows_the_date(
    rows: str, cell_xfs: str, styles: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Style 1 is a date however its cell or styles.xml is written: B2 shows 2024-05-01."""
    data = _hand_written(rows, cell_xfs, styles)
    assert _alike(data, monkeypatch).loc[2, 1] == "2024-05-01"


def test_two_edge_cells_read_differently_do_not_shift_the_grid_between_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A first row of formulas (filled to the reader, not obviously to the scan) and a last
    cell the reader takes as empty (an inline string with <v>) give a grid of the right size
    in the wrong place; every cell stays where it is."""
    rows = ['<row r="1"><c r="A1"><f>1+1</f><v>2</v></c><c r="B1"><f>2+2</f><v>4</v></c></row>']
    for r in range(2, 10):
        ninth = f'<c r="C{r}"><v>7</v></c>' if r == 9 else ""
        rows.append(f'<row r="{r}"><c r="A{r}" t="s"><v>2</v></c><c r="B{r}"><v>{r}</v></c>'
                    f"{ninth}</row>")  # fmt: skip
    rows.append('<row r="10"><c r="C10" t="inlineStr"><v>5</v></c></row>')
    table = _alike(_hand_written("".join(rows)), monkeypatch)
    assert (table.loc[1, 0], table.loc[2, 0], table.loc[9, 2]) == ("2", "a@b.c", "7")


@pytest.mark.parametrize(
    "far_cell",
    ["<row r='500'><c r='Z500'><v>5</v></c></row>",
     '<row r = "500"><c r = "Z500"><v>5</v></c></row>',
     '<row><c r="Z0000000500"><v>5</v></c></row>',
     '<row><c r="z500"><v>5</v></c></row>'],
    ids=["single-quotes", "spaces-around-equals", "leading-zeros", "lower-case"],
)  # fmt: skip
def test_the_grid_guard_sees_a_far_cell_however_its_reference_is_written(far_cell: str) -> None:
    """A far cell is counted before any reader unpacks the sheet, whatever its quoting: with
    XFD1048576 written so, calamine would build a grid of 17 billion cells."""
    data = _hand_written('<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + far_cell)
    with pytest.raises(xlsxfile.TooLarge):
        xlsxfile.read_table(data, Limits(max_cells=1000))


@pytest.mark.parametrize("blank", ["\n", "  ", " \t "])
def test_a_sheet_of_only_blanks_reads_as_empty_both_ways(
    blank: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet whose only cells hold spaces or line breaks is no sheet to choose, in bulk as
    cell by cell (the bulk read gave the sheet and its blank cell)."""
    data = _workbook({(1, 1): blank})
    read = xlsxfile.read_table(data)
    slow = _cell_by_cell(data, monkeypatch)
    assert (read.name, read.table.empty) == (None, True)
    assert slow.empty

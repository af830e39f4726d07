"""The sheet scan's fast path (numpy over the bytes) finds what the general one (a pattern per
tag) finds, on sheets written every way, cut into chunks anywhere; and it calls a sheet plain
(read in bulk) only when no cell in it may read differently in bulk."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from batch.loading import sheetscan

PART = "xl/worksheets/sheet1.xml"
# (attributes after the reference, the cell's inside) by kind; "" inside with "/" = self-closing
KINDS = {
    "shared": (' t="s"', "<v>{n}</v>"),
    "number": ("", "<v>{value}</v>"),
    "inline": (' t="inlineStr"', "<is><t>x{n}</t></is>"),
    "bool": (' t="b"', "<v>1</v>"),
    "date": (' t="d"', "<v>2024-05-01</v>"),
    "error": (' t="e"', "<v>#N/A</v>"),
    "empty": (' t="inlineStr"', ""),
    "styled-only": (' s="1"', None),
    "formula": ("", "<f>1+1</f><v>2</v>"),
}
NUMBERS = ["0", "7", "1000", "12.5", "-3", "0.1", "-0", "1E+20", "1e-7", "12345678901234567",
           "123456789012345", "0.00001", "3.0000000000000004"]  # fmt: skip
EXTENSIONS = (
    '<extLst><ext uri="{78C0D931}"><x14:conditionalFormattings><x14:cfRule type="x"><xm:f>'
    "A1:B2</xm:f></x14:cfRule></x14:conditionalFormattings><x14:dataValidations>"
    "<x14:dataValidation/></x14:dataValidations></ext></extLst>"
)
PLAIN_KINDS = ("shared", "number", "inline", "empty", "styled-only", "formula")


@dataclass(frozen=True)
class Cell:
    row: int
    column: int
    kind: str
    value: str


def sheet_xml(cells: list[Cell], way: str) -> bytes:
    """The sheet part as a writer that writes `way` would: `excel` (Excel, openpyxl,
    xlsxwriter), `excel-ext` (Excel's row attributes and extensions with prefixed tags),
    `prefixed` (x: namespace prefix), `style-first` (s before r), `spaced` (newlines between
    tags), `unreferenced` (cells without r=), `lowercase` (r="a1"), `zero-padded` (r="A007")."""
    p = "x:" if way == "prefixed" else ""
    gap = "\n  " if way == "spaced" else ""
    rows: dict[int, list[Cell]] = {}
    for cell in cells:
        rows.setdefault(cell.row, []).append(cell)
    out = [f'<{p}worksheet xmlns{":x" if p else ""}="urn:main"><{p}sheetData>']
    for number in sorted(rows):
        spans = ' spans="1:7" x14ac:dyDescent="0.25"' if way == "excel-ext" else ""
        out.append(f'{gap}<{p}row r="{number}"{spans}>')
        for i, cell in enumerate(sorted(rows[number], key=lambda c: c.column)):
            attributes, inside = KINDS[cell.kind]
            ref = f' r="{get_column_letter(cell.column)}{cell.row}"'
            if way == "unreferenced" and i == 0:
                ref = ""
            if way == "lowercase":
                ref = ref.lower()
            if way == "zero-padded":  # r="A007": the same cell to calamine
                ref = f' r="{get_column_letter(cell.column)}{cell.row:0{3 + i % 5}d}"'

            if way == "style-first":
                opened = f'<{p}c s="0"{ref}{attributes}'
            else:
                opened = f"<{p}c{ref}{attributes}"
            if inside is None:
                out.append(f"{gap}{opened}/>")
            else:
                body = inside.format(n=cell.row, value=cell.value)
                body = re.sub(r"<(/?)(\w)", rf"<\1{p}\2", body)
                out.append(f"{gap}{opened}>{body}</{p}c>")
        out.append(f"{gap}</{p}row>")
    out.append(f"</{p}sheetData>")
    if way == "excel-ext":  # Excel's extensions: prefixed tags that are not cells
        out.append(EXTENSIONS)
    out.append(f"</{p}worksheet>")
    return "".join(out).encode()


def scanned(
    xml: bytes, chunk: int, monkeypatch: pytest.MonkeyPatch, *, fast: bool
) -> sheetscan.Extent:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(PART, xml)
    with zipfile.ZipFile(buffer) as archive, monkeypatch.context() as patch:
        patch.setattr(sheetscan, "_CHUNK", chunk)
        if not fast:
            patch.setattr(sheetscan, "_fast", lambda *_: False)
        return sheetscan.scan(archive, archive.getinfo(PART), frozenset())


CELLS = st.builds(
    Cell,
    row=st.one_of(st.integers(1, 40), st.sampled_from([1048576, 99999, 10_000_000, 123456789])),
    column=st.one_of(st.integers(1, 30), st.sampled_from([16384, 703, 27])),
    kind=st.sampled_from(sorted(KINDS)),
    value=st.sampled_from(NUMBERS),
)
WAYS = st.sampled_from(
    [
        "excel",
        "excel-ext",
        "prefixed",
        "style-first",
        "spaced",
        "unreferenced",
        "lowercase",
        "zero-padded",
    ]
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture], deadline=None)  # fmt: skip
@given(cells=st.lists(CELLS, min_size=0, max_size=40, unique_by=lambda c: (c.row, c.column)),
       way=WAYS, chunk=st.sampled_from([37, 64, 200, 1 << 20]))  # fmt: skip
def test_fast_scan_finds_what_the_general_scan_finds(
    cells: list[Cell], way: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same cell count and the same farthest row, column and content cell, however the sheet
    is written and wherever the chunks are cut (the guard against a stray far cell)."""
    xml = sheet_xml(cells, way)
    fast = scanned(xml, chunk, monkeypatch, fast=True)
    general = scanned(xml, chunk, monkeypatch, fast=False)
    assert (fast.cells, fast.height, fast.width, fast.last) == (
        general.cells, general.height, general.width, general.last,
    )  # fmt: skip
    content = [c for c in cells if c.kind != "styled-only"]  # calamine skips a style alone
    if content and way.startswith("excel"):
        assert fast.height >= max(c.row for c in content)
        assert fast.width >= max(c.column for c in content)


def _reads_alike(cell: Cell) -> bool:
    """A cell whose text is the same read in bulk as cell by cell (see sheetscan)."""
    if cell.kind not in PLAIN_KINDS:
        return False
    if cell.kind != "number":
        return True
    return cell.value in {"0", "7", "1000", "12.5", "-3", "0.1", "123456789012345", "0.00001"}


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture], deadline=None)  # fmt: skip
@given(cells=st.lists(CELLS, min_size=1, max_size=40, unique_by=lambda c: (c.row, c.column)),
       chunk=st.sampled_from([37, 64, 200, 1 << 20]),
       way=st.sampled_from(["excel", "excel-ext"]))  # fmt: skip
def test_plain_only_when_every_cell_reads_alike(
    cells: list[Cell], chunk: int, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet with a boolean, a date, an error or a number bulk would write differently
    (exponent, 16+ digits, -0, 3.0000000000000004) is never plain; nor one whose farthest
    content cell holds no value (calamine's grid would end elsewhere)."""
    extent = scanned(sheet_xml(cells, way), chunk, monkeypatch, fast=True)
    if extent.plain:
        assert all(map(_reads_alike, cells))
    if chunk == 1 << 20 and all(c.kind in ("shared", "inline") for c in cells):
        assert extent.plain, "a sheet of texts is read in bulk"


@pytest.mark.parametrize(
    "stray",
    ['<c r="XFD1048576"><v>1</v></c>', '<c r="XFD1048576" t="inlineStr"></c>'],
    ids=["valued", "empty"],
)
def test_stray_far_cell_is_seen_in_any_chunk(stray: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One cell in XFD1048576 after 5,000 ordinary rows: the scan sees it wherever it falls."""
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>{r}</v></c></row>' for r in range(1, 5001))
    xml = f'<worksheet><sheetData>{rows}<row r="1048576">{stray}</row></sheetData></worksheet>'
    for chunk in (100, 4096, 1 << 20):
        extent = scanned(xml.encode(), chunk, monkeypatch, fast=True)
        assert (extent.height, extent.width) == (1048576, 16384)


@pytest.mark.parametrize(
    ("refs", "far"),
    [
        (["A0000005", "B99999"], (99999, 2)),  # the longest reference is not the farthest
        (["A1", "C123456789", "B99999"], (123456789, 3)),  # more digits than Excel allows
        (["A1048576", "XFD7"], (1048576, 16384)),
    ],
    ids=["leading-zeros", "nine-digits", "corners"],
)
def test_farthest_cell_read_from_references(
    refs: list[str], far: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The farthest row and column come from each reference's value, however it is written."""
    cells = "".join(f'<c r="{ref}" t="s"><v>0</v></c>' for ref in refs)
    xml = f'<worksheet><sheetData><row r="1">{cells}</row></sheetData></worksheet>'.encode()
    extent = scanned(xml, 1 << 20, monkeypatch, fast=True)
    assert (extent.height, extent.width) == far
    assert extent.last == far


@pytest.mark.parametrize(
    ("odd", "plain"),
    [
        ('<c r="B2" t="inlineStr"><v>5</v></c>', False),
        ('<c r="B2" s="1" t="inlineStr" ><v>5</v></c>', False),
        ('<c r="B2"><f>1+1</f><v>2</v></c>', False),
        ('<c r="B2" t="inlineStr"><is><t>x</t></is></c>', True),
        ('<c r="B2" t="inlineStr"></c>', True),
    ],
    ids=["inline-with-value", "inline-with-value-and-style", "formula", "inline", "inline-empty"],
)
def test_cells_the_reader_fills_otherwise_are_not_plain(
    odd: str, plain: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anywhere in the sheet, a cell calamine takes as filled or empty where the scan would not
    (a formula before its value, an inline string holding <v>) keeps the sheet off the bulk
    path: at an edge of the grid, two such cells could misplace it unseen."""
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="s"><v>{r}</v></c>{odd if r == 2 else ""}'
        f'<c r="C{r}" t="n"><v>{r}</v></c></row>'
        for r in range(1, 400)
    )
    xml = f"<worksheet><sheetData>{rows}</sheetData></worksheet>".encode()
    for chunk in (64, 1000, 1 << 20):
        assert scanned(xml, chunk, monkeypatch, fast=True).plain is plain, chunk

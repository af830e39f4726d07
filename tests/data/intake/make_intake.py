"""Write the intake corpus: files made the way admins' programs make them, and what `batch plan`
against the demo account (samples/sandbox.json) must make of each line.

    python tests/data/intake/make_intake.py      # rewrites the files and expected.json here

Each case is a file plus its expectation: the exit code and, for a file that loads, every
result line as (row, email as typed, license, action, outcome, code), the sheet read and the
notes the Summary must carry; for a refused file, the words its `Error:` line must hold.
The expectations are written by hand from the demo account's holdings, not computed.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.table import Table

HERE = Path(__file__).resolve().parent
FIXED_TIME = (2026, 4, 1, 9, 0, 0)
E = "@example.com"


def workbook(sheets: list[tuple[str, list[list[Any]]]], active: int = 0) -> openpyxl.Workbook:
    """A workbook with these sheets (name, rows) and the given active (selected) sheet."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.active = active
    return wb


def save(wb: openpyxl.Workbook, name: str) -> None:
    wb.properties.creator = "IT"
    wb.properties.created = wb.properties.modified = datetime(2026, 4, 1, 9, 0)
    wb.save(HERE / name)
    steady(HERE / name)


def steady(path: Path) -> None:
    """Rewrite a zip with fixed entry times and document dates, so a re-run changes no byte."""
    with zipfile.ZipFile(path) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for part, data in parts:
            if part == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-04-01T09:00:00Z", data)
            target.writestr(zipfile.ZipInfo(part, date_time=FIXED_TIME), data)


def write(name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> None:
    (HERE / name).write_bytes(text.replace("\n", newline).encode(encoding))


def zipped(name: str, parts: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part, data in parts.items():
            archive.writestr(zipfile.ZipInfo(part, date_time=FIXED_TIME), data)
    (HERE / name).write_bytes(buffer.getvalue())


APRIL = [["Email", "Webinar", "Large Meeting"], [f"ivo.degroot{E}", 500, None],
         [f"kees.vos{E}", None, 500]]  # fmt: skip
MARCH = [["Email", "User type"], [f"hanna.mulder{E}", "Basic"], [f"lotte.peters{E}", "Basic"]]
APRIL_LINES = [
    [2, f"ivo.degroot{E}", "Webinar 500", "assign", "planned", ""],
    [3, f"kees.vos{E}", "Large Meeting 500", "assign", "planned", ""],
]


def make() -> list[dict[str, Any]]:
    """Write every file; return the expectations."""
    cases: list[dict[str, Any]] = []

    # Excel: a title and a subtitle above the header.
    save(workbook([("Licenses", [
        ["Zoom license requests, Q2"], ["Prepared by IT on 2026-04-01"], [],
        ["Email", "User type", "Webinar", "Department"],
        [f"gijs.deboer{E}", "Licensed", 500, "Sales"],
        [f"eline.debruijn{E}", "Licensed", None, "HR"],
        [f"carla.jansen{E}", None, 500, None],
    ])]), "title-rows.xlsx")  # fmt: skip
    cases.append({"file": "title-rows.xlsx", "exit": 0, "sheet": "Licenses",
                  "notes": ["rows 1-2 above the header (row 4) were skipped"], "lines": [
        [5, f"gijs.deboer{E}", "Licensed", "none", "unchanged", ""],
        [5, f"gijs.deboer{E}", "Webinar 500", "assign", "planned", ""],
        [6, f"eline.debruijn{E}", "Licensed", "assign", "planned", ""],
        [7, f"carla.jansen{E}", "Webinar 500", "none", "unchanged", ""],
    ]})  # fmt: skip

    # Excel: last month's tab first, this month's tab selected.
    save(workbook([("Read me", [["Fill in April"]]), ("March", MARCH), ("April", APRIL)], 2),
         "tabs-active.xlsx")  # fmt: skip
    cases.append({"file": "tabs-active.xlsx", "exit": 0, "sheet": "April", "notes": [],
                  "lines": APRIL_LINES})  # fmt: skip

    # Excel: two tabs with our header and the instructions tab selected: no guessing.
    save(workbook([("Instructions", [["Fill in a tab"]]), ("March", MARCH), ("April", APRIL)]),
         "tabs-no-active.xlsx")  # fmt: skip
    cases.append(
        {
            "file": "tabs-no-active.xlsx",
            "exit": 2,
            "error": "several sheets have a header we recognise ('March', 'April')",
        }
    )
    cases.append({"file": "tabs-no-active.xlsx", "options": ["--sheet", "april"], "exit": 0,
                  "sheet": "April", "notes": [], "lines": APRIL_LINES})  # fmt: skip

    # Excel: a formatted table with its Totals row (the count of webinar requests).
    wb = workbook([("Users", [
        ["Email", "Webinar", "Department"],
        [f"lotte.peters{E}", 500, "Legal"],
        [f"mark.hendriks{E}", "no", "Legal"],
        [f"carla.jansen{E}", 500, "Sales"],
        ["Total", 3, None],
    ])])  # fmt: skip
    table = Table(displayName="Requests", ref="A1:C5")
    table.totalsRowCount = 1
    wb["Users"].add_table(table)
    save(wb, "table-totals.xlsx")
    cases.append({"file": "table-totals.xlsx", "exit": 0, "sheet": "Users",
                  "notes": ["row 5: the Totals row of table Requests, not read as data"],
                  "lines": [
        [2, f"lotte.peters{E}", "Webinar 500", "assign", "planned", ""],
        [3, f"mark.hendriks{E}", "Webinar", "none", "unchanged", ""],
        [4, f"carla.jansen{E}", "Webinar 500", "none", "unchanged", ""],
    ]})  # fmt: skip

    # PowerShell: Export-Csv of API user objects (#TYPE line, all quoted, True/False, capacity).
    write("powershell-export.csv", (
        "#TYPE System.Management.Automation.PSCustomObject\n"
        '"email","first_name","last_name","type","status","webinar","webinar_capacity",'
        '"large_meeting","large_meeting_capacity"\n'
        f'"daan.bakker{E}","Daan","Bakker","2","active","True","1000","False","0"\n'
        f'"julia.bos{E}","Julia","Bos","2","active","True","500","False","0"\n'
        f'"floor.dejong{E}","Floor","de Jong","1","active","False","0","False","0"\n'
    ), newline="\r\n")  # fmt: skip
    cases.append({"file": "powershell-export.csv", "exit": 0, "sheet": None,
                  "notes": ["row 1 above the header (row 2) were skipped"], "lines": [
        [3, f"daan.bakker{E}", "Licensed", "none", "unchanged", ""],
        [3, f"daan.bakker{E}", "Webinar 1000", "none", "unchanged", ""],
        [3, f"daan.bakker{E}", "Large Meeting", "none", "unchanged", ""],
        [4, f"julia.bos{E}", "Licensed", "none", "unchanged", ""],
        [4, f"julia.bos{E}", "Webinar 500", "assign", "planned", ""],
        [4, f"julia.bos{E}", "Large Meeting", "none", "unchanged", ""],
        [5, f"floor.dejong{E}", "Basic", "none", "unchanged", ""],
        [5, f"floor.dejong{E}", "Webinar", "none", "unchanged", ""],
        [5, f"floor.dejong{E}", "Large Meeting", "none", "unchanged", ""],
    ]})  # fmt: skip

    # Excel's "sep=;" hint line (Excel hides it: the header is row 1).
    write("sep-line.csv", (
        "sep=;\n"
        "E-mailadres;Gebruikerstype;Webinar;Afdeling\n"
        f"olaf.dekker{E};Met licentie;500;Inkoop\n"
        f"guus.schouten{E};Met licentie;;Verkoop\n"
    ), newline="\r\n")  # fmt: skip
    cases.append({"file": "sep-line.csv", "exit": 0, "sheet": None,
                  "notes": ["its first line sep=; set the delimiter"], "lines": [
        [2, f"olaf.dekker{E}", "Licensed", "none", "unchanged", ""],
        [2, f"olaf.dekker{E}", "Webinar 500", "assign", "planned", ""],
        [3, f"guus.schouten{E}", "Licensed", "assign", "planned", ""],
    ]})  # fmt: skip

    # Google Forms responses downloaded as CSV, a Sheets checkbox column added by the admin.
    write("google-forms.csv", (
        "Timestamp,Email address,Webinar,Large Meeting,Large Meeting size,Zoom Events,Department\n"
        f"2026/04/01 10:12:01 AM GMT+2,pien.brouwer{E},,Yes,500,FALSE,Sales\n"
        f"2026/04/01 11:40:13 AM GMT+2,Noor.vanLeeuwen{E},Yes,,,FALSE,HR\n"
        f"2026/04/02 9:01:55 AM GMT+2,eva.visser{E},,,,FALSE,IT\n"
    ))  # fmt: skip
    cases.append({"file": "google-forms.csv", "exit": 1, "sheet": None, "notes": [], "lines": [
        [2, f"pien.brouwer{E}", "Large Meeting 500", "assign", "planned", ""],
        [2, f"pien.brouwer{E}", "Zoom Events", "none", "unchanged", ""],
        [3, f"Noor.vanLeeuwen{E}", "Webinar", "assign", "invalid", "size-ambiguous"],
        [3, f"Noor.vanLeeuwen{E}", "Zoom Events", "none", "unchanged", ""],
        [4, f"eva.visser{E}", "Zoom Events", "none", "unchanged", ""],
    ]})  # fmt: skip

    # Dutch Excel: "CSV (gescheiden door lijstscheidingsteken)", Windows-1252, WAAR/ONWAAR.
    write("dutch-excel.csv", (
        "E-mailadres;Voornaam;Gebruikerstype;Grote vergadering;Webinar;Afdeling;Kostenplaats\n"
        f"quinten.dewit{E};Quinten;Met licentie;500;ONWAAR;Financiën;KP-100\n"
        f"daan.bakker{E};Daan;Met licentie;ONWAAR;WAAR;Inkoop;KP-200\n"
        f"bas.devries{E};Bas;Met licentie;verwijderen;;Verkoop;KP-300\n"
    ), encoding="cp1252", newline="\r\n")  # fmt: skip
    cases.append({"file": "dutch-excel.csv", "exit": 0, "sheet": None, "notes": [], "lines": [
        [2, f"quinten.dewit{E}", "Licensed", "none", "unchanged", ""],
        [2, f"quinten.dewit{E}", "Large Meeting 500", "assign", "planned", ""],
        [2, f"quinten.dewit{E}", "Webinar", "none", "unchanged", ""],
        [3, f"daan.bakker{E}", "Licensed", "none", "unchanged", ""],
        [3, f"daan.bakker{E}", "Large Meeting", "none", "unchanged", ""],
        [3, f"daan.bakker{E}", "Webinar 1000", "none", "unchanged", ""],
        [4, f"bas.devries{E}", "Licensed", "none", "unchanged", ""],
        [4, f"bas.devries{E}", "Large Meeting 500", "remove", "planned", ""],
    ], "removed": "1 (1 Large Meeting 500)"})  # fmt: skip

    # Excel headers with units in brackets and line breaks (Alt+Enter).
    save(workbook([("Sheet1", [
        ["E-mail address", "Webinar\n(attendees)", "Large Meeting\n(participants)",
         "Zoom Events [tickets]", "Notes"],
        [f"lotte.peters{E}", 500, None, None, "new trainer"],
        [f"eva.visser{E}", None, None, "500", None],
        [f"ann.smit{E}", None, "500 participants", None, None],
    ])]), "units-and-line-breaks.xlsx")  # fmt: skip
    cases.append({"file": "units-and-line-breaks.xlsx", "exit": 0, "sheet": "Sheet1",
                  "notes": [], "lines": [
        [2, f"lotte.peters{E}", "Webinar 500", "assign", "planned", ""],
        [3, f"eva.visser{E}", "Zoom Events 500", "none", "unchanged", ""],
        [4, f"ann.smit{E}", "Large Meeting 500", "none", "unchanged", ""],
    ]})  # fmt: skip

    # Size in columns of their own: "<add-on> size", the API's "<add-on>_capacity", and a bare
    # "Capacity" right after its add-on.
    write("capacity-columns.csv", (
        "Email,Webinar,Webinar size,large_meeting_capacity,Zoom Events,Capacity\n"
        f"mark.hendriks{E},TRUE,500,,,\n"
        f"femke.meijer{E},TRUE,500,1000,,\n"
        f"uma.vandermeer{E},,,,yes,500\n"
    ))  # fmt: skip
    cases.append({"file": "capacity-columns.csv", "exit": 0, "sheet": None, "notes": [],
                  "lines": [
        [2, f"mark.hendriks{E}", "Webinar 500", "assign", "planned", ""],
        [3, f"femke.meijer{E}", "Webinar 500", "none", "unchanged", ""],
        [3, f"femke.meijer{E}", "Large Meeting 1000", "none", "unchanged", ""],
        [4, f"uma.vandermeer{E}", "Zoom Events 500", "assign", "planned", ""],
    ]})  # fmt: skip

    # Zoom's own product wording and old type names typed into wide cells.
    write("zoom-wording.csv", (
        "Email,User type,Large Meeting,Webinar,Zoom Events\n"
        f"ann.smit{E},Pro,Large Meetings 500,,\n"
        f"carla.jansen{E},,,Zoom Webinars 500,\n"
        f"daan.bakker{E},,,Webinar (1000),\n"
        f"olaf.dekker{E},,Webinar 500,,\n"
        f"uma.vandermeer{E},Licenced,,,\n"
        f"eva.visser{E},,,,500 attendees\n"
        f"eline.debruijn{E},Corp,,,\n"
    ))  # fmt: skip
    cases.append({"file": "zoom-wording.csv", "exit": 1, "sheet": None, "notes": [], "lines": [
        [2, f"ann.smit{E}", "Licensed", "none", "unchanged", ""],
        [2, f"ann.smit{E}", "Large Meeting 500", "none", "unchanged", ""],
        [3, f"carla.jansen{E}", "Webinar 500", "none", "unchanged", ""],
        [4, f"daan.bakker{E}", "Webinar 1000", "none", "unchanged", ""],
        [5, f"olaf.dekker{E}", "Large Meeting 500", "assign", "invalid", "conflict"],
        [6, f"uma.vandermeer{E}", "Licenced", "assign", "invalid", "unknown-license"],
        [7, f"eva.visser{E}", "Zoom Events 500", "none", "unchanged", ""],
        [8, f"eline.debruijn{E}", "On-prem", "assign", "invalid", "onprem-unavailable"],
    ], "messages": {"6": "Did you mean Licensed?", "2": "'Pro' read as Licensed"}})  # fmt: skip

    # Addresses pasted from Outlook and mail merges.
    write("pasted-addresses.csv", (
        "Email,Webinar\n"
        f"Julia Bos <julia.bos{E}>,500\n"
        f'"""de Groot, Ivo"" <ivo.degroot{E}>",no\n'
        f"mailto:carla.jansen{E},500\n"
        f"daan.bakker{E};,1000\n"
        f"'kees.vos{E}',no\n"
        f'"hanna.mulder{E}; lotte.peters{E}",500\n'
        "Hanna Mulder,500\n"
    ))  # fmt: skip
    cases.append({"file": "pasted-addresses.csv", "exit": 1, "sheet": None, "notes": [],
                  "lines": [
        [2, f"Julia Bos <julia.bos{E}>", "Webinar 500", "assign", "planned", ""],
        [3, f'"de Groot, Ivo" <ivo.degroot{E}>', "Webinar", "none", "unchanged", ""],
        [4, f"mailto:carla.jansen{E}", "Webinar 500", "none", "unchanged", ""],
        [5, f"daan.bakker{E};", "Webinar 1000", "none", "unchanged", ""],
        [6, f"'kees.vos{E}'", "Webinar", "none", "unchanged", ""],
        [7, f"hanna.mulder{E}; lotte.peters{E}", "Webinar 500", "assign", "invalid",
         "invalid-email"],
        [8, "Hanna Mulder", "Webinar 500", "assign", "invalid", "invalid-email"],
    ], "messages": {"2": f"read as julia.bos{E}", "7": "holds 2 addresses",
                    "8": "holds no email address"}})  # fmt: skip

    # `batch export`'s shape fed back: pending and deactivated users as they are.
    write("round-trip-export.csv", (
        "Email,User type,Large Meeting,Webinar,Zoom Events\n"
        f"victor.peeters{E},Licensed,,,\n"
        f"ilse.huisman{E},Basic,,,\n"
        f"yvonne.bosman{E},Licensed,,,\n"
        f"zeger.kuipers{E},Licensed,,,\n"
    ))  # fmt: skip
    cases.append({"file": "round-trip-export.csv", "exit": 1, "sheet": None, "notes": [],
                  "lines": [
        [2, f"victor.peeters{E}", "Licensed", "none", "unchanged", ""],
        [3, f"ilse.huisman{E}", "Basic", "none", "unchanged", ""],
        [4, f"yvonne.bosman{E}", "Licensed", "none", "unchanged", ""],
        [5, f"zeger.kuipers{E}", "Licensed", "assign", "invalid", "user-not-active"],
    ]})  # fmt: skip

    # Files refused as a whole, each with a line saying what to do.
    write("typo-header.csv", f"Email,Webniar\nann.smit{E},500\n")
    cases.append(
        {
            "file": "typo-header.csv",
            "exit": 2,
            "error": "column B 'Webniar' is not a column we know: did you mean Webinar?",
        }
    )
    (HERE / "~$users.xlsx").write_bytes(b"\x08IT admin" + b"\x00" * 45 + b"\x20" * 110)
    cases.append(
        {
            "file": "~$users.xlsx",
            "exit": 2,
            "error": "Excel's lock file for users.xlsx: close Excel and use users.xlsx",
        }
    )
    ods = {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
           "content.xml": b"<office:document-content/>"}  # fmt: skip
    zipped("calc-saved.ods", ods)
    cases.append({"file": "calc-saved.ods", "exit": 2, "error": "an OpenDocument spreadsheet"})
    zipped("ods-renamed.xlsx", ods)
    cases.append({"file": "ods-renamed.xlsx", "exit": 2, "error": "an OpenDocument spreadsheet"})
    zipped("binary.xlsb", {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01"})
    cases.append({"file": "binary.xlsb", "exit": 2, "error": "an Excel binary workbook (.xlsb)"})
    zipped("budget.numbers", {"Index/Document.iwa": b"\x00", "Metadata/Properties.plist": b""})
    cases.append({"file": "budget.numbers", "exit": 2, "error": "an Apple Numbers file"})
    return cases


if __name__ == "__main__":
    expected = make()
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(expected)} cases to {HERE}")

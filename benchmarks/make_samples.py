"""Write the three sample files in samples/ (run from the repository root).

Each row's last column (Notes / Opmerking) says what the row is for: the outcome or code the
rules should give it against samples/sandbox.json. Blank rows are deliberate (row numbers must
still match Excel).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook

NBSP = "\u00a0"
SAMPLES = Path("samples")

WIDE_EN = [
    ("Email", "First name", "Last name", "User type", "Large Meeting", "Webinar", "Zoom Events",
     "Department", "Cost center", "Notes"),
    ("eline.debruijn@example.com", "Eline", "de Bruijn", "Licensed", "", "", "", "Sales",
     "CC-100", "upgrade Basic to Licensed"),
    ("floor.dejong@example.com", "Floor", "de Jong", "Licensed", "", "500", "", "Finance",
     "CC-200", "upgrade, then Webinar 500 (prerequisite met in the same file)"),
    ("hanna.mulder@example.com", "Hanna", "Mulder", "Basic", "", "", "", "HR", "CC-300",
     "downgrade to Basic: frees a seat"),
    ("guus.schouten@example.com", "Guus", "Schouten", "Licensed", "", "", "", "HR", "CC-300",
     "upgrade using the seat freed above"),
    ("bas.devries@example.com", "Bas", "de Vries", "", "remove", "", "", "Finance", "CC-200",
     "remove Large Meeting 500"),
    ("femke.meijer@example.com", "Femke", "Meijer", "", "500", "", "", "Sales", "CC-100",
     "change Large Meeting 1000 -> 500"),
    ("gijs.deboer@example.com", "Gijs", "de Boer", "", "", "", "yes", "Finance", "CC-200",
     "Zoom Events yes: the only owned size, 500"),
    ("daan.bakker@example.com", "Daan", "Bakker", "Licensed", "", "1,000", "", "IT", "CC-400",
     "unchanged (quoted 1,000)"),
    ("", "", "", "", "", "", "", "", "", ""),
    ("Sem.Smits@Example.com" + NBSP, "Sem", "Smits", "Licensed", "", "", "", "IT", "CC-400",
     "unchanged: capitals and a trailing non-breaking space still match"),
    ("", "Nobody", "Known", "Licensed", "", "", "", "Sales", "CC-100", "missing-email"),
    ("kees.vos@example", "Kees", "Vos", "Licensed", "", "", "", "Sales", "CC-100",
     "invalid-email"),
    ("lotte.peters@example.com", "Lotte", "Peters", "Premium", "", "", "", "Finance", "CC-200",
     "unknown-license (user type)"),
    ("noor.vanleeuwen@example.com", "Noor", "van Leeuwen", "", "", "", "maybe", "IT", "CC-400",
     "unknown-license (add-on word)"),
    ("quinten.dewit@example.com", "Quinten", "de Wit", "", "", "750", "", "Finance", "CC-200",
     "invalid-size"),
    ("mark.hendriks@example.com", "Mark", "Hendriks", "", "", "500", "", "HR", "CC-300",
     "not-stackable (with the next row)"),
    ("mark.hendriks@example.com", "Mark", "Hendriks", "", "", "1000", "", "HR", "CC-300",
     "not-stackable"),
    ("", "", "", "", "", "", "", "", "", ""),
    ("olaf.dekker@example.com", "Olaf", "Dekker", "Basic", "", "", "", "Marketing", "CC-500",
     "conflict (with the next row)"),
    ("olaf.dekker@example.com", "Olaf", "Dekker", "Licensed", "", "", "", "Marketing", "CC-500",
     "conflict"),
    ("pien.brouwer@example.com", "Pien", "Brouwer", "", "500", "", "", "Sales", "CC-100",
     "Large Meeting 500 granted (seat freed by bas)"),
    ("pien.brouwer@example.com", "Pien", "Brouwer", "", "500", "", "", "Sales", "CC-100",
     "duplicate (skipped)"),
    ("joost.vanvliet@example.com", "Joost", "van Vliet", "Basic", "", "500", "", "Sales",
     "CC-100", "Basic unchanged; Webinar: missing-prerequisite (file rule)"),
    ("iris.willems@example.com", "Iris", "Willems", "", "", "500", "", "Marketing", "CC-500",
     "missing-prerequisite (account rule: Iris is Basic)"),
    ("julia.bos@example.com", "Julia", "Bos", "", "", "yes", "", "Marketing", "CC-500",
     "size-ambiguous (account owns Webinar 500 and 1000)"),
    ("nobody@example.com", "No", "Body", "Licensed", "", "", "", "Sales", "CC-100",
     "user-not-found"),
    ("jan.jansen@example.com", "Jan", "Jansen", "", "", "500", "", "IT", "CC-400",
     "user-not-found"),
    ("ilse.huisman@example.com", "Ilse", "Huisman", "Licensed", "", "", "", "Sales", "CC-100",
     "user-not-active (pending)"),
    ("yvonne.bosman@example.com", "Yvonne", "Bosman", "", "", "500", "", "IT", "CC-400",
     "user-not-active (inactive)"),
]  # fmt: skip

GEBRUIKERS_NL = [
    ("E-mailadres", "Voornaam", "Achternaam", "Gebruikerstype", "Grote vergadering", "Webinar",
     "Zoom Events", "Afdeling", "Kostenplaats", "Opmerking"),
    ("maud.maas@example.com", "Maud", "Maas", "Met licentie", "", "", "", "IT", "KP-400",
     "opwaarderen van Basis"),
    ("niels.verhoeven@example.com", "Niels", "Verhoeven", "Met licentie", "", "500", "",
     "Marketing", "KP-500", "opwaarderen en Webinar 500"),
    ("femke.meijer@example.com", "Femke", "Meijer", "", "", "nee", "", "Verkoop", "KP-100",
     "Webinar 500 intrekken"),
    ("zoe.vermeulen@example.com", "Zoë", "Vermeulen", "", "500", "", "", "Verkoop", "KP-100",
     "Grote vergadering 500 toewijzen"),
    ("eva.visser@example.com", "Eva", "Visser", "", "", "", "verwijderen", "Marketing", "KP-500",
     "Zoom Events intrekken"),
    ("daan.bakker@example.com", "Daan", "Bakker", "", "", "1.000", "", "IT", "KP-400",
     "ongewijzigd (1.000)"),
    ("tess.degraaf@example.com", "Tess", "de Graaf", "", "", "", "ja", "Marketing", "KP-500",
     "Zoom Events ja: enige maat 500"),
    ("wout.kok@example.com", "Wout", "Kok", "Basis", "", "", "", "HR", "KP-300",
     "naar Basis: maakt een plek vrij"),
    ("oscar.koster@example.com", "Oscar", "Koster", "Met licentie", "", "", "", "Verkoop",
     "KP-100", "opwaarderen met de vrijgekomen plek"),
    ("", "", "", "", "", "", "", "", "", ""),
    ("", "Anoniem", "", "Met licentie", "", "", "", "Verkoop", "KP-100", "missing-email"),
    ("sanne.prins@@example.com", "Sanne", "Prins", "Met licentie", "", "", "", "IT", "KP-400",
     "invalid-email"),
    ("thijs.blom@example.com", "Thijs", "Blom", "Plus", "", "", "", "Marketing", "KP-500",
     "unknown-license"),
    ("xena.jacobs@example.com", "Xena", "Jacobs", "", "750", "", "", "IT", "KP-400",
     "invalid-size"),
    ("yara.dehaan@example.com", "Yara", "de Haan", "", "", "500", "", "Marketing", "KP-500",
     "not-stackable (met de volgende rij)"),
    ("yara.dehaan@example.com", "Yara", "de Haan", "", "", "1.000", "", "Marketing", "KP-500",
     "not-stackable"),
    ("arjen.vandenberg@example.com", "Arjen", "van den Berg", "Basis", "", "", "", "Financiën",
     "KP-200", "conflict (met de volgende rij)"),
    ("arjen.vandenberg@example.com", "Arjen", "van den Berg", "Met licentie", "", "", "",
     "Financiën", "KP-200", "conflict"),
    ("bram.vanderheijden@example.com", "Bram", "van der Heijden", "", "", "", "ja", "HR",
     "KP-300", "Zoom Events 500 toewijzen"),
    ("bram.vanderheijden@example.com", "Bram", "van der Heijden", "", "", "", "ja", "HR",
     "KP-300", "duplicate (overgeslagen)"),
    ("kim.vandeven@example.com", "Kim", "van de Ven", "Basis", "500", "", "", "Financiën",
     "KP-200", "Basis ongewijzigd; Grote vergadering: missing-prerequisite (bestand)"),
    ("lars.hoekstra@example.com", "Lars", "Hoekstra", "", "", "500", "", "HR", "KP-300",
     "missing-prerequisite (account: Lars is Basis)"),
    ("Cor.VanderVeen@Example.com" + NBSP, "Cor", "van der Veen", "Met licentie", "", "", "",
     "IT", "KP-400", "ongewijzigd: hoofdletters en harde spatie"),
    ("anais.dupont@example.com", "Anaïs", "Dupont", "Met licentie", "", "", "", "Verkoop",
     "KP-100", "user-not-found; kosten € 15 per maand"),
    ("willem.dekoning@example.com", "Willem", "de Koning", "Met licentie", "", "", "", "HR",
     "KP-300", "user-not-active (uitgenodigd)"),
    ("zeger.kuipers@example.com", "Zeger", "Kuipers", "Met licentie", "", "", "", "Marketing",
     "KP-500", "user-not-active (gedeactiveerd)"),
]  # fmt: skip

LONG_HEADER = ("Email", "License", "Action", "Department", "Cost center", "Notes")
LICENSES_LONG: list[tuple[str | int, ...]] = [
    ("hugo.vanbeek@example.com", "Licensed", "", "IT", 4100, "upgrade Basic to Licensed"),
    ("hugo.vanbeek@example.com", "Webinar 500", "assign", "IT", 4100,
     "Webinar 500 (prerequisite met in the same file)"),
    ("carla.jansen@example.com", "Webinar 500", "remove", "HR", 4300, "remove Webinar 500"),
    ("ivo.degroot@example.com", "Grote vergadering 500", "toewijzen", "IT", 4100,
     "Large Meeting 500 (Dutch words)"),
    ("ann.smit@example.com", "Large Meeting 500", "remove", "Sales", 4000,
     "remove Large Meeting 500"),
    ("femke.meijer@example.com", "Large Meeting 500", "", "Sales", 4000,
     "change Large Meeting 1000 -> 500"),
    ("julia.bos@example.com", "Zoom Events 500", "assign", "Marketing", 4500, "Zoom Events 500"),
    ("daan.bakker@example.com", "Webinar 1000", "", "IT", 4100, "unchanged"),
    ("quinten.dewit@example.com", "Basic", "", "Finance", 4200,
     "downgrade to Basic: frees a seat"),
    ("puck.vandam@example.com", "Met licentie", "", "Finance", 4200, "upgrade (Dutch word)"),
    None,  # a blank row: row numbers below must still match Excel
    ("", "Licensed", "", "Sales", 4000, "missing-email"),
    ("roos.dijkstra(at)example.com", "Webinar 500", "", "HR", 4300, "invalid-email"),
    ("sem.smits@example.com", "Webinar Gold", "", "IT", 4100, "unknown-license"),
    ("uma.vandermeer@example.com", "Webinar 750", "", "Sales", 4000, "invalid-size"),
    ("vince.vanderlinden@example.com", "Large Meeting 500", "", "Finance", 4200,
     "not-stackable (with the next row)"),
    ("vince.vanderlinden@example.com", "Large Meeting 1000", "", "Finance", 4200,
     "not-stackable"),
    ("wout.kok@example.com", "Webinar 500", "assign", "HR", 4300,
     "conflict (with the next row)"),
    ("wout.kok@example.com", "Webinar 500", "remove", "HR", 4300, "conflict"),
    ("tess.degraaf@example.com", "Licensed", "", "Marketing", 4500, "unchanged"),
    ("tess.degraaf@example.com", "Licensed", "", "Marketing", 4500, "duplicate (skipped)"),
    ("rik.vanderwal@example.com", "Basic", "", "HR", 4300, "unchanged (already Basic)"),
    ("rik.vanderwal@example.com", "Webinar 500", "", "HR", 4300,
     "missing-prerequisite (file rule: Basic in this file)"),
    ("thijs.blom@example.com", "Zoom Events 500", "", "Marketing", 4500,
     "missing-prerequisite (account rule: Thijs is Basic)"),
    None,
    ("Gijs.DeBoer@Example.com" + NBSP, "Licensed", "", "Finance", 4200,
     "unchanged: capitals and a trailing non-breaking space still match"),
    ("noor.vanleeuwen@example.com", "On-prem", "", "IT", 4100, "onprem-unavailable"),
    ("nina.nobody@example.com", "Licensed", "", "Sales", 4000, "user-not-found"),
    ("victor.peeters@example.com", "Webinar 500", "", "Finance", 4200,
     "user-not-active (pending)"),
]  # fmt: skip

INSTRUCTIONS = [
    "How to fill in the Licenses sheet",
    "",
    "One row per user and license. License: Licensed, Basic, On-prem, Large Meeting 500, ...",
    "Action: assign (default) or remove.",
]


def write_csv(
    path: Path, rows: list[tuple[str, ...]], *, delimiter: str, encoding: str, bare_blank: bool
) -> None:
    """A CSV as Excel saves it: fields quoted only when needed, CRLF line ends.

    Excel writes an empty row inside the data as delimiters only (`;;;;`); `bare_blank` writes
    an empty line instead, as text editors do.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        if not any(row) and bare_blank:
            buffer.write("\r\n")
        else:
            writer.writerow(row)
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_long_xlsx(path: Path) -> None:
    """An Instructions sheet in front, then the long-layout Licenses sheet, numbers as numbers."""
    workbook = Workbook()
    instructions = workbook.active
    assert instructions is not None
    instructions.title = "Instructions"
    for line in INSTRUCTIONS:
        instructions.append([line])
    sheet = workbook.create_sheet("Licenses")
    sheet.append(list(LONG_HEADER))
    for row in LICENSES_LONG:
        sheet.append(list(row) if row is not None else [])
    workbook.save(path)


def main() -> None:
    """Write the three samples."""
    # Excel's "CSV UTF-8" starts with a byte-order mark; "CSV (puntkomma-gescheiden)" is cp1252.
    write_csv(
        SAMPLES / "users-wide-en.csv", WIDE_EN, delimiter=",", encoding="utf-8-sig", bare_blank=True
    )
    write_csv(
        SAMPLES / "gebruikers-nl.csv",
        GEBRUIKERS_NL,
        delimiter=";",
        encoding="cp1252",
        bare_blank=False,
    )
    write_long_xlsx(SAMPLES / "licenses-long.xlsx")


if __name__ == "__main__":
    main()

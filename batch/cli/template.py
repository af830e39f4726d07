"""`batch template [--out FILE.xlsx] [--lang en|nl]`: a blank input workbook to fill in.

An instructions sheet in front (the loader skips it: its first row is no header it knows),
then the users sheet in the wide layout with its header row and dropdowns (data validation) on
the user type column and on each add-on column: the sizes the account owns (read from the
account when it can be reached; every size Zoom sells otherwise) and the word that removes.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import click

from batch.cli.common import announce, build_settings, handle_errors, reading_options
from batch.errors import AccountError, InputError
from batch.model import SeatKey, Seats
from batch.settings import Settings
from batch.vocabulary import ADDON_SIZES, ADDONS, Kind

ROWS: Final = 5000  # rows the dropdowns cover


@dataclass(frozen=True)
class TemplateText:
    """The words of the template in one language."""

    sheet: str  # the users sheet
    instructions: str  # the instructions sheet
    headers: tuple[str, ...]  # email, names, department, cost center, user type, add-ons
    types: tuple[str, ...]  # the user type dropdown
    remove: str  # the add-on dropdowns' word that removes
    lines: str  # the instructions, one line per row


TEXT: Final = {
    "en": TemplateText(
        "Users",
        "Instructions",
        ("Email", "First name", "Last name", "Department", "Cost center", "User type",
         "Large Meeting", "Webinar", "Zoom Events"),
        ("Licensed", "Basic", "On-prem"),
        "remove",
        """How to fill in this workbook (batch template)

One row per user on the Users sheet; Email is required.
User type: Licensed, Basic or On-prem (pick from the list); blank leaves it as is.
Large Meeting, Webinar, Zoom Events: a size from the list gives that add-on, \
'remove' takes it away, blank leaves it as is.
Add-ons need a Licensed (or On-prem) user: set User type to Licensed in the same row.
Department and Cost center are used for the report's Chargeback sheet.
Check it:  batch validate FILE.xlsx   then   batch plan FILE.xlsx
Apply it:  batch apply FILE.xlsx""",
    ),
    "nl": TemplateText(
        "Gebruikers",
        "Instructies",
        ("E-mailadres", "Voornaam", "Achternaam", "Afdeling", "Kostenplaats", "Gebruikerstype",
         "Grote vergadering", "Webinar", "Zoom Events"),
        ("Met licentie", "Basis", "On-prem"),
        "verwijderen",
        """Zo vult u deze werkmap in (batch template)

Eén rij per gebruiker op het blad Gebruikers; E-mailadres is verplicht.
Gebruikerstype: Met licentie, Basis of On-prem (kies uit de lijst); leeg laat het zoals het is.
Grote vergadering, Webinar, Zoom Events: een grootte uit de lijst geeft die add-on, \
'verwijderen' neemt hem weg, leeg laat hem zoals hij is.
Add-ons vragen een gebruiker met licentie (of On-prem): zet Gebruikerstype op Met licentie \
in dezelfde rij.
Afdeling en Kostenplaats komen op het blad Chargeback van het rapport.
Controleren:  batch validate BESTAND.xlsx   daarna   batch plan BESTAND.xlsx
Uitvoeren:  batch apply BESTAND.xlsx""",
    ),
}  # fmt: skip


def owned_sizes(seats: dict[SeatKey, Seats] | None) -> dict[Kind, tuple[int, ...]]:
    """Per add-on, the sizes the account has a plan of; every known size without an account."""
    if seats is None:
        return dict(ADDON_SIZES)
    return {k: tuple(sorted(s for (kind, s) in seats if kind is k and s)) for k in ADDONS}


def read_seats(settings: Settings) -> dict[SeatKey, Seats]:
    """The account's seats (one request: the plan's usage)."""
    from batch.account import open_client

    async def read() -> dict[SeatKey, Seats]:
        async with open_client(settings) as client:
            return await client.plan_usage()

    return asyncio.run(read())


def write_template(
    path: Path, lang: str, sizes: dict[Kind, tuple[int, ...]], on_prem: bool = True
) -> None:
    """The blank workbook: instructions, then the users sheet with its dropdowns."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    text = TEXT[lang]
    headers = text.headers
    wb = Workbook()
    intro = wb.active
    assert intro is not None
    intro.title = text.instructions
    for line in text.lines.splitlines():
        intro.append([line])
    intro["A1"].font = Font(bold=True, size=14)
    intro.column_dimensions["A"].width = 110
    users = wb.create_sheet(text.sheet)
    users.append(list(headers))
    for cell in users[1]:
        cell.font = Font(bold=True)
    users.freeze_panes = "A2"
    for n, header in enumerate(headers, 1):
        users.column_dimensions[get_column_letter(n)].width = max(len(header) + 4, 14)
    users.column_dimensions["A"].width = 34
    types = [t for t in text.types if on_prem or t != "On-prem"]
    lists = {headers.index(headers[5]): types}
    for offset, kind in enumerate(ADDONS):
        lists[6 + offset] = [*(str(s) for s in sizes.get(kind, ())), text.remove]
    for position, choices in lists.items():
        column = get_column_letter(position + 1)
        rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        rule.error = f"Pick one of: {', '.join(choices)}"
        rule.showErrorMessage = True
        users.add_data_validation(rule)
        rule.add(f"{column}2:{column}{ROWS + 1}")
    wb.active = 1
    temporary = path.with_name(f".{path.name}.tmp")
    wb.save(temporary)
    temporary.replace(path)


@click.command("template", short_help="Write a blank input workbook with dropdowns.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("template.xlsx"),
    show_default=True,
    help="Where to write the blank workbook (.xlsx).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "nl"]),
    default="en",
    show_default=True,
    help="Language of the headers, words and instructions.",
)
@reading_options
@handle_errors
def template_command(out: Path, lang: str, config_path: Path | None, **options: object) -> None:
    """Write a blank input workbook with instructions and dropdowns.

    The size dropdowns hold the sizes the account owns when the account can be read, else
    every size Zoom sells (a warning says so).
    """
    if out.suffix.lower() != ".xlsx":
        raise InputError(f"--out {out}: the template is a workbook, its name must end in .xlsx")
    settings = build_settings(config_path, **options)
    announce(settings)
    seats: dict[SeatKey, Seats] | None
    try:
        seats = read_seats(settings)
    except AccountError as error:
        click.echo(f"Warning: the account could not be read ({error}): every size is listed.")
        seats = None
    on_prem = settings.onprem != "false"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_template(out, lang, owned_sizes(seats), on_prem=on_prem)
    click.echo(f"template: {out} ({'sizes the account owns' if seats else 'every size'})")
    sys.exit(0)

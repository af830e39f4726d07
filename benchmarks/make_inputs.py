"""Generate realistic license files of any size, with a chosen share of deliberate mistakes.

    python benchmarks/make_inputs.py --rows 100000 --layout wide --format csv OUT

Good rows give users a user type and add-ons in the known sizes; bad rows cycle through every
file mistake the rules know (missing-email, invalid-email, unknown-license, invalid-size,
not-stackable, conflict, duplicate, missing-prerequisite). Emails are user000001@example.com
style unless a list of users is given. XLSX is written with openpyxl's write-only mode.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import click

from batch.vocabulary import ADDON_NAMES, ADDON_SIZES, ADDONS, Kind

WIDE_HEADER = ("Email", "User type", "Large Meeting", "Webinar", "Zoom Events", "Department",
               "Cost center")  # fmt: skip
LONG_HEADER = ("Email", "License", "Action", "Department", "Cost center")
DEPARTMENTS = ("Sales", "Finance", "HR", "IT", "Marketing", "Support", "Legal", "R&D")
MISTAKES = (
    "missing-email", "invalid-email", "unknown-license", "invalid-size",
    "not-stackable", "conflict", "duplicate", "missing-prerequisite",
)  # fmt: skip

Cell = str | int
Row = list[Cell]


def make_input(
    path: str | Path,
    rows: int,
    *,
    layout: Literal["wide", "long"] = "wide",
    fmt: Literal["csv", "xlsx"] = "csv",
    bad_share: float = 0.05,
    seed: int = 0,
    users: Sequence[str] | None = None,
) -> Path:
    """Write a file of `rows` data rows (plus the header) and return its path.

    About `bad_share` of the rows carry one deliberate mistake each, kinds in turn; the same
    seed gives the same file.
    """
    rng = random.Random(seed)
    header = WIDE_HEADER if layout == "wide" else LONG_HEADER
    make = _wide_rows if layout == "wide" else _long_rows
    body = make(rng, rows, bad_share, users)
    path = Path(path)
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(body)
    else:
        _write_xlsx(path, header, body)
    return path


def _write_xlsx(path: Path, header: Sequence[str], body: Iterator[Row]) -> None:
    """Write-only workbook: one sheet, numbers stored as numbers."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Licenses")
    sheet.append(list(header))
    for row in body:
        sheet.append(row)
    workbook.save(path)


def _email(rng: random.Random, n: int, users: Sequence[str] | None) -> str:
    return users[n % len(users)] if users else f"user{n:06d}@example.com"


def _org(rng: random.Random) -> list[Cell]:
    return [rng.choice(DEPARTMENTS), f"CC-{rng.randrange(100, 120)}"]


def _size(rng: random.Random, kind: Kind) -> int:
    # Small sizes are bought far more often than large ones.
    sizes = ADDON_SIZES[kind]
    return sizes[min(int(rng.expovariate(1.5)), len(sizes) - 1)]


def _wide_rows(
    rng: random.Random, rows: int, bad_share: float, users: Sequence[str] | None
) -> Iterator[Row]:
    """Wide rows: one per user; a mistake sometimes spans two rows (conflict, duplicate...)."""
    produced, user, mistake = 0, 0, 0
    previous: Row | None = None
    while produced < rows:
        user += 1
        email = _email(rng, user, users)
        row: Row = [email, rng.choices(["Licensed", "Basic", ""], (70, 20, 10))[0], "", "", ""]
        if row[1] != "Basic":
            for i, kind in enumerate(ADDONS):
                if rng.random() < 0.15:
                    row[2 + i] = rng.choice([_size(rng, kind), "yes", "remove"])
        row += _org(rng)
        if rng.random() < bad_share:
            kind_of_mistake = MISTAKES[mistake % len(MISTAKES)]
            mistake += 1
            extra = _wide_mistake(rng, kind_of_mistake, row, previous)
            if extra is not None and produced + 1 < rows:
                yield extra
                produced += 1
        yield row
        produced += 1
        previous = row


def _wide_mistake(rng: random.Random, mistake: str, row: Row, previous: Row | None) -> Row | None:
    """Spoil `row` in place for one mistake; may return an extra row to write before it."""
    if mistake == "missing-email":
        row[0] = ""
    elif mistake == "invalid-email":
        row[0] = rng.choice(
            ["no-at-sign.example.com", "two@@example.com", "ann@", "a b@example.com"]
        )
    elif mistake == "unknown-license":
        row[1] = rng.choice(["Premium", "Pro", "Gold"])
    elif mistake == "invalid-size":
        row[1], row[3] = "Licensed", rng.choice([750, 2000, 12.5])
    elif mistake == "not-stackable":
        row[1], row[3] = "Licensed", 500
        return [row[0], "", "", 1000, "", *row[5:]]
    elif mistake == "conflict":
        row[1] = "Licensed"
        return [row[0], "Basic", "", "", "", *row[5:]]
    elif mistake == "duplicate" and previous is not None:
        return list(previous)
    elif mistake == "missing-prerequisite":
        row[1], row[2] = "Basic", 500
    return None


def _long_rows(
    rng: random.Random, rows: int, bad_share: float, users: Sequence[str] | None
) -> Iterator[Row]:
    """Long rows: one per user and license, one to three per user."""
    produced, user, mistake = 0, 0, 0
    while produced < rows:
        user += 1
        email = _email(rng, user, users)
        org = _org(rng)
        base = rng.choices(["Licensed", "Basic"], (80, 20))[0]
        lines: list[Row] = [[email, base, "", *org]]
        if base == "Licensed":
            for kind in rng.sample(ADDONS, rng.choice([0, 0, 1, 2])):
                action = rng.choices(["", "assign", "remove"], (70, 20, 10))[0]
                lines.append([email, f"{ADDON_NAMES[kind]} {_size(rng, kind)}", action, *org])
        if rng.random() < bad_share:
            _long_mistake(rng, MISTAKES[mistake % len(MISTAKES)], lines)
            mistake += 1
        for line in lines[: rows - produced]:
            yield line
            produced += 1


def _long_mistake(rng: random.Random, mistake: str, lines: list[Row]) -> None:
    """Spoil a user's lines in place for one mistake."""
    email, org = lines[0][0], lines[0][3:]
    if mistake == "missing-email":
        lines[0][0] = ""
    elif mistake == "invalid-email":
        for line in lines:
            line[0] = str(email).replace("@", " at ")
    elif mistake == "unknown-license":
        lines.append([email, rng.choice(["Premium", "Webinar Plus", "Gold 500"]), "", *org])
    elif mistake == "invalid-size":
        lines.append([email, "Large Meeting 750", "", *org])
    elif mistake == "not-stackable":
        lines[0][1] = "Licensed"
        lines += [[email, "Webinar 500", "", *org], [email, "Webinar 1000", "", *org]]
    elif mistake == "conflict":
        lines[0][1] = "Licensed"
        lines.append([email, "Basic", "", *org])
    elif mistake == "duplicate":
        lines.append(list(lines[-1]))
    elif mistake == "missing-prerequisite":
        lines[0][1] = "Basic"
        lines.append([email, "Zoom Events 500", "", *org])


@click.command()
@click.option("--rows", type=int, required=True, help="Data rows to write.")
@click.option("--layout", type=click.Choice(["wide", "long"]), default="wide")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--bad-share", type=float, default=0.05, help="Share of rows with a mistake.")
@click.option("--seed", type=int, default=0)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def main(rows: int, layout: str, fmt: str, bad_share: float, seed: int, out: Path) -> None:
    """Write a generated license file to OUT."""
    make_input(out, rows, layout=layout, fmt=fmt, bad_share=bad_share, seed=seed)  # type: ignore[arg-type]  # click.Choice narrows at runtime
    click.echo(f"wrote {out} ({rows:,} rows, {layout}, {fmt})")


if __name__ == "__main__":
    main()

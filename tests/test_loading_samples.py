"""The committed sample files and the benchmark input generator, as the loader reads them."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from batch.loading import load

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def benchmark_module(name: str) -> ModuleType:
    """Import a script from benchmarks/ (not a package) by path."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("file", "layout", "email_header", "note_column", "rows", "requests"),
    [
        ("users-wide-en.csv", "wide", "Email", "Notes", 27, 30),
        ("gebruikers-nl.csv", "wide", "E-mailadres", "Opmerking", 25, 27),
        ("licenses-long.xlsx", "long", "Email", "Notes", 27, 27),
    ],
    ids=["english-wide-csv", "dutch-excel-csv", "long-xlsx"],
)
def test_samples_load_with_a_purpose_on_every_row(
    file: str, layout: str, email_header: str, note_column: str, rows: int, requests: int
) -> None:
    """Each sample loads in its layout, and every data row says what it is there to show."""
    loaded = load(SAMPLES / file)
    assert (loaded.layout, loaded.fields["email"]) == (layout, email_header)
    assert loaded.extra_columns == (note_column,)
    assert (len(loaded.source), len(loaded.requests)) == (rows, requests)
    assert (loaded.source[note_column].str.strip() != "").all()


@pytest.mark.parametrize(
    ("file", "row", "expected"),
    [
        ("users-wide-en.csv", 11, ("sem.smits@example.com", "base", "Licensed", None, "assign")),
        ("users-wide-en.csv", 12, ("", "base", "Licensed", None, "assign")),
        ("users-wide-en.csv", 6, ("bas.devries@example.com", "large_meeting", "", None, "remove")),
        ("gebruikers-nl.csv", 7, ("daan.bakker@example.com", "webinar", "", 1000, "assign")),
        ("gebruikers-nl.csv", 24, ("cor.vanderveen@example.com", "base", "Licensed", None,
                                   "assign")),
        ("gebruikers-nl.csv", 6, ("eva.visser@example.com", "zoom_events", "", None, "remove")),
        ("licenses-long.xlsx", 5, ("ivo.degroot@example.com", "large_meeting", "", 500, "assign")),
        ("licenses-long.xlsx", 15, ("sem.smits@example.com", "", "", None, "assign")),
        ("licenses-long.xlsx", 27, ("gijs.deboer@example.com", "base", "Licensed", None, "assign")),
    ],
    ids=[
        "en-nbsp-capitals", "en-missing-email", "en-remove", "nl-1.000", "nl-nbsp-capitals",
        "nl-verwijderen", "xlsx-dutch-words", "xlsx-unknown-license", "xlsx-after-blank-row",
    ],
)  # fmt: skip
def test_sample_rows_read_as_meant(file: str, row: int, expected: tuple[Any, ...]) -> None:
    """Key sample rows give the request their Notes describe, at the row Excel shows."""
    requests = load(SAMPLES / file).requests
    line = requests[requests["row"] == row].iloc[-1]
    got = tuple(line[c] for c in ("email", "kind", "user_type", "size", "action"))
    assert tuple(None if v is pd.NA else v for v in got) == expected


def test_dutch_sample_is_excel_semicolon_windows_1252() -> None:
    """The Dutch sample is cp1252 with `;` and CRLF, and its accents and € survive loading."""
    data = (SAMPLES / "gebruikers-nl.csv").read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") and b";" in data.splitlines()[0]
    loaded = load(SAMPLES / "gebruikers-nl.csv")
    assert "Zoë" in set(loaded.source["Voornaam"])
    assert "Financiën" in set(loaded.source["Afdeling"])
    assert loaded.source["Opmerking"].str.contains("€").any()


@pytest.mark.parametrize(
    ("layout", "fmt"),
    [("wide", "csv"), ("long", "csv"), ("wide", "xlsx"), ("long", "xlsx")],
    ids=["wide-csv", "long-csv", "wide-xlsx", "long-xlsx"],
)
def test_generated_inputs_have_the_rows_and_mistakes_asked_for(
    layout: str, fmt: str, tmp_path: Path
) -> None:
    """make_input writes exactly N data rows, about bad_share of them with mistakes."""
    make_input = benchmark_module("make_inputs").make_input
    path = make_input(tmp_path / f"in.{fmt}", 400, layout=layout, fmt=fmt, bad_share=0.2, seed=3)
    loaded = load(path)
    assert (loaded.layout, len(loaded.source)) == (layout, 400)
    requests = loaded.requests
    assert (requests["email"] == "").any()  # missing-email rows
    assert (
        ~requests["email"].str.fullmatch(r"user\d{6}@example\.com") & (requests["email"] != "")
    ).any()
    assert (requests["action"] == "remove").any()
    assert requests["size"].isin([750]).any()  # invalid-size
    assert set(loaded.fields) >= {"email", "department", "cost_center"}
    again = make_input(
        tmp_path / f"again.{fmt}", 400, layout=layout, fmt=fmt, bad_share=0.2, seed=3
    )
    if fmt == "csv":
        assert again.read_bytes() == path.read_bytes()


def test_generator_command_line(tmp_path: Path) -> None:
    """`python benchmarks/make_inputs.py --rows N ... OUT` writes a loadable file."""
    main = benchmark_module("make_inputs").main
    out = tmp_path / "cli.csv"
    result = CliRunner().invoke(
        main, ["--rows", "50", "--layout", "long", "--format", "csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len(load(out).source) == 50


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rows", "fmt", "seconds"),
    [(1_000_000, "csv", 10.0), (100_000, "xlsx", 10.0)],  # hang guards; speed is in benchmarks/
    ids=["1M-csv", "100k-xlsx"],
)
def test_large_files_load_in_time(rows: int, fmt: str, seconds: float, tmp_path: Path) -> None:
    """A million-row CSV and a 100k-row workbook load within the time budget (with CI slack)."""
    make_input = benchmark_module("make_inputs").make_input
    path = make_input(tmp_path / f"big.{fmt}", rows, layout="wide", fmt=fmt)
    started = time.process_time()
    loaded = load(path)
    assert time.process_time() - started < seconds
    assert len(loaded.source) == rows

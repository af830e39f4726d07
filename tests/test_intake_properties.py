"""Property: no license cell the admin filled in is dropped without a line in the report, unless
the whole file is refused (exit 2). Headers are spelled at random around the real ones: case,
spaces, line breaks, units in brackets, plurals, Zoom's product names, typos; cells hold sizes,
words and product wording; other columns are mixed in."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.errors import FileRefused
from batch.loading import load
from batch.rules import check_file

# The headers an admin means as license columns (wide layout), by the field they mean.
LICENSE_HEADERS: dict[str, tuple[str, ...]] = {
    "user_type": ("User type", "Gebruikerstype", "Type"),
    "large_meeting": ("Large Meeting", "Grote vergadering", "Large Meetings", "Zoom Large Meeting"),
    "webinar": ("Webinar", "Webinars", "Zoom Webinars"),
    "zoom_events": ("Zoom Events", "Zoom Event", "Events"),
}
EMAIL_HEADERS = ("Email", "E-mail", "E-mailadres", "Email address", "User email")
UNITS = ("(attendees)", "(participants)", "[seats]", "(licence)", "(500)", "(deelnemers)")
OTHER_HEADERS = ("Notes", "Phone", "Timestamp", "Manager", "Opmerking", "Location", "Start date")
CELLS = (
    "500", "1000", "1.000", "yes", "x", "TRUE", "FALSE", "WAAR", "ONWAAR", "no", "0", "remove",
    "Webinar 500", "500 attendees", "Large Meetings 1000", "Zoom Webinars 500", "Webinar (500)",
    "Licensed", "Pro", "Basic", "garbage", "12", "Licenced", "",
)  # fmt: skip


@st.composite
def spelled(draw: st.DrawFn, header: str) -> str:
    """A header as someone might type or export it."""
    text = draw(st.sampled_from((header, header.upper(), header.lower(), header.title())))
    if draw(st.booleans()):
        text = text.replace(" ", draw(st.sampled_from(("_", "-", "\n", "  ", ""))))
    if draw(st.booleans()):
        text += draw(st.sampled_from((" ", "\n", ""))) + draw(st.sampled_from(UNITS))
    if draw(st.integers(0, 3)) == 0 and len(text) > 3:  # a typo: drop, double or swap a letter
        at = draw(st.integers(0, len(text) - 2))
        edit = draw(st.sampled_from(("drop", "double", "swap")))
        if edit == "drop":
            text = text[:at] + text[at + 1 :]
        elif edit == "double":
            text = text[:at] + text[at] + text[at:]
        else:
            text = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    return text


@st.composite
def files(draw: st.DrawFn) -> tuple[bytes, list[str], list[str]]:
    """(CSV bytes, header texts, which header each column was meant as: a field or "")."""
    fields = draw(st.lists(st.sampled_from(list(LICENSE_HEADERS)), min_size=1, max_size=4,
                           unique=True))  # fmt: skip
    columns: list[tuple[str, str]] = [("email", draw(st.sampled_from(EMAIL_HEADERS)))]
    for field in fields:
        columns.append((field, draw(spelled(draw(st.sampled_from(LICENSE_HEADERS[field]))))))
    for other in draw(st.lists(st.sampled_from(OTHER_HEADERS), max_size=2, unique=True)):
        columns.append(("", other))
    order = draw(st.permutations(range(1, len(columns))))
    columns = [columns[0], *(columns[i] for i in order)]
    rows = draw(st.lists(st.lists(st.sampled_from(CELLS), min_size=len(columns) - 1,
                                  max_size=len(columns) - 1), min_size=1, max_size=4))  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([text for _, text in columns])
    for n, cells in enumerate(rows):
        writer.writerow([f"u{n}@example.com", *cells])
    return out.getvalue().encode(), [t for _, t in columns], [f for f, _ in columns]


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(files())
def test_no_filled_license_cell_is_dropped_silently(
    case: tuple[bytes, list[str], list[str]],
) -> None:
    """Each filled cell of a column meant as a license gets a line, or the file is refused."""
    data, headers, meant = case
    try:
        loaded = load(io.BytesIO(data), name="in.csv")
    except FileRefused:
        return
    source = loaded.source
    requests = loaded.requests
    found = {(int(r), str(c)) for r, c in zip(requests["row"], requests["column"], strict=True)}
    for position, field in enumerate(meant):
        if field in ("", "email"):
            continue
        name = source.columns[position]
        assert name not in loaded.extra_columns, f"{headers[position]!r} was carried, not read"
        for row, cell in source[name].items():
            if str(cell).strip():
                assert (int(row), name) in found, (headers[position], row, cell)
    results = check_file(requests)
    assert len(results) == len(requests)
    assert set(results["row"]) <= set(requests["row"])


def test_the_strategy_makes_typos_and_units() -> None:
    """Sanity of the generator: it reaches both refused files and loaded ones with units."""
    seen: dict[str, Any] = {"refused": 0, "loaded": 0}

    @settings(max_examples=40, deadline=None, database=None)
    @given(files())
    def probe(case: tuple[bytes, list[str], list[str]]) -> None:
        try:
            load(io.BytesIO(case[0]), name="in.csv")
            seen["loaded"] += 1
        except FileRefused:
            seen["refused"] += 1

    probe()
    assert seen["refused"] > 0 and seen["loaded"] > 0

"""Property tests: size and license words parse back, and no input ever escapes as a traceback."""

from __future__ import annotations

import codecs
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.errors import FileRefused
from batch.loading import load
from batch.vocabulary import (
    ADDON_NAMES,
    ADDON_SIZES,
    ADDONS,
    Kind,
    UserType,
    license_label,
    parse_license_word,
    parse_size,
)

KNOWN_SIZES = sorted({s for sizes in ADDON_SIZES.values() for s in sizes})


def written(size: int, style: str) -> str:
    """A size as a spreadsheet or an admin may write it."""
    if style == "comma":
        return f"{size:,}"
    if style == "dot":
        return f"{size:,}".replace(",", ".")
    if style == "decimal-dot":
        return f"{size}.0"
    if style == "decimal-comma":
        return f"{size},0"
    return str(size)


STYLES = st.sampled_from(["plain", "comma", "dot", "decimal-dot", "decimal-comma"])
PADDING = st.sampled_from(["", " ", "\u00a0", "  "])


@given(st.sampled_from(KNOWN_SIZES), STYLES, PADDING, PADDING)
def test_known_sizes_parse_back_however_written(
    size: int, style: str, before: str, after: str
) -> None:
    """Any known size, with or without thousands separators or a .0, parses back to itself."""
    assert parse_size(before + written(size, style) + after) == size


@given(st.integers(min_value=1, max_value=10**9))
def test_any_positive_whole_number_parses(number: int) -> None:
    """A plain positive whole number parses to itself."""
    assert parse_size(str(number)) == number


@given(st.text(alphabet="abcxyz-+/ ", min_size=1))
def test_words_are_not_sizes(text: str) -> None:
    """Text without digits is never a size."""
    assert parse_size(text) is None


@given(
    st.sampled_from(ADDONS),
    st.data(),
    STYLES,
    st.sampled_from([str.lower, str.upper, str.title, str]),
)
def test_addon_labels_roundtrip(kind: Kind, data: st.DataObject, style: str, case: object) -> None:
    """An add-on name plus any of its sizes, as the report writes it or respelled, reads back."""
    size = data.draw(st.sampled_from(ADDON_SIZES[kind]))
    assert parse_license_word(license_label(kind, None, size)) == (kind, None, size)
    respelled = f"{ADDON_NAMES[kind]} {written(size, style)}"
    assert parse_license_word(case(respelled)) == (kind, None, size)  # type: ignore[operator]


@given(st.sampled_from(list(UserType)))
def test_user_type_labels_roundtrip(user_type: UserType) -> None:
    """Every user type label reads back as the base kind with that type."""
    assert parse_license_word(license_label(Kind.BASE, user_type)) == (Kind.BASE, user_type, None)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_load_or_are_refused(data: bytes) -> None:
    """Whatever the bytes, load either succeeds or raises FileRefused: never anything else."""
    try:
        load(io.BytesIO(data), name="fuzz.csv")
    except FileRefused as refused:
        assert "\n" not in refused.reason


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
        min_size=1,
        max_size=6,
    )
)
def test_arbitrary_cells_under_a_good_header_load_or_are_refused(cells: list[str]) -> None:
    """Odd cell text (quotes, delimiters, line breaks) under a valid header never escapes."""
    text = "Email,Webinar,Notes\n" + ",".join(cells) + "\n"
    try:
        loaded = load(io.BytesIO(text.encode()), name="fuzz.csv")
    except FileRefused:
        return
    assert list(loaded.requests["request"]) == list(range(len(loaded.requests)))


ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8-bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf-16-le": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    "utf-16-be": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    "windows-1252": lambda t: t.encode("cp1252"),
}
NAMES = st.text(alphabet="abcdeéëïü", min_size=1, max_size=8)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(NAMES, st.sampled_from(["", *map(str, ADDON_SIZES[Kind.WEBINAR])])),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(sorted(ENCODINGS)),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["\n", "\r\n"]),
    st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_written_rows_read_back_in_any_encoding_and_delimiter(
    users: list[tuple[str, str]],
    encoding: str,
    delimiter: str,
    newline: str,
    blank_after: list[bool],
) -> None:
    """Rows written in any encoding, delimiter and line end read back with Excel row numbers."""
    out = [delimiter.join(["Email", "Webinar", "Afdeling"])]
    expected = []
    for (name, size), blank in zip(users, blank_after, strict=False):
        out.append(delimiter.join([f"{name}@example.com", size, name]))
        if size:
            expected.append((len(out), f"{name}@example.com", int(size)))
        if blank:
            out.append("")
    loaded = load(io.BytesIO(ENCODINGS[encoding](newline.join(out) + newline)), name="x.csv")
    requests = loaded.requests
    got = list(zip(requests["row"], requests["email"], requests["size"], strict=True))
    assert got == expected

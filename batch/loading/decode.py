"""Bytes to text: byte-order marks, strict UTF-8, then Windows-1252 with a Latin-1 fallback."""

from __future__ import annotations

import codecs
import re
from typing import Final

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Windows-1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D); Excel and Notepad map
# them to the Latin-1 control characters of the same number, and so do we.
_CP1252_TABLE: Final = "".join(
    bytes([b]).decode("cp1252", errors="replace").replace("\ufffd", chr(b)) for b in range(256)
)

# Control characters that never appear in a spreadsheet exported as text (tab, CR, LF, FF, VT
# and the DOS end-of-file mark 0x1A do).
_BINARY_RE: Final = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f]")
_BINARY_SHARE: Final = 0.01


def decode(data: bytes) -> tuple[str, str]:
    """Decode a text file as Excel would open it; returns (text, encoding used).

    A byte-order mark decides (UTF-8, UTF-16 or UTF-32); otherwise the bytes are strict UTF-8
    when they can be, else Windows-1252 (any byte decodes, so this never fails).

    >>> decode("café".encode("cp1252"))
    ('café', 'windows-1252')
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace"), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return codecs.charmap_decode(data, "strict", _CP1252_TABLE)[0], "windows-1252"


def looks_binary(text: str) -> bool:
    """True when decoded text holds a NUL or more than a few control characters: not a CSV."""
    if "\x00" in text:
        return True
    head = text[:65536]
    return len(_BINARY_RE.findall(head)) > max(len(head) * _BINARY_SHARE, 2)

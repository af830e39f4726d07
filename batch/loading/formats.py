"""Files that are not ours but that admins hand over anyway, told by name and content, each
refused with how to save it as something we read.

    ~$users.xlsx            Excel's lock file beside an open workbook
    .xls (OLE2)             Excel 97-2003 workbook; also a password-protected .xlsx
    .xlsb                   Excel binary workbook (a zip with xl/workbook.bin)
    .ods                    OpenDocument spreadsheet (a zip whose mimetype says so)
    .numbers                Apple Numbers (a zip with Index/Document.iwa)
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath
from typing import Final

OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC: Final = b"PK\x03\x04"
LOCK_PREFIX: Final = "~$"
_LOCK_MAX_BYTES: Final = 4096  # Excel's owner file is 165 bytes

_SAVE_AS: Final = "save it as Excel Workbook (.xlsx) or CSV UTF-8"
OLD_XLS: Final = (
    "an old .xls workbook (Excel 97-2003): open it in Excel, choose File > Save As and " + _SAVE_AS
)
PROTECTED: Final = (
    "a password-protected workbook: open it in Excel, remove the password (File > Info > "
    "Protect Workbook > Encrypt with Password) and save it again, or " + _SAVE_AS
)
OTHER_OFFICE: Final = (
    "an old .xls workbook, a password-protected one or another Office file: open it in Excel "
    "and " + _SAVE_AS
)
XLSB: Final = "an Excel binary workbook (.xlsb): open it in Excel, choose File > Save As and " + (
    _SAVE_AS
)
ODS: Final = (
    "an OpenDocument spreadsheet (.ods): in LibreOffice choose File > Save As > Excel 2007-365 "
    "(.xlsx), or Text CSV"
)
NUMBERS: Final = "an Apple Numbers file: in Numbers choose File > Export To > Excel (.xlsx) or CSV"
_BY_EXTENSION: Final = {".xls": OLD_XLS, ".xlsb": XLSB, ".ods": ODS, ".numbers": NUMBERS}
_ODS_MIMETYPES: Final = (b"application/vnd.oasis.opendocument.spreadsheet",)


def lock_file_message(name: str, data: bytes) -> str | None:
    """For Excel's lock file (`~$users.xlsx`): the line saying which file to use instead."""
    if not name.startswith(LOCK_PREFIX) or len(data) > _LOCK_MAX_BYTES:
        return None
    real = name[len(LOCK_PREFIX) :]
    return f"Excel's lock file for {real}: close Excel and use {real}"


def ole_message(data: bytes, name: str) -> str:
    """What an OLE2 compound file is: an old workbook, an encrypted .xlsx, or another file
    (its name decides when its directory does not say)."""
    head = data[: 1 << 20]
    if "EncryptedPackage".encode("utf-16-le") in head:
        return PROTECTED
    if any(n.encode("utf-16-le") + b"\x00\x00" in head for n in ("Workbook", "Book")):
        return OLD_XLS
    return by_extension(name) or OTHER_OFFICE


def zip_message(data: bytes, name: str) -> str | None:
    """For a zip that is another spreadsheet format, the line naming it; None otherwise."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return by_extension(name)
    if "xl/workbook.bin" in names:
        return XLSB
    if mimetype.strip() in _ODS_MIMETYPES or ("content.xml" in names and name.endswith(".ods")):
        return ODS
    if "Index/Document.iwa" in names or any(n.startswith("Index/") for n in names):
        return NUMBERS
    return by_extension(name)


def by_extension(name: str) -> str | None:
    """The line for a file named as another spreadsheet format, when its content did not say."""
    return _BY_EXTENSION.get(PurePath(name).suffix.lower())

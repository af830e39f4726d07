"""Taking one file out of the inbox without being tricked: what it is, its name, a verified copy.

    refusal(path, limits)        why an inbox entry cannot be used (symlink, FIFO, bad name...)
    take_copy(source, target, settled)   a verified copy in the archive, or why there is none
    shown(name)                  any file name as printable text (undecodable bytes escaped)
    archive_name(stamp, name)    a clean archive name that fits the file system's 255 bytes

The inbox never reads the file in the inbox itself more than once: it is opened with
O_NOFOLLOW (a symlink is never followed), checked to be a regular file whose size and time are
the ones it settled with, copied to a temporary name in the archive, fsynced, read back and
compared (size and SHA-256) with what was read; only then is the copy given its name and the
original removed. The run reads the copy. A copy that fails half way (full disk) is removed and
the original stays where it was.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from batch.settings import Limits

SUPPORTED: Final = (".csv", ".xlsx")
# spreadsheets the tool cannot read: refused loudly (failed/) instead of ignored for ever
UNSUPPORTED: Final = (".xls", ".xlsm", ".xlsb", ".xltx", ".xltm", ".ods", ".fods", ".numbers",
                      ".tsv")  # fmt: skip
NAME_MAX_BYTES: Final = 200  # room left for "<stamp>-", "-2" and ".reason.txt" within 255
FS_NAME_MAX: Final = 255
CHUNK: Final = 1 << 20
TEMP_SUFFIX: Final = ".copying"

Write = Callable[[int, bytes], int]  # os.write; tests pass one that fails like a full disk


@dataclass(frozen=True)
class Copied:
    """A verified copy: its size and SHA-256 are those of the bytes read from the inbox."""

    path: Path
    size: int
    sha256: str


def shown(name: str) -> str:
    """`name` as printable text: undecodable bytes as \\xNN, control characters escaped."""
    raw = os.fsencode(name)
    text = raw.decode("utf-8", errors="backslashreplace")
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) == "Cc" else ch
        for ch in text
    )


def name_problem(name: str) -> str | None:
    """Why a file name cannot go through the inbox (and a report and a mail), or None."""
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8: rename it (letters, digits, - and _ are safe)"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "the file name holds a control character (a line break?): rename it"
    if len(encoded) > NAME_MAX_BYTES:
        return (
            f"the file name is {len(encoded)} bytes long, the archive takes at most "
            f"{NAME_MAX_BYTES}: rename it shorter"
        )
    return None


def refusal(path: Path, limits: Limits) -> str | None:
    """Why this inbox entry is not taken (it then goes to failed/), or None for a usable file.

    Looks at the entry itself (lstat): a symlink is never followed, a FIFO or device never
    opened.
    """
    info = path.lstat()
    kind = _kind(info.st_mode)
    if kind != "regular file":
        return f"a {kind}: the inbox takes regular files only (it was not read)"
    problem = name_problem(path.name)
    if problem is not None:
        return problem
    lowered = path.name.lower()
    if lowered.endswith(UNSUPPORTED):
        suffix = Path(lowered).suffix
        return f"{suffix} files cannot be read: save it as .xlsx or .csv and drop it again"
    if info.st_size > limits.max_file_bytes:
        return (
            f"too large: {info.st_size:,} bytes, the limit (max_file_bytes) is "
            f"{limits.max_file_bytes:,} bytes"
        )
    return None


def is_spreadsheet_name(name: str) -> bool:
    """A name the inbox looks at: one it reads or one it refuses as an unreadable spreadsheet."""
    return name.lower().endswith(SUPPORTED + UNSUPPORTED)


def _kind(mode: int) -> str:
    """What an lstat mode is, in words."""
    if stat.S_ISREG(mode):
        return "regular file"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "folder"
    return "special file"  # pragma: no cover - no other kinds on Linux


def take_copy(
    source: Path,
    target: Path,
    settled: tuple[int, int],
    *,
    write: Write = os.write,
    before_rename: Callable[[Copied], None] | None = None,
) -> Copied | str:
    """Copy `source` to `target` verified; the Copied, or why it was not taken (no copy left).

    `settled` is the (size, mtime_ns) the file kept while the inbox settled; a file that differs
    now, or changes while it is copied, is still being written. The copy is written under a
    temporary name beside `target`, fsynced, read back and compared, then (after
    `before_rename`, which records what was read) renamed: a copy under its own name is always
    a verified one.
    """
    temp = target.with_name(f".{target.name}{TEMP_SUFFIX}")
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        return f"could not be opened ({error.strerror}); left for the next run"
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return "no longer a regular file; left for the next run"
        if (before.st_size, before.st_mtime_ns) != settled:
            return "still being written; left for the next run"
        try:
            size, digest = _copy(fd, temp, settled[0] + 1, write)
        except OSError as error:
            _remove(temp)
            why = error.strerror or type(error).__name__
            return f"could not be copied into the archive ({why}); left in the inbox"
        after = os.fstat(fd)
        if (after.st_size, after.st_mtime_ns) != settled or size != settled[0]:
            _remove(temp)
            return "still being written (it changed while it was copied); left for the next run"
    finally:
        os.close(fd)
    if file_digest(temp) != (size, digest):
        _remove(temp)
        return "the archive copy does not match what was read (disk failing?); left in the inbox"
    copied = Copied(target, size, digest)
    if before_rename is not None:
        try:
            before_rename(copied)
        except BaseException:
            _remove(temp)
            raise
    os.replace(temp, target)
    sync_folder(target.parent)
    return copied


def _copy(fd: int, temp: Path, limit: int, write: Write) -> tuple[int, str]:
    """At most `limit` bytes of `fd` into a new `temp` (fsynced); the byte count and SHA-256
    read. The limit ends the copy of a file that a writer keeps growing."""
    out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    digest = hashlib.sha256()
    size = 0
    try:
        while size < limit and (chunk := os.read(fd, min(CHUNK, limit - size))):
            digest.update(chunk)
            size += len(chunk)
            view = memoryview(chunk)
            while view:
                written = write(out, view.tobytes())
                if written <= 0:
                    raise OSError(errno.EIO, "nothing written")
                view = view[written:]
        os.fsync(out)
    finally:
        os.close(out)
    return size, digest.hexdigest()


def file_digest(path: Path) -> tuple[int, str]:
    """The size and SHA-256 of a file (not following a symlink)."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        while chunk := os.read(fd, CHUNK):
            digest.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return size, digest.hexdigest()


def sync_folder(folder: Path) -> None:
    """fsync a folder, so a rename in it survives a power cut."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    """Remove a file if it is there."""
    path.unlink(missing_ok=True)


def archive_name(stamp: str, name: str, room: int = NAME_MAX_BYTES + 20) -> str:
    """`<stamp>-<name>` with the name made printable and cut to fit `room` bytes.

    A cut name keeps its suffix and gets `~` and 8 hex digits of its hash, so two long names
    do not meet.
    """
    clean = shown(name).replace("/", "_")
    whole = f"{stamp}-{clean}"
    if len(whole.encode()) <= room:
        return whole
    suffix = Path(clean).suffix[:16]
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    keep = room - len(f"{stamp}-".encode()) - len(tag.encode()) - len(suffix.encode())
    stem = clean[: len(clean) - len(suffix)] if suffix else clean
    cut = stem.encode()[:keep].decode("utf-8", errors="ignore")
    return f"{stamp}-{cut}{tag}{suffix}"

"""Uploaded files: streamed to disk with their SHA-256, under `.batch/uploads/<sha256>/`.

The request body itself is capped while it streams in (`BodyLimit`), so a file past the CLI's
max_file_bytes is cut off long before it could fill memory or disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Final

from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHUNK_BYTES: Final = 1024 * 1024
FORM_OVERHEAD_BYTES: Final = 64 * 1024  # the multipart envelope and the other fields
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_name(name: str) -> str:
    """The file name without directories or odd characters (it is only stored and shown)."""
    base = os.path.basename(name.replace("\\", "/")).strip() or "upload"
    return _UNSAFE.sub("_", base)[:120]


async def store_upload(upload: UploadFile, uploads: Path) -> tuple[Path, str, str]:
    """Copy an upload to `uploads/<sha256>/<name>` in chunks; (path, name, sha256)."""
    name = safe_name(upload.filename or "upload")
    uploads.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, temp = tempfile.mkstemp(dir=uploads, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := await upload.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
        sha256 = digest.hexdigest()
        folder = uploads / sha256
        folder.mkdir(exist_ok=True)
        target = folder / name
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target, name, sha256


class BodyTooLarge(Exception):
    """A request body past the upload limit."""


class BodyLimit:
    """ASGI middleware: cut off a POST body past `max_bytes` while it streams in (413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        seen = 0
        exceeded = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def answer(message: Message) -> None:
            # The app answers a body cut off as it can (a 400 of the form parser): say why.
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._too_large(send)

        try:
            await self.app(scope, counted, answer)
        except BodyTooLarge:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        limit = self.max_bytes - FORM_OVERHEAD_BYTES
        body = f"too large: the limit (max_file_bytes) is {limit:,} bytes".encode()
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

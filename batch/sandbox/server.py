"""Serve a Sandbox over real HTTP on 127.0.0.1: a ThreadingHTTPServer in a daemon thread.

The API answers under /v2 and the token endpoint at /oauth/token, like api.zoom.us and
zoom.us. A request body over 1 MiB is refused with 413 before it is read (Content-Length) or
as soon as its chunks pass it; a Content-Length that is not one plain number gets 400; either
way the connection is closed. A dropped request (fault injection) closes the socket without
an answer. Leaving `serve()` is a server going down: open connections are cut, requests being
answered finish (their changes saved, their answers lost), so a new `serve()` of the same
account file on the same port is a restart. A change that cannot be saved (full disk) is undone
and answered 500 (see `account.AccountFile`).
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from batch.sandbox.app import Sandbox

log = logging.getLogger(__name__)
DEFAULT_HOST = "127.0.0.1"
DRAIN_S = 30.0  # how long leaving serve() waits for requests being answered
MAX_BODY_BYTES = 1 << 20  # a request body larger than this is refused (413) before it is read
TOO_LARGE = f"Request body too large: the limit is {MAX_BODY_BYTES} bytes."
_LINE_MAX = 1024
_DIGITS = re.compile(r"[0-9]{1,18}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


def _refusal(status: int, message: str) -> httpx.Response:
    """An error answer in Zoom's JSON shape."""
    return httpx.Response(status, json={"code": status, "message": message})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request is normal here (drops, timeouts): log quietly."""
        log.debug("sandbox http: connection from %s ended abruptly", client_address, exc_info=True)

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        """Cut every open connection, as a server going down does (keep-alive ones too)."""
        with self._open_lock:
            open_now = list(self._open)
        for connection in open_now:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves many requests
    server: _Server

    def _answer(self) -> None:
        content = self._read_body()
        if isinstance(content, httpx.Response):
            self.close_connection = True  # what is left of the body is never read
            self._send(content)
            return
        host = self.headers.get("Host") or f"{DEFAULT_HOST}:{self.server.server_port}"
        request = httpx.Request(
            self.command,
            f"http://{host}{self.path}",
            headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"],
            content=content,
        )
        try:
            response = self.server.sandbox.handle(request)
        except httpx.RemoteProtocolError:
            # an injected drop: vanish without a word, as a broken connection would
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        except Exception:  # a sandbox bug: answer like a server error, keep serving
            log.exception("sandbox failed on %s %s", self.command, self.path)
            response = httpx.Response(500, json={"code": 500, "message": "Internal Server Error."})
        self._send(response)

    def _send(self, response: httpx.Response) -> None:
        body = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _read_body(self) -> bytes | httpx.Response:
        """The request body, at most MAX_BODY_BYTES, or the error answer: 413 when it is larger
        (known from Content-Length before a byte is read, or as the chunks come), 400 when the
        length is not a plain number or the chunks are malformed."""
        lengths = self.headers.get_all("Content-Length") or []
        encoding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if encoding:
            if encoding != "chunked" or lengths:
                return _refusal(400, "Transfer-Encoding must be chunked, without Content-Length.")
            return self._read_chunks()
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not _DIGITS.fullmatch(lengths[0].strip()):
            return _refusal(400, "Content-Length must be one whole number of bytes.")
        length = int(lengths[0])
        if length > MAX_BODY_BYTES:
            return _refusal(413, TOO_LARGE)
        return self.rfile.read(length) if length else b""

    def _read_chunks(self) -> bytes | httpx.Response:
        """A chunked body, refused (413) as soon as it passes MAX_BODY_BYTES."""
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(_LINE_MAX + 1)
            size_text = line.split(b";", 1)[0].strip()
            if len(line) > _LINE_MAX or not _HEX.fullmatch(size_text):
                return _refusal(400, "Malformed chunked body.")
            size = int(size_text, 16)
            total += size
            if total > MAX_BODY_BYTES:
                return _refusal(413, TOO_LARGE)
            if size == 0:
                while self.rfile.readline(_LINE_MAX + 1) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields, ignored
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(_LINE_MAX + 1)  # the CRLF after the chunk

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox http: " + format, *args)


@contextmanager
def serve(sandbox: Sandbox, host: str = DEFAULT_HOST, port: int = 0) -> Iterator[str]:
    """Serve the sandbox over HTTP while the block runs; yields the base URL.

    >>> with serve(Sandbox.from_dict(data)) as url:   # doctest: +SKIP
    ...     httpx.post(f"{url}/oauth/token", ...)
    """
    server = _Server((host, port), sandbox)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="sandbox-http", daemon=True
    )
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    try:
        yield f"http://{bound_host!s}:{bound_port}"
    finally:
        server.shutdown()
        server.cut_connections()
        server.server_close()
        thread.join(timeout=5)
        deadline = time.monotonic() + DRAIN_S
        while sandbox.inflight and time.monotonic() < deadline:
            time.sleep(0.01)
        sandbox.flush()

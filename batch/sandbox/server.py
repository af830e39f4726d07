"""Serve a Sandbox over real HTTP on 127.0.0.1: a ThreadingHTTPServer in a daemon thread.

The API answers under /v2 and the token endpoint at /oauth/token, like api.zoom.us and
zoom.us. A dropped request (fault injection) closes the socket without an answer. Leaving
`serve()` is a server going down: open connections are cut, requests being answered finish
(their changes saved, their answers lost), so a new `serve()` of the same account file on the
same port is a restart.
"""

from __future__ import annotations

import logging
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
        length = int(self.headers.get("Content-Length") or 0)
        content = self.rfile.read(length) if length else b""
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
        body = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

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

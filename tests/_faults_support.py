"""Broken collectors on 127.0.0.1: a closed port, a black hole, one that answers 500."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from _processes import free_port


class BlackHole:
    """Accepts connections and never answers; ``accepted`` counts them."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])
        self.accepted = threading.Semaphore(0)
        self._open: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._open.append(conn)  # held open, never read from or written to
            self.accepted.release()

    def close(self) -> None:
        self._stop = True
        self._sock.close()
        for conn in self._open:
            conn.close()


class _Failing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts += 1  # type: ignore[attr-defined]
        body = b"collector broken"
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def failing_collector(status: int = 500) -> Iterator[int]:
    """An OTLP/HTTP endpoint that answers every export with ``status`` (500: one the
    exporters retry; 400: one they give up on at once); yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    server.posts = 0  # type: ignore[attr-defined]
    server.status = status  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def collector(kind: str) -> Iterator[str]:
    """The endpoint URL of a broken collector of ``kind``: down, black_hole, errors."""
    if kind == "down":
        yield f"http://127.0.0.1:{free_port()}"  # nothing listens there
    elif kind == "black_hole":
        hole = BlackHole()
        try:
            yield f"http://127.0.0.1:{hole.port}"
        finally:
            hole.close()
    elif kind == "errors":
        with failing_collector() as port:
            yield f"http://127.0.0.1:{port}"
    else:
        raise ValueError(kind)

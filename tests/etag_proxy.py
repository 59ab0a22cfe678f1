"""An HTTP proxy in front of a real S3 server that stands for services whose multipart ETags are made otherwise than
S3's MD5 of the parts' MD5s (R2, Riak CS and others do), or for a link that damages the bytes of some answers.

It forwards each request as it came (method, target, headers, body) and hands the answer back, with the ETag of
every multipart object (``…-N``, in headers and in listings) replaced by another one of the same shape (and put back
in the If-Match of the requests that name it), the first ``damage_gets`` GET bodies with one byte flipped, and, with
``drop_ranges``, every Range header dropped. Whole answers are read before they are passed on: the test objects are
a few MiB.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import socket
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers import LOOPBACK

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"})
_LISTED_ETAG = re.compile(rb"<ETag>(&quot;|\")?([0-9a-f]{32}-[0-9]+)(&quot;|\")?</ETag>")


class EtagProxy:
    """Serves on ``endpoint``; ``rewrite_etags`` and ``damage_gets`` can be changed while it runs."""

    def __init__(
        self, upstream: str, *, rewrite_etags: bool = True, damage_gets: int = 0, drop_ranges: bool = False
    ) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.drop_ranges = drop_ranges
        """Forward GETs without their Range header: the whole object comes back with 200 and no Content-Range, as
        from a server that ignores ranges. Use it before moto_server, which checks no signatures."""
        self.rewrite_etags = rewrite_etags
        self.damage_gets = damage_gets
        self.gets: Counter[str] = Counter()
        """GETs of objects (not listings, not uploads) by path."""
        self._lock = threading.Lock()
        self._originals: dict[str, str] = {}
        """Rewritten ETag → the server's."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                dropped = HOP_BY_HOP | ({"range"} if proxy.drop_ranges else set())
                headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
                for name, value in headers.items():
                    original = proxy._originals.get(value.strip('"'))
                    if name.lower() in ("if-match", "if-none-match") and original:
                        headers[name] = f'"{original}"'
                connection = http.client.HTTPConnection(proxy.upstream, timeout=30)
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                    received = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
                    status, reason = answer.status, answer.reason
                finally:
                    connection.close()
                if self.command == "GET" and status in (200, 206) and "?" not in self.path:
                    with proxy._lock:
                        proxy.gets[self.path] += 1
                        damage = proxy.damage_gets > 0 and len(data) > 0
                        if damage:
                            proxy.damage_gets -= 1
                    if damage:
                        data = bytes([data[0] ^ 0xFF]) + data[1:]
                if proxy.rewrite_etags and b"<ETag>" in data[:1_000_000] and self.command == "GET":
                    data = _LISTED_ETAG.sub(
                        lambda m: b"<ETag>&quot;" + proxy._other(m[2].decode()).encode() + b"&quot;</ETag>", data
                    )
                self.send_response(status, reason)
                for name, value in received:
                    if name.lower() == "etag" and proxy.rewrite_etags:
                        value = '"' + proxy._other(value.strip('"')) + '"'
                    if name.lower() != "content-length" or self.command == "HEAD":
                        self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self._server = _QuietServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://{LOOPBACK}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _other(self, etag: str) -> str:
        """A multipart ETag made otherwise (the MD5 of the one given, same part count); any other as it was."""
        digest, dash, parts = etag.rpartition("-")
        if not dash or not parts.isdigit():
            return etag
        other = f"{hashlib.md5(digest.encode()).hexdigest()}-{parts}"
        with self._lock:
            self._originals[other] = etag
        return other

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> EtagProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        """A client that hung up mid-answer (obstore refusing a whole object it asked a range of) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

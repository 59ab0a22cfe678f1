"""A fault-injecting TCP proxy between a client and a real S3 server, on loopback, in a background thread.

Modes change at runtime from any thread: pass, drop a connection after N bytes (once, or on every K-th
connection), delay every chunk, black-hole (accept and stop moving bytes) for a while, and, HTTP-aware,
answer a share of requests with an S3 error (``503 SlowDown``, ``429``, ``403 SignatureDoesNotMatch``).

The client→server direction is parsed as HTTP/1.1 (request line, headers, Content-Length body; obstore uses
keep-alive and Content-Length, never pipelining), which is what lets the proxy count requests and answer one
itself while the connection stays usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"
READ_SIZE = 64 * 1024
POLL_S = 0.02
"""How often a frozen pump looks whether the black hole has ended (internal to the proxy)."""

_REASONS = {403: "Forbidden", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


class _Dropped(Exception):
    """The drop mode cut this connection."""


@dataclass
class HttpFault:
    """Answer ``share`` of the matching requests with ``status`` and an S3 XML error ``code``."""

    share: float
    status: int = 503
    code: str = "SlowDown"
    methods: frozenset[str] | None = None
    """Only these methods (e.g. ``{"PUT"}``); None: every request."""
    retry_after: int | None = None
    target_contains: str | None = None
    """Only requests whose target (path and query) contains this, e.g. ``uploadId=``."""
    times: int | None = None
    """Answer at most this many requests; None: no limit."""
    rng: random.Random = field(default_factory=lambda: random.Random(5))

    def hits(self, method: str, target: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if self.target_contains is not None and self.target_contains not in target:
            return False
        if self.times is not None and self.times <= 0:
            return False
        hit = self.rng.random() < self.share
        if hit and self.times is not None:
            self.times -= 1
        return hit

    def response(self) -> bytes:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>injected by the test proxy</Message>"
            "<RequestId>fault-proxy</RequestId></Error>"
        ).encode()
        headers = [
            f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Error')}",
            "Content-Type: application/xml",
            f"Content-Length: {len(body)}",
            "x-amz-request-id: fault-proxy",
        ]
        if self.retry_after is not None:
            headers.append(f"Retry-After: {self.retry_after}")
        return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


@dataclass
class DropRule:
    """Cut every ``every``-th new connection after ``after_bytes`` bytes (both directions), ``times`` times."""

    after_bytes: int
    every: int = 1
    times: int | None = None


class _Connection:
    def __init__(self, index: int, drop_at: int | None) -> None:
        self.index = index
        self.drop_at = drop_at
        self.moved = 0
        self.writers: list[asyncio.StreamWriter] = []

    def abort(self) -> None:
        for writer in self.writers:
            writer.transport.abort()


class FaultProxy:
    """Listens on 127.0.0.1:<free port> and forwards to ``upstream``; ``close`` ends every socket and the thread."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        """connections, requests, bytes_up, bytes_down, and one key per injected fault kind."""
        self.request_log: list[str] = []
        self.bytes_down_at_request: list[int] = []
        """For each request of ``request_log``: how many bytes had gone to the client when it came."""
        self._drop: DropRule | None = None
        self._drops_done = 0
        self._delay_s = 0.0
        self._black_hole_until = 0.0
        self._hole_trigger: tuple[int, float] | None = None
        self.hole_opened = threading.Event()
        """Set when a black hole armed by ``black_hole_after`` opens; ``hole_opened_at`` says when."""
        self.hole_opened_at = 0.0
        self._http_fault: HttpFault | None = None
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=10)
        return self

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, LOOPBACK, 0)
        return int(self._server.sockets[0].getsockname()[1])

    def close(self) -> None:
        """Stop listening, abort every connection, stop the loop and join its thread."""
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # -- modes (any thread) ----------------------------------------------------------------------------------

    def pass_through(self) -> None:
        """Forward everything untouched from now on (ends drops, delay, black hole and HTTP faults)."""
        with self._lock:
            self._drop = None
            self._delay_s = 0.0
            self._black_hole_until = 0.0
            self._hole_trigger = None
            self._http_fault = None

    def drop_after(self, after_bytes: int, *, every: int = 1, times: int | None = None) -> None:
        """Cut new connections after ``after_bytes`` bytes: every ``every``-th one, ``times`` times in all."""
        with self._lock:
            self._drop = DropRule(after_bytes, every, times)
            self._drops_done = 0

    def delay(self, seconds: float) -> None:
        """Hold every forwarded chunk for ``seconds`` (0 to stop)."""
        with self._lock:
            self._delay_s = seconds

    def black_hole(self, seconds: float) -> None:
        """Accept, but move no byte in either direction, for ``seconds`` from now (0 to end it)."""
        with self._lock:
            self._black_hole_until = time.monotonic() + seconds if seconds > 0 else 0.0
            if seconds > 0:
                self.counters["black-hole"] += 1

    def black_hole_after(self, after_bytes: int, seconds: float) -> None:
        """Open a black hole of ``seconds`` once ``after_bytes`` more bytes (both directions) have passed."""
        with self._lock:
            self._hole_trigger = (self.counters["bytes_up"] + self.counters["bytes_down"] + after_bytes, seconds)
            self.hole_opened.clear()

    def http_faults(self, fault: HttpFault | None) -> None:
        """Answer a share of requests with an S3 error instead of forwarding them (None to stop)."""
        with self._lock:
            self._http_fault = fault

    def count(self, key: str) -> int:
        with self._lock:
            return self.counters[key]

    def wait_for(self, predicate: Callable[[FaultProxy], bool], timeout: float) -> bool:
        """Poll ``predicate`` until it holds or ``timeout`` passes (for conditions only the proxy sees)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(POLL_S)
        return predicate(self)

    # -- forwarding (event loop thread) ----------------------------------------------------------------------

    def _new_connection(self) -> _Connection:
        with self._lock:
            self.counters["connections"] += 1
            index = self.counters["connections"]
            rule = self._drop
            drop_at = None
            if rule is not None and index % rule.every == 0 and (rule.times is None or self._drops_done < rule.times):
                drop_at = rule.after_bytes
                self._drops_done += 1
        return _Connection(index, drop_at)

    async def _flowing(self) -> None:
        while True:
            with self._lock:
                frozen = time.monotonic() < self._black_hole_until
                delay = self._delay_s
            if not frozen:
                break
            await asyncio.sleep(POLL_S)
        if delay:
            await asyncio.sleep(delay)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        connection = self._new_connection()
        connection.writers.append(client_writer)
        self._connections.add(connection)
        try:
            await self._flowing()
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                with self._lock:
                    self.counters["upstream-refused"] += 1
                return
            connection.writers.append(upstream_writer)
            up = asyncio.create_task(self._requests(connection, client_reader, upstream_writer, client_writer))
            down = asyncio.create_task(self._pump(connection, upstream_reader, client_writer, "bytes_down"))
            try:
                await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in (up, down):
                    pump.cancel()
                await asyncio.gather(up, down, return_exceptions=True)
        except asyncio.CancelledError:
            pass
        finally:
            connection.abort()
            self._connections.discard(connection)
            self._tasks.discard(task)

    async def _read(self, reader: asyncio.StreamReader) -> bytes:
        await self._flowing()
        try:
            return await reader.read(READ_SIZE)
        except OSError:
            return b""

    async def _forward(self, connection: _Connection, writer: asyncio.StreamWriter, data: bytes, counter: str) -> None:
        await self._flowing()
        if connection.drop_at is not None and connection.moved + len(data) >= connection.drop_at:
            writer.write(data[: max(connection.drop_at - connection.moved, 0)])
            with contextlib.suppress(OSError):
                await writer.drain()
            with self._lock:
                self.counters["drop"] += 1
            connection.abort()
            raise _Dropped
        connection.moved += len(data)
        with self._lock:
            self.counters[counter] += len(data)
            trigger = self._hole_trigger
            if trigger is not None and self.counters["bytes_up"] + self.counters["bytes_down"] >= trigger[0]:
                self._hole_trigger = None
                self.hole_opened_at = time.monotonic()
                self._black_hole_until = self.hole_opened_at + trigger[1]
                self.counters["black-hole"] += 1
                self.hole_opened.set()
        writer.write(data)
        await writer.drain()

    async def _pump(
        self, connection: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counter: str
    ) -> None:
        with contextlib.suppress(_Dropped, OSError):
            while data := await self._read(reader):
                await self._forward(connection, writer, data, counter)

    async def _requests(
        self,
        connection: _Connection,
        reader: asyncio.StreamReader,
        upstream: asyncio.StreamWriter,
        client: asyncio.StreamWriter,
    ) -> None:
        """Client → server, one HTTP request at a time: forward it, or answer it with an injected error."""
        buffer = b""
        with contextlib.suppress(_Dropped, OSError):
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = await self._read(reader)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                method, target, length = _parse_head(head)
                with self._lock:
                    self.counters["requests"] += 1
                    self.request_log.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
                    self.bytes_down_at_request.append(self.counters["bytes_down"])
                    hit = self._http_fault is not None and self._http_fault.hits(method, target)
                    fault = self._http_fault if hit else None
                inject = fault is not None
                if not inject:
                    await self._forward(connection, upstream, head + b"\r\n\r\n", "bytes_up")
                remaining = length
                while remaining > 0:
                    if not buffer:
                        buffer = await self._read(reader)
                        if not buffer:
                            return
                    piece, buffer = buffer[:remaining], buffer[remaining:]
                    remaining -= len(piece)
                    if not inject:
                        await self._forward(connection, upstream, piece, "bytes_up")
                if fault is not None:
                    with self._lock:
                        self.counters[f"http-{fault.status}"] += 1
                    client.write(fault.response())
                    await client.drain()


def _parse_head(head: bytes) -> tuple[str, str, int]:
    """The method, target and Content-Length of one request head (chunked bodies are not used by obstore)."""
    lines = head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" ", 1)[0]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            raise ValueError("the fault proxy does not parse chunked request bodies")
    return method, target, length

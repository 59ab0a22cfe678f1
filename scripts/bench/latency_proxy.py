"""A TCP proxy on loopback that delays every chunk, in each direction, by a fixed time (10 ms by default).

Kernel netem is not available here, so this stands in for a far-away server: each request pays the delay on its
way out and again on the answer's way back. Chunks are forwarded in order and pipelined (a chunk waits only for
its own delay), so the delay adds latency without capping throughput.

    python -m scripts.bench.latency_proxy --target-port 9000 [--listen-port 0] [--delay-ms 10]

It prints the port it listens on as its first line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
from pathlib import Path

from .servers import ROOT, BenchError, pdeath_prefix

CHUNK = 256 * 1024


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay_s: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=64)  # at most 16 MiB held per direction

    async def read() -> None:
        while data := await reader.read(CHUNK):
            await queue.put((loop.time() + delay_s, data))
        await queue.put((loop.time() + delay_s, b""))

    reading = asyncio.create_task(read())
    try:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await reading


async def _handle(
    client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter, target_port: int, delay_s: float
) -> None:
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(_pump(client_reader, server_writer, delay_s), _pump(server_reader, client_writer, delay_s))
    except (ConnectionError, OSError):
        pass
    finally:
        for w in (client_writer, server_writer):
            w.close()
            with contextlib.suppress(ConnectionError, OSError):
                await w.wait_closed()


async def serve(target_port: int, listen_port: int, delay_s: float) -> None:
    server = await asyncio.start_server(
        lambda r, w: _handle(r, w, target_port, delay_s), "127.0.0.1", listen_port, backlog=1024
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


class LatencyProxy:
    """This module run as a subprocess in front of one server's port; ``url`` is what the clients dial instead."""

    def __init__(self, target_port: int, delay_ms: float, log: Path) -> None:
        self.target_port = target_port
        self.delay_ms = delay_ms
        self.log = log
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        cmd = [*pdeath_prefix(), sys.executable, "-m", "scripts.bench.latency_proxy"]
        cmd += ["--target-port", str(self.target_port), "--delay-ms", str(self.delay_ms)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise BenchError(f"the latency proxy did not start; see {self.log}")
        self.port = int(line)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--listen-port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.target_port, args.listen_port, args.delay_ms / 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
